"""Settings read from the environment; production refuses to start misconfigured."""

import os
import subprocess
import sys

from tests.conftest import ROOT

PROD_KEY = "k" * 20 + "-production-secret-for-the-check-deploy-test-0123456789"
# Set by the test harness (browser tests), never by an operator: not part of a production env.
HARNESS_ONLY = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", *HARNESS_ONLY}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="quizsite.settings")
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )


def test_production_without_secret_key_refuses_to_start():
    done = run_django("print('started')", DEBUG="0", ALLOWED_HOSTS="quiz.example.org")
    assert done.returncode != 0
    assert "started" not in done.stdout
    assert "SECRET_KEY is not set" in done.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    done = run_django("print('started')", DEBUG="0", SECRET_KEY=PROD_KEY)
    assert done.returncode != 0
    assert "ALLOWED_HOSTS is empty" in done.stderr


def test_malformed_boolean_is_rejected_with_its_name():
    done = run_django("print('started')", DEBUG="maybe", SECRET_KEY=PROD_KEY)
    assert done.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in done.stderr


def test_debug_runs_without_secret_key_and_embedded_defaults():
    done = run_django(
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)",
        DEBUG="1", DATABASE_URL="", REDIS_URL="",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_production_settings_pass_check_deploy_without_warnings():
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", *HARNESS_ONLY}}
    clean.update(
        DJANGO_SETTINGS_MODULE="quizsite.settings", DEBUG="0", SECRET_KEY=PROD_KEY,
        ALLOWED_HOSTS="quiz.example.org",
    )
    for name in ("SECURE_SSL_REDIRECT", "SECURE_COOKIES", "SECURE_HSTS_SECONDS"):
        clean.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
