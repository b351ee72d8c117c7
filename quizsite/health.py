"""`/healthz`: the web process, the database, the broker and the workers, each reported on its own.

Policy (what a load balancer or `docker compose` reads from the status code):

* **200** while this process can serve pages: it answers and the database does. The body's
  `status` is `ok` when everything is up, `degraded` when the broker or the workers are not:
  pages that need no new problem variant still work, answers are stored and graded once the
  worker is back (the sweep), so taking the web out of rotation would only make things worse.
* **503** when the database does not answer: no page can be served.

Every check is bounded (a fraction of a second each), and the broker and worker checks are
cached for `HEALTH_CACHE_SECONDS`, so a health check every second costs the broker little.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from quizsite.celery import app as celery_app

CHECK_TIMEOUT_SECONDS = 0.5
CACHE_KEY = "healthz:broker-workers"


def _timed(check) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = check() or {}
        ok = True
    except Exception as exc:  # any failure is the finding: report it, never raise
        result, ok = {"error": f"{type(exc).__name__}: {exc}"[:300]}, False
    return {"ok": ok, "ms": round((time.perf_counter() - start) * 1000, 1), **result}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
    return {}


def _workers() -> dict[str, Any]:
    """The workers that answered, and the queues each consumes; an expected queue nobody
    consumes is a failure (its tasks would wait)."""
    replies = celery_app.control.inspect(timeout=CHECK_TIMEOUT_SECONDS).active_queues() or {}
    consumed: dict[str, list[str]] = {}
    for worker, queues in replies.items():
        for queue in queues or []:
            consumed.setdefault(queue["name"], []).append(worker)
    missing = [q for q in settings.HEALTH_EXPECTED_QUEUES if q not in consumed]
    if missing:
        raise RuntimeError(f"no worker consumes {', '.join(missing)} ({len(replies)} worker(s) answered)")
    return {"workers": sorted(replies), "queues": {q: len(w) for q, w in sorted(consumed.items())}}


def _broker_and_workers() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:  # embedded mode: tasks run in the web process
        in_process = {"ok": True, "ms": 0.0, "mode": "in-process"}
        return {"broker": in_process, "workers": in_process}
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    broker = _timed(_broker)
    workers = _timed(_workers) if broker["ok"] else {"ok": False, "ms": 0.0, "error": "the broker is down"}
    checks = {"broker": broker, "workers": workers}
    cache.set(CACHE_KEY, checks, settings.HEALTH_CACHE_SECONDS)
    return checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"web": {"ok": True}, "database": _timed(_database)}
    if checks["database"]["ok"]:
        checks.update(_broker_and_workers())
    else:  # without the database nothing is served; do not spend time on the rest
        skipped = {"ok": False, "ms": 0.0, "error": "not checked: the database is down"}
        checks.update(broker=skipped, workers=skipped)
    if not checks["database"]["ok"]:
        status, code = "down", 503
    elif all(check["ok"] for check in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)
