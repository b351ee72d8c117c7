"""`/healthz` reports web, database, broker and workers separately, with the 200/503 policy of
quizsite/health.py: 503 only when the database is down, `degraded` (200) when the broker or the
workers are."""

import pytest
from django.core.cache import cache
from django.db.utils import OperationalError
from django.test import override_settings

from quizsite import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.delete(health.CACHE_KEY)
    yield
    cache.delete(health.CACHE_KEY)


def test_embedded_mode_is_ok_with_tasks_in_process(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"web", "database", "broker", "workers"}
    assert body["checks"]["workers"]["mode"] == "in-process"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_database_down_is_503_and_says_which(client, monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "down"
    assert body["checks"]["database"]["ok"] is False and "connection refused" in body["checks"]["database"]["error"]
    assert body["checks"]["web"]["ok"] is True


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_broker_down_is_degraded_not_503(client, monkeypatch):
    def refused():
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:1")

    monkeypatch.setattr(health, "_broker", refused)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False and "111" in body["checks"]["broker"]["error"]
    assert body["checks"]["workers"] == {"ok": False, "ms": 0.0, "error": "the broker is down"}


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, HEALTH_EXPECTED_QUEUES=["grading", "bulk"])
def test_a_queue_nobody_consumes_is_named(client, monkeypatch):
    class Inspect:
        def active_queues(self):
            return {"grading@host": [{"name": "grading"}]}

    monkeypatch.setattr(health, "_broker", lambda: {})
    monkeypatch.setattr(health.celery_app.control, "inspect", lambda timeout: Inspect())
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert "no worker consumes bulk" in body["checks"]["workers"]["error"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, HEALTH_EXPECTED_QUEUES=["grading", "bulk"])
def test_workers_for_every_queue_are_ok_and_the_answer_is_cached(client, monkeypatch):
    calls = []

    class Inspect:
        def active_queues(self):
            calls.append(1)
            return {"grading@a": [{"name": "grading"}], "bulk@a": [{"name": "bulk"}, {"name": "gpu"}]}

    monkeypatch.setattr(health, "_broker", lambda: {})
    monkeypatch.setattr(health.celery_app.control, "inspect", lambda timeout: Inspect())
    first = client.get("/healthz").json()
    assert first["status"] == "ok"
    assert first["checks"]["workers"]["queues"] == {"bulk": 1, "gpu": 1, "grading": 1}
    client.get("/healthz")
    assert len(calls) == 1  # the second check read the cache
