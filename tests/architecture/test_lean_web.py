"""A web process never imports torch (issue #12): importing every URL module and rendering the main
pages, for a learner and an instructor, leaves `torch` out of `sys.modules`.

torch (about 250 MB per process) is the worker's: it came into every gunicorn worker and beat
through `fsrs`'s optimizer (see questions/learning/spacing.py). The pages run in a fresh
interpreter, on a database that a first process (which may import torch) filled with the demo
data, practice items and a graded answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SEED = """
import django
django.setup()
from django.core.management import call_command
from django.test import TestCase
from django.contrib.auth import get_user_model
from questions.practice import services as practice_services
from questions.practice import jobs as practice_jobs
call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0, per_kind=1)
demo = get_user_model().objects.get(username="demo")
numeric = practice_services.practice_item_create_numeric(learner=demo, kind="self_attention", difficulty="easy")
theory = practice_services.practice_item_create_for_topic(learner=demo, topic_slug="scaling")
answer = numeric.variant.data["answer"]
with TestCase.captureOnCommitCallbacks(execute=True):
    made = practice_services.submission_create(learner=demo, item=numeric, answer=answer).submission
print(numeric.id, theory.id, made.id)
"""

PAGES = """
import sys
import django
django.setup()
from django.test import Client
from django.urls import get_resolver
from django.contrib.auth import get_user_model
import importlib

numeric, theory, submission = map(int, sys.argv[1:4])
modules = set()
def walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            walk(p.url_patterns)
        else:
            modules.add(getattr(p.callback, "__module__", ""))
walk(get_resolver().url_patterns)
for name in sorted(m for m in modules if m):
    importlib.import_module(name)

statuses = {}
users = get_user_model().objects
for who, paths in {
    "demo": ["/", f"/practice/items/{numeric}/", f"/practice/items/{theory}/",
             f"/practice/submissions/{submission}/result", "/reviews/", "/mock/", "/courses/",
             "/api/v1/kinds", "/api/v1/topics", f"/api/v1/practice/items/{numeric}",
             f"/api/v1/submissions/{submission}", "/api/v1/reviews", "/healthz"],
    "teacher": ["/courses/", "/author/", "/author/questions/new", "/api/v1/courses"],
}.items():
    client = Client()
    client.force_login(users.get(username=who))
    for path in paths:
        statuses[path] = client.get(path).status_code
for path in [f"/quizzes/{q}/" for q in __import__("questions.courses.models", fromlist=["Quiz"]).Quiz.objects.values_list("id", flat=True)]:
    client = Client()
    client.force_login(users.get(username="teacher"))
    statuses[path] = client.get(path).status_code
print(__import__("json").dumps({"statuses": statuses, "modules": sorted(modules),
                                 "torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))[:5]}))
"""


def test_serving_the_main_pages_never_imports_torch(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="quizsite.settings",
               DATABASE_URL=f"sqlite:///{tmp_path / 'lean.sqlite3'}", PYTHONPATH=str(ROOT))
    seeded = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    ids = seeded.stdout.split()[-3:]
    served = subprocess.run([sys.executable, "-c", PAGES, *ids], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert served.returncode == 0, served.stderr[-3000:]
    report = json.loads(served.stdout.strip().splitlines()[-1])
    assert len(report["modules"]) >= 8  # every view module was imported, pages and API
    failed = {path: status for path, status in report["statuses"].items() if status != 200}
    assert failed == {}, failed
    assert report["torch"] == [], f"a web process imported torch: {report['torch']}"
