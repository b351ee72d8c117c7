"""Shared fixtures: users, items, and the real services (PostgreSQL, Redis, a Celery worker).

Service tests skip when a service is missing, except under REQUIRE_SERVICES=1 (CI), where a
missing service fails the run instead.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from questions.catalogue import services as catalogue_services
from questions.practice import services as practice_services

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sandboxed():
    """The code sandbox can run here (``bwrap``; a failure, not a skip, with REQUIRE_SERVICES=1);
    the warm sandboxes a module started are closed after it."""
    from attention_engine.code import sandbox

    reason = sandbox.available()
    if reason:
        service_missing(f"the sandbox cannot run here: {reason}")
    yield
    sandbox.POOL.close()


@pytest.fixture
def learner(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="s3cret-pass-word")


@pytest.fixture
def other_learner(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="s3cret-pass-word")


@pytest.fixture
def numeric_item(learner):
    """A practice item holding a real, engine-made self-attention variant."""

    return practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")


@pytest.fixture
def bank(db):
    """The real theory bank (questions/bank), loaded into the test database."""

    return catalogue_services.bank_load(path=ROOT / "questions" / "bank")


@pytest.fixture
def client_for():
    """An API client logged in with the user's token (as a real client would be)."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        response = client.post(
            "/api/v1/auth/token", {"username": user.username, "password": "s3cret-pass-word"}, format="json"
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client

    return make


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def postgres(transactional_db):
    """The test database, which must be PostgreSQL (the worker process shares it)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("integration tests need DATABASE_URL to name a PostgreSQL database")
    return connection.settings_dict


@pytest.fixture
def redis_client():
    import redis
    from django.conf import settings

    if not settings.REDIS_URL:
        service_missing("integration tests need REDIS_URL")
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        service_missing(f"Redis at {settings.REDIS_URL} does not answer")
    client.flushdb()  # the test Redis database holds nothing but this run's queues
    yield client
    client.flushdb()


@pytest.fixture
def broker(redis_client):
    """Publish tasks to the real Redis broker instead of running them in-process."""
    from quizsite.celery import app

    # With the CELERY_ namespace, the prefixed key is the one Celery reads back.
    previous = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert app.conf.task_always_eager is False
    yield app
    app.conf.CELERY_TASK_ALWAYS_EAGER = previous


class WorkerProcess:
    """A real `celery worker` child process, on the test database and the test Redis."""

    def __init__(self, db: dict, log_path: Path) -> None:
        self.db = db
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        db = self.db
        env = dict(os.environ)
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env["DJANGO_SETTINGS_MODULE"] = "quizsite.settings_test"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "quizsite", "worker", "-Q", "grading,bulk,code",
             "-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test-{os.getpid()}@%h", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_process(postgres, broker, tmp_path):
    """A factory-like handle: the test decides when the worker starts (and may kill it)."""
    worker = WorkerProcess(postgres, tmp_path / "worker.log")
    yield worker
    worker.stop()
