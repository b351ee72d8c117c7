"""python -m bench.stack: issue #12's figures, measured on the whole stack as `make up` runs it.

It starts its own stack and stops it at the end (also on failure or Ctrl-C): a Redis on a free
port, a scratch PostgreSQL database (created, migrated, the bank loaded, dropped), gunicorn
(`quizsite.wsgi`, 2 gthread workers of 16 threads, DEBUG off), a Celery worker for `grading` (prefork, 2 processes), one
for `bulk` (1 process), one for `code` (1 process: learner code, in bubblewrap) and beat. Request rates are raised (THROTTLE_*): this measures the stack,
not the limits. Then, in one run:

- the floor: a no-op Celery task round trip (`bench.stack_tasks.noop`, run by the grading worker)
  on the same Redis: p50/p99, and tasks/s with 1 and 8 clients;
- submit -> graded at 1, 8 and 32 concurrent learners, each in a loop: a practice item
  (`POST /api/v1/practice/items`; a 202 is retried after Retry-After), the right answer (the key
  read from the database), then `GET /api/v1/submissions/{id}?wait=5` (the long poll the page
  uses; `--short-poll` polls every 10-250 ms instead) until graded. Times from the database
  (`Submission.created_at` -> `graded_at`) and as the client sees them; graded/s;
- code answers (issue #14): one learner, one answer at a time, for a NumPy and a PyTorch code
  exercise: "Run examples" with the model solution (`POST .../run`, the request waits for the
  code worker's sandbox), then Submit and the long poll until graded; client and database
  times, and every answer must be graded 1;
- the class start at 50, 150 and 300 learners: a course, a quiz of 3 numeric sections, learners
  who joined with the join code before it opened; the quiz is opened through the API, the bulk
  worker's preparation of the variants timed (the Variant rows of every learner's seeds), then
  every learner starts an attempt at the same moment (a 202 is retried after Retry-After):
  time to a displayable first question, p50/p99/max, errors;
- six faults, each under a steady stream of learners answering: a grading worker child killed
  with -9, the whole grading worker killed with -9 and restarted, Redis restarted (nothing
  saved), every database connection terminated, the grading worker stopped (SIGSTOP, 30 s) and
  the web paused (SIGSTOP on gunicorn). For each: submissions sent, lost (accepted, never
  graded within 60 s of the fault's end), doubled (graded more than once: a trigger on the
  scratch database records every committed change of a submission's grade; checked at the end
  against the graded rows and with a control, one answer set back to pending and graded again),
  5xx (a 503 with Retry-After that stored nothing is the API's designed refusal and is counted
  apart), submit -> graded p50/p99/max and the recovery time (from the fault's end until every
  answer sent before it is graded).

Prints a table (ratios to the floor beside the figures) and writes
bench/results/stack-<UTC time>.json. `--quick` (or QUICK=1): fewer learners, shorter faults,
for CI; it fails (exit 1) only when an answer is lost or doubled, a response is an unexpected
5xx (`--strict-503`: any 5xx), a fault could not be injected, the double-grade detector is
blind or a right code answer is not graded 1. Timing is reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("STACK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "stack-bench-pass-7q2"
# Practice items rotate over these kinds and difficulties (30 stocks of VARIANT_STOCK_TARGET).
PRACTICE_KINDS = ("self_attention", "qkv_pipeline", "causal_mask", "padding_mask", "cross_attention",
                  "by_hand", "multihead_shapes", "softmax_stability", "layer_norm", "sinusoidal_positions")
DIFFICULTIES = ("easy", "medium", "hard")
QUIZ_SECTIONS = ({"kind": "self_attention", "difficulty": "medium"}, {"kind": "causal_mask", "difficulty": "medium"},
                 {"kind": "qkv_pipeline", "difficulty": "medium"})
HTTP_TIMEOUT = 60.0  # longer than any fault: a paused web is waited for, not an error
LOST_DEADLINE = 60.0
LONG_POLL_WAIT = 5  # seconds a poll may wait for the grade (`GET /api/v1/submissions/{id}?wait=`)  # an answer accepted but not graded this long after the fault's end is lost


@dataclass(frozen=True)
class Plan:
    quick: bool
    floor_tasks: int
    learners: tuple[int, ...]
    e2e_seconds: float
    classes: tuple[int, ...]
    fault_learners: int
    before: float  # seconds of load before each fault
    after: float  # and after its end
    worker_stop: float
    web_pause: float
    code_answers: int  # right code answers per framework, one learner, one at a time


FULL = Plan(quick=False, floor_tasks=400, learners=(1, 8, 32), e2e_seconds=20, classes=(50, 150, 300),
            fault_learners=8, before=5, after=10, worker_stop=30, web_pause=5, code_answers=15)
QUICK = Plan(quick=True, floor_tasks=150, learners=(1, 8), e2e_seconds=6, classes=(30,),
             fault_learners=4, before=2, after=4, worker_stop=8, web_pause=2, code_answers=4)


def pct(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def spread(values: list[float]) -> dict[str, Any]:
    """p50/p99/max in milliseconds, and the count."""
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": _r(pct(ms, 50)), "p99_ms": _r(pct(ms, 99)), "max_ms": _r(max(ms) if ms else None)}


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The stack ----------------------------------------------------------------------------------


class Proc:
    """A process the bench started, in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}-{time.strftime('%H%M%S')}-{secrets.token_hex(2)}.log"
        self._out = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def children(self) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 15) -> None:
        self.signal_group(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.signal_group(signal.SIGKILL)  # and whatever of its group is left (orphaned pool children)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._out.close()

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Stack:
    """Redis, a scratch database, gunicorn, the two workers and beat; every process stoppable,
    and the ones the faults hit restartable."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.procs: dict[str, Proc] = {}
        self.retired: list[Proc] = []
        self.redis_port = free_port()
        self.web_port = free_port()
        self.db_name = f"bench_stack_{os.getpid()}_{secrets.token_hex(2)}"
        self.db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base = f"http://127.0.0.1:{self.web_port}"
        self._admin = None
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "QUICK")}
        env.update(
            DJANGO_SETTINGS_MODULE="quizsite.settings", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", SECURE_HSTS_SECONDS="0",
            DATABASE_URL=self.db_url, REDIS_URL=self.redis_url, VAR_DIR=str(tmp / "var"),
            STATIC_ROOT=str(tmp / "static"), PYTHONPATH=str(ROOT), LOG_LEVEL="INFO",
            THROTTLE_SIGN_IN="100000/minute", THROTTLE_ANSWERS="100000/minute",
            THROTTLE_CREATIONS="100000/minute", THROTTLE_ITEMS="100000/minute", LOGIN_FAILURE_LIMIT="100000",
        )
        self.env = env

    # database
    def admin(self):
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True,
                                          connect_timeout=5)
        return self._admin

    def create_database(self) -> None:
        self.admin().execute(f'CREATE DATABASE "{self.db_name}"')

    def drop_database(self) -> None:
        try:
            self.admin().execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            if self._admin is not None:
                self._admin.close()

    def terminate_connections(self) -> int:
        rows = self.admin().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.db_name,),
        ).fetchall()
        return sum(1 for (ok,) in rows if ok)

    def manage(self, *args: str) -> None:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")

    # processes
    def start(self, name: str, argv: list[str]) -> Proc:
        old = self.procs.get(name)
        if old is not None:
            self.retired.append(old)
        proc = Proc(name, argv, self.env, self.logs)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> None:
        self.start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(self.tmp)])
        wait_for(lambda: _redis_ping(self.redis_url), 20, "redis", self.procs["redis"])

    def redis_kill(self) -> None:
        """Redis down at once, nothing saved (the queue and the unacknowledged messages are gone)."""
        proc = self.procs["redis"]
        proc.signal_group(signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def start_grading(self) -> Proc:
        proc = self.start("grading", [str(BIN / "celery"), "-A", "quizsite", "worker", "-Q", "grading", "-c", "2",
                                      "-n", "grading@%h", "-I", "bench.stack_tasks", "--loglevel", "INFO"])
        wait_for(lambda: "ready." in proc.tail(20000), 120, "the grading worker", proc)
        return proc

    def start_all(self) -> None:
        self.start_redis()
        self.create_database()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        self.manage("load_bank")
        self.install_grade_audit()
        bulk = self.start("bulk", [str(BIN / "celery"), "-A", "quizsite", "worker", "-Q", "bulk", "-c", "1",
                                   "-n", "bulk@%h", "--loglevel", "INFO"])
        self.start("beat", [str(BIN / "celery"), "-A", "quizsite", "beat", "--loglevel", "INFO",
                            "--schedule", str(self.tmp / "celerybeat-schedule")])
        web = self.start("web", [str(BIN / "gunicorn"), "quizsite.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                                 "--workers", "2", "--worker-class", "gthread", "--threads", "16",
                                 "--access-logfile", "-"])
        code = self.start("code", [str(BIN / "celery"), "-A", "quizsite", "worker", "-Q", "code", "-c", "1",
                                   "-n", "code@%h", "--loglevel", "INFO"])
        self.start_grading()
        wait_for(lambda: "ready." in bulk.tail(20000), 120, "the bulk worker", bulk)
        wait_for(lambda: "ready." in code.tail(20000), 120, "the code worker", code)
        wait_for(lambda: _http_ok(f"{self.base}/healthz"), 120, "gunicorn", web)

    def stop_all(self) -> None:
        for proc in [*self.procs.values(), *self.retired]:
            proc.stop()

    def install_grade_audit(self) -> None:
        """A trigger on the scratch database: every committed change of a submission's grade is a
        row, so an answer graded twice shows as two rows (the product's tables cannot show it:
        a second grade would overwrite the first)."""
        import psycopg

        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute("""
                CREATE TABLE bench_grade_audit (
                    submission_id bigint NOT NULL, status text NOT NULL, graded_at timestamptz,
                    at timestamptz NOT NULL DEFAULT clock_timestamp());
                CREATE INDEX ON bench_grade_audit (submission_id);
                CREATE FUNCTION bench_grade_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.status IS DISTINCT FROM OLD.status OR NEW.graded_at IS DISTINCT FROM OLD.graded_at THEN
                        INSERT INTO bench_grade_audit (submission_id, status, graded_at)
                        VALUES (NEW.id, NEW.status, NEW.graded_at);
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER bench_grade_audit AFTER UPDATE ON questions_submission
                    FOR EACH ROW EXECUTE FUNCTION bench_grade_audit();
            """)


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:
        return False


def wait_for(check: Callable[[], bool], seconds: float, what: str, proc: Proc | None = None) -> float:
    start = time.monotonic()
    while not check():
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what} exited; its log:\n{proc.tail()}")
        if time.monotonic() - start > seconds:
            raise RuntimeError(f"{what} not ready after {seconds:.0f} s" + (f"; its log:\n{proc.tail()}" if proc else ""))
        time.sleep(0.1)
    return time.monotonic() - start


# --- The database, read by the bench ------------------------------------------------------------


class Db:
    """One connection of the bench's own, shared by its threads under a lock, reconnected when a
    fault terminated it (raw SQL: the load threads never open connections of their own)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://")
        self.lock = threading.Lock()
        self.conn = None

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        import psycopg

        with self.lock:
            for attempt in range(20):
                try:
                    if self.conn is None or self.conn.closed:
                        self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                    return self.conn.execute(sql, params).fetchall()
                except psycopg.OperationalError:
                    if self.conn is not None:
                        self.conn.close()
                    self.conn = None
                    if attempt == 19:
                        raise
                    time.sleep(0.2)
        return []

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def key_of_item(self, item_id: int) -> dict[str, Any]:
        rows = self.query("SELECT v.data->'answer' FROM questions_practiceitem i "
                          "JOIN questions_variant v ON v.id = i.variant_id WHERE i.id = %s", (item_id,))
        return rows[0][0]

    def submissions(self, ids: list[int]) -> dict[int, tuple[str, float, float | None]]:
        """id -> (status, created_at, graded_at) as epoch seconds."""
        if not ids:
            return {}
        rows = self.query("SELECT id, status, extract(epoch FROM created_at)::float8, "
                          "extract(epoch FROM graded_at)::float8 FROM questions_submission WHERE id = ANY(%s)",
                          (ids,))
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def unrated(self, ids: list[int]) -> list[int]:
        """Practice answers graded with a score but whose review card was never rated (no ReviewLog):
        `learning.jobs.review_record` is meant to rate it once, in the grade's transaction."""
        if not ids:
            return []
        return [row[0] for row in self.query(
            "SELECT s.id FROM questions_submission s JOIN questions_practiceitem i ON i.id = s.item_id "
            "LEFT JOIN questions_reviewlog r ON r.submission_id = s.id WHERE s.id = ANY(%s) AND s.status = 'graded' "
            "AND s.score IS NOT NULL AND i.purpose = 'practice' AND r.id IS NULL ORDER BY s.id", (ids,))]

    def doubled(self, ids: list[int]) -> dict[int, int]:
        """Submissions graded more than once: id -> how many grades were committed."""
        if not ids:
            return {}
        graded = dict(self.query("SELECT submission_id, count(*) FROM bench_grade_audit WHERE submission_id = ANY(%s) "
                                 "AND status <> 'pending' GROUP BY submission_id HAVING count(*) > 1", (ids,)))
        rated = dict(self.query("SELECT submission_id, count(*) FROM questions_reviewlog WHERE submission_id = ANY(%s) "
                                "GROUP BY submission_id HAVING count(*) > 1", (ids,)))
        return {i: max(graded.get(i, 0), rated.get(i, 0)) for i in {*graded, *rated}}


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Calls:
    """Every response status by route, the 5xx with their body, and client-side failures."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    client_errors: Counter = field(default_factory=Counter)

    def call(self, session: requests.Session, method: str, url: str, route: str, *, meta: dict | None = None,
             **kwargs: Any) -> requests.Response | None:
        try:
            response = session.request(method, url, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.client_errors[f"{route}: {type(exc).__name__}"] += 1
            return None
        with self.lock:
            self.statuses[(route, response.status_code)] += 1
            if response.status_code >= 500:
                self.server_errors.append({"route": route, "status": response.status_code, "at": time.time(),
                                           "retry_after": response.headers.get("Retry-After"),
                                           "body": response.text[:300], **(meta or {})})
        return response

    def count_5xx(self) -> int:
        return sum(n for (_, code), n in self.statuses.items() if code >= 500)

    def summary(self, db: Db | None = None) -> dict[str, Any]:
        """The counts; a 5xx is `refused` (a 503 with Retry-After that stored nothing: the API's
        designed answer when the database goes away mid-request, checked against the database
        for answers) or `unexpected` (any other)."""
        refused = 0
        for error in self.server_errors:
            stored = None
            if db is not None and error.get("item") is not None:
                stored = db.query("SELECT count(*) FROM questions_submission WHERE item_id = %s",
                                  (error["item"],))[0][0]
                error["stored"] = stored
            if error["status"] == 503 and error["retry_after"] and not stored:
                error["kind"] = "refused"
                refused += 1
            else:
                error["kind"] = "unexpected"
        return {"statuses": {f"{route} {code}": n for (route, code), n in sorted(self.statuses.items())},
                "5xx": self.count_5xx(), "5xx_refused_503": refused, "5xx_unexpected": self.count_5xx() - refused,
                "server_errors": self.server_errors[:20], "client_errors": dict(self.client_errors)}


def token_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def retry_after(response: requests.Response, default: float = 1.0) -> float:
    try:
        return float(response.headers.get("Retry-After", default))
    except ValueError:
        return default


# --- Users, made in the database (a password hash each would cost the 2 cores minutes) ---------


def make_learners(prefix: str, count: int) -> list[tuple[int, str]]:
    """`count` learners with an API token each (knox, as `POST /api/v1/auth/token` makes it)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from knox.models import AuthToken

    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}-{i}", password=hashed) for i in range(count)])
    return [(user.id, AuthToken.objects.create(user=user)[1]) for user in users]


def make_instructor(base: str, calls: Calls, username: str) -> str:
    """An instructor, signed in through the API (the token endpoint, as a client does)."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    response = calls.call(requests.Session(), "POST", f"{base}/api/v1/auth/token", "auth-token",
                          json={"username": username, "password": PASSWORD})
    if response is None or response.status_code != 200:
        raise RuntimeError(f"sign-in failed: {getattr(response, 'status_code', None)} {getattr(response, 'text', '')}")
    return response.json()["token"]


# --- The floor ----------------------------------------------------------------------------------


def celery_client(redis_url: str):
    from celery import Celery

    app = Celery("bench-stack", broker=redis_url, backend=redis_url)
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                    broker_connection_retry_on_startup=True, result_expires=600)
    return app


def floor(app, tasks: int) -> dict[str, Any]:
    """A no-op task's round trip through the grading worker, 1 client then 8."""
    def one(i: int) -> float:
        start = time.perf_counter()
        app.send_task("bench.stack_tasks.noop", args=[i], queue="grading").get(timeout=30)
        return time.perf_counter() - start

    for i in range(20):  # warm-up: connections, the pool's first tasks
        one(i)
    start = time.perf_counter()
    single = [one(i) for i in range(tasks)]
    single_rate = tasks / (time.perf_counter() - start)
    many: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        mine = [one(i) for i in range(n)]
        with lock:
            many.extend(mine)

    threads = [threading.Thread(target=client, args=(tasks // 8,)) for _ in range(8)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    many_rate = len(many) / (time.perf_counter() - start)
    return {"one_client": {**spread(single), "tasks_per_s": round(single_rate, 1)},
            "eight_clients": {**spread(many), "tasks_per_s": round(many_rate, 1)}}


# --- Learners answering in a loop ---------------------------------------------------------------


@dataclass
class Sent:
    submission_id: int
    posted_at: float  # epoch seconds, when the POST was sent
    client_graded_s: float | None = None  # POST sent -> the poll saw it graded


class Stream:
    """`learners` threads, each looping: a practice item, the right answer, polling until graded."""

    long_poll = True  # main() sets it from --short-poll

    def __init__(self, base: str, db: Db, learners: list[tuple[int, str]], calls: Calls) -> None:
        self.base, self.db, self.calls = base, db, calls
        self.tokens = [token for _, token in learners]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent: list[Sent] = []
        self.submit_posts = 0
        self.item_times: list[float] = []
        self.items_preparing = 0  # item requests answered 202 (the stock was empty)
        self.items_created = 0
        self.threads = [threading.Thread(target=self._learner, args=(i, token), daemon=True)
                        for i, token in enumerate(self.tokens)]

    def __enter__(self) -> Stream:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=HTTP_TIMEOUT + 5)

    def _item(self, session: requests.Session, n: int) -> int | None:
        body = {"kind": PRACTICE_KINDS[n % len(PRACTICE_KINDS)], "difficulty": DIFFICULTIES[(n // 10) % 3]}
        start = time.perf_counter()
        while not self.stop.is_set():
            response = self.calls.call(session, "POST", f"{self.base}/api/v1/practice/items", "item-create", json=body)
            if response is not None and response.status_code == 201:
                with self.lock:
                    self.item_times.append(time.perf_counter() - start)
                    self.items_created += 1
                return response.json()["id"]
            if response is not None and response.status_code == 202:
                with self.lock:
                    self.items_preparing += 1
                self.stop.wait(retry_after(response))
            else:
                self.stop.wait(retry_after(response) if response is not None else 1.0)
        return None

    def _learner(self, index: int, token: str) -> None:
        session = token_session(token)
        n = index * 7
        while not self.stop.is_set():
            n += 1
            item_id = self._item(session, n)
            if item_id is None:
                return
            answer = self.db.key_of_item(item_id)
            posted = time.time()
            start = time.perf_counter()
            with self.lock:
                self.submit_posts += 1
            response = self.calls.call(session, "POST", f"{self.base}/api/v1/practice/items/{item_id}/submissions",
                                       "submit", json={"answer": answer}, meta={"item": item_id})
            if response is None or response.status_code not in (201, 202):
                self.stop.wait(1.0)
                continue
            body = response.json()
            sent = Sent(body["id"], posted)
            with self.lock:
                self.sent.append(sent)
            status, delay = body["status"], 0.01
            while status == "pending" and not self.stop.is_set():
                if self.long_poll:  # as the page does (live.js): answered as soon as it is graded
                    url = f"{self.base}/api/v1/submissions/{sent.submission_id}?wait={LONG_POLL_WAIT}"
                else:
                    self.stop.wait(delay)
                    delay = min(delay * 1.5, 0.25)
                    url = f"{self.base}/api/v1/submissions/{sent.submission_id}"
                polled = self.calls.call(session, "GET", url, "poll")
                if polled is not None and polled.status_code == 200:
                    status = polled.json()["status"]
            if status != "pending":
                sent.client_graded_s = time.perf_counter() - start


def settle(db: Db, ids: list[int], deadline: float) -> dict[int, tuple[str, float, float | None]]:
    """Wait until every submission is graded or the deadline (epoch seconds) passes; their rows."""
    while True:
        rows = db.submissions(ids)
        if all(rows.get(i, ("pending",))[0] != "pending" for i in ids) or time.time() > deadline:
            return rows
        time.sleep(0.5)


def e2e(base: str, db: Db, learners: list[tuple[int, str]], seconds: float) -> dict[str, Any]:
    calls = Calls()
    stream = Stream(base, db, learners, calls)
    start = time.time()
    with stream:
        time.sleep(seconds)
    elapsed = time.time() - start
    ids = [s.submission_id for s in stream.sent]
    rows = settle(db, ids, time.time() + LOST_DEADLINE)
    graded = [rows[i] for i in ids if i in rows and rows[i][2] is not None]
    in_window = [g for g in graded if g[2] <= start + elapsed]
    lost = len(ids) - len(graded)
    return {
        "learners": len(learners), "seconds": round(elapsed, 1), "submissions": len(ids),
        "graded_per_s": round(len(in_window) / elapsed, 1),
        "db": spread([g[2] - g[1] for g in graded]),
        "client": spread([s.client_graded_s for s in stream.sent if s.client_graded_s is not None]),
        "item_create": {**spread(stream.item_times), "preparing_202": stream.items_preparing,
                        "stock_empty_pct": _r(100 * stream.items_preparing
                                              / max(1, stream.items_preparing + stream.items_created))},
        "lost": lost, "doubled": len(db.doubled(ids)), "unrated": len(db.unrated(ids)), **calls.summary(db),
    }


# --- Code answers: the code worker runs each in a sandbox -----------------------------------------

CODE_KINDS = ("code_attention_numpy", "code_attention_torch")


def code_answers(base: str, db: Db, token: str, answers: int) -> list[dict[str, Any]]:
    """One learner answers code exercises one at a time with the model solution, as the page
    does: "Run examples" first (the request waits for the code worker's result), then Submit and
    a long poll until the grade is there. Per kind: Run examples as the client sees it, submit ->
    graded as the client sees it and in the database, and the scores (every one must be 1)."""
    session = token_session(token)
    calls = Calls()
    phases = []
    for kind in CODE_KINDS:
        runs, clients, ids = [], [], []
        for _ in range(answers):
            response = None
            for _ in range(60):  # an empty stock answers 202: ask again when told
                response = calls.call(session, "POST", f"{base}/api/v1/practice/items", "items",
                                      json={"kind": kind, "difficulty": "medium"})
                if response is None or response.status_code != 202:
                    break
                time.sleep(retry_after(response))
            if response is None or response.status_code != 201:
                continue
            item = response.json()["id"]
            code = db.key_of_item(item)["code"]
            started = time.perf_counter()
            ran = calls.call(session, "POST", f"{base}/api/v1/practice/items/{item}/run", "run", json={"code": code})
            if ran is not None and ran.status_code == 200 and ran.json()["score"] == 1.0:
                runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            sent = calls.call(session, "POST", f"{base}/api/v1/practice/items/{item}/submissions", "submit",
                              json={"answer": {"code": code}}, meta={"item": item})
            if sent is None or sent.status_code != 202:
                continue
            ids.append(sent.json()["id"])
            while True:
                polled = calls.call(session, "GET", f"{base}/api/v1/submissions/{ids[-1]}?wait={LONG_POLL_WAIT}", "poll")
                if polled is not None and polled.status_code == 200 and polled.json()["status"] != "pending":
                    clients.append(time.perf_counter() - started)
                    break
                if time.perf_counter() - started > LOST_DEADLINE:
                    break
        rows = settle(db, ids, time.time() + LOST_DEADLINE)
        scores = dict(db.query("SELECT id, score FROM questions_submission WHERE id = ANY(%s)", (ids,))) if ids else {}
        graded = [rows[i] for i in ids if i in rows and rows[i][2] is not None]
        phases.append({
            "kind": kind, "answers": len(ids), "run_examples": spread(runs), "client": spread(clients),
            "db": spread([g[2] - g[1] for g in graded]), "not_full_marks": sum(1 for i in ids if scores.get(i) != 1.0),
            "lost": len(ids) - len(graded), "doubled": len(db.doubled(ids)), "unrated": len(db.unrated(ids)),
            **calls.summary(db),
        })
        calls = Calls()
    return phases


# --- A class starts a quiz at once --------------------------------------------------------------


def class_start(base: str, db: Db, size: int, label: str) -> dict[str, Any]:
    from questions.courses.models import Quiz
    from questions.courses.rules import numeric_slot_seeds
    from questions.practice.models import Variant

    calls = Calls()
    instructor = token_session(make_instructor(base, calls, f"{label}-teacher"))
    learners = make_learners(label, size)
    course = calls.call(instructor, "POST", f"{base}/api/v1/courses", "course-create", json={"title": label}).json()
    quiz = calls.call(instructor, "POST", f"{base}/api/v1/courses/{course['id']}/quizzes", "quiz-create", json={
        "title": f"{label} quiz", "attempts_allowed": 1,
        "sections": [{**s, "title": f"Part {i + 1}", "points": 1} for i, s in enumerate(QUIZ_SECTIONS)],
    }).json()
    joined = Counter()

    def join(token: str) -> None:
        response = calls.call(token_session(token), "POST", f"{base}/api/v1/courses/join", "join",
                              json={"code": course["join_code"]})
        joined[getattr(response, "status_code", None)] += 1

    run_parallel([lambda t=t: join(t) for _, t in learners], workers=8)
    opened = time.time()
    response = calls.call(instructor, "POST", f"{base}/api/v1/quizzes/{quiz['id']}/open", "quiz-open")
    if response is None or response.status_code != 200:
        raise RuntimeError(f"the quiz did not open: {getattr(response, 'text', None)}")
    sections = list(Quiz.objects.get(id=quiz["id"]).sections.order_by("position"))
    wanted: dict[tuple[str, str], set[int]] = {}
    for user_id, _ in learners:
        for section, _, seed in numeric_slot_seeds(quiz_id=quiz["id"], sections=sections, learner_id=user_id, number=1):
            wanted.setdefault((section.kind, section.difficulty), set()).add(seed)
    expected = sum(len(seeds) for seeds in wanted.values())

    def prepared() -> int:
        return sum(Variant.objects.filter(kind=k, difficulty=d, seed__in=seeds).count()
                   for (k, d), seeds in wanted.items())

    ready = 0
    while time.time() - opened < 300:
        ready = prepared()
        if ready >= expected:
            break
        time.sleep(0.1)
    preparation = time.time() - opened
    # Every learner starts at the same moment.
    barrier = threading.Barrier(size + 1)
    times: list[float] = []
    outcome: Counter = Counter()
    retries = Counter()
    lock = threading.Lock()
    t0 = [0.0]

    def start_attempt(token: str) -> None:
        session = token_session(token)
        barrier.wait()
        while True:
            response = calls.call(session, "POST", f"{base}/api/v1/quizzes/{quiz['id']}/attempts", "attempt-start")
            if response is not None and response.status_code == 202 and time.perf_counter() - t0[0] < 120:
                with lock:
                    retries["202"] += 1
                time.sleep(retry_after(response))
                continue
            break
        took = time.perf_counter() - t0[0]
        ok = (response is not None and response.status_code == 201
              and bool(response.json().get("slots")) and response.json()["slots"][0].get("item"))
        with lock:
            outcome["ok" if ok else f"error {getattr(response, 'status_code', 'no response')}"] += 1
            if ok:
                times.append(took)

    threads = [threading.Thread(target=start_attempt, args=(token,), daemon=True) for _, token in learners]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0[0] = time.perf_counter()
    for thread in threads:
        thread.join(timeout=180)
    return {
        "learners": size, "joined": dict(joined), "variants_expected": expected, "variants_ready": ready,
        "preparation_s": _r(preparation, 2), "first_question": spread(times),
        "ok": outcome.get("ok", 0), "errors": sum(n for k, n in outcome.items() if k != "ok"),
        "outcomes": dict(outcome), "retried_202": retries.get("202", 0), **calls.summary(),
    }


def run_parallel(jobs: list[Callable[[], None]], workers: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


# --- Faults under load --------------------------------------------------------------------------


def _busy_child(proc: Proc, seconds: float = 3.0) -> tuple[int | None, bool]:
    """A pool child of the worker, one that is running (holding a task) if one is seen within
    `seconds`; (pid, seen running)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in proc.children():
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state == "R":
                return pid, True
        time.sleep(0.002)
    children = proc.children()
    return (children[0] if children else None), False


def fault_child_kill(stack: Stack, plan: Plan) -> dict[str, Any]:
    pid, running = _busy_child(stack.procs["grading"])
    if pid is None:
        raise RuntimeError("the grading worker has no pool child")
    os.kill(pid, signal.SIGKILL)
    return {"killed_pid": pid, "while_running": running}


def fault_worker_kill(stack: Stack, plan: Plan) -> dict[str, Any]:
    proc = stack.procs["grading"]
    proc.signal_group(signal.SIGKILL)  # the main process and its pool children, as a host or container loses them
    proc.popen.wait(timeout=10)
    time.sleep(1.0)
    restart = time.monotonic()
    stack.start_grading()
    return {"restart_s": _r(time.monotonic() - restart, 2)}


def fault_redis_restart(stack: Stack, plan: Plan) -> dict[str, Any]:
    stack.redis_kill()
    time.sleep(1.0)
    stack.start_redis()
    return {}


def fault_db_terminate(stack: Stack, plan: Plan) -> dict[str, Any]:
    return {"terminated": stack.terminate_connections()}


def _pause(proc, seconds: float) -> None:
    proc.signal_group(signal.SIGSTOP)
    time.sleep(seconds)
    proc.signal_group(signal.SIGCONT)


def fault_worker_stop(stack: Stack, plan: Plan) -> dict[str, Any]:
    _pause(stack.procs["grading"], plan.worker_stop)
    return {"stopped_s": plan.worker_stop}


def fault_web_pause(stack: Stack, plan: Plan) -> dict[str, Any]:
    _pause(stack.procs["web"], plan.web_pause)
    return {"paused_s": plan.web_pause}


FAULTS: dict[str, tuple[str, Callable[[Stack, Plan], dict[str, Any]]]] = {
    "child_kill": ("a grading worker child killed with -9", fault_child_kill),
    "worker_kill": ("the grading worker killed with -9, restarted", fault_worker_kill),
    "redis_restart": ("Redis restarted (nothing saved)", fault_redis_restart),
    "db_terminate": ("every database connection terminated", fault_db_terminate),
    "worker_stop": ("the grading worker stopped (SIGSTOP)", fault_worker_stop),
    "web_pause": ("the web paused (SIGSTOP on gunicorn)", fault_web_pause),
}


def fault(stack: Stack, db: Db, learners: list[tuple[int, str]], plan: Plan, name: str) -> dict[str, Any]:
    title, inject = FAULTS[name]
    calls = Calls()
    stream = Stream(stack.base, db, learners, calls)
    with stream:
        time.sleep(plan.before)
        began = time.time()
        details = inject(stack, plan)
        ended = time.time()
        time.sleep(plan.after)
    ids = [s.submission_id for s in stream.sent]
    rows = settle(db, ids, ended + LOST_DEADLINE)
    graded = {i: rows[i] for i in ids if i in rows and rows[i][2] is not None}
    before_end = [row[2] for i, row in graded.items() if row[1] <= ended]
    doubled = db.doubled(ids)
    unrated = db.unrated(ids)
    return {
        "fault": title, **details, "fault_s": _r(ended - began, 2),
        "submissions_sent": stream.submit_posts, "accepted": len(ids),
        "lost": len(ids) - len(graded), "lost_ids": sorted(set(ids) - set(graded))[:20],
        "doubled": len(doubled), "doubled_ids": dict(list(doubled.items())[:20]),
        "unrated": len(unrated), "unrated_ids": unrated[:20],
        "submit_to_graded": spread([row[2] - row[1] for row in graded.values()]),
        "client": spread([s.client_graded_s for s in stream.sent if s.client_graded_s is not None]),
        "recovery_s": _r(max([0.0, *(g - ended for g in before_end)]), 2),
        **calls.summary(db),
    }


def detector_check(db: Db) -> dict[str, Any]:
    """Does the bench see a double grade? Every grade committed is an audit row (compared with the
    graded rows), and a control: one graded answer is set back to pending, as a lost race would
    leave it, and the sweep grades it again; the bench must count two grades for it."""
    graded = db.query("SELECT count(*) FROM questions_submission WHERE status <> 'pending'")[0][0]
    audited = db.query("SELECT count(DISTINCT submission_id) FROM bench_grade_audit WHERE status <> 'pending'")[0][0]
    rows = db.query("SELECT id FROM questions_submission WHERE status = 'graded' ORDER BY id DESC LIMIT 1")
    control: dict[str, Any] = {"graded_rows": graded, "audited_rows": audited}
    if rows:
        sid = rows[0][0]
        db.query("UPDATE questions_submission SET status = 'pending', graded_at = NULL, enqueue_count = 1, "
                 "enqueued_at = now() - interval '1 hour' WHERE id = %s RETURNING id", (sid,))
        settle(db, [sid], time.time() + 30)
        control.update(control_submission=sid, control_grades_seen=db.doubled([sid]).get(sid, 1))
    # Nothing graded (a run of the floor alone): nothing to check.
    control["ok"] = not rows or (graded == audited and control.get("control_grades_seen", 0) >= 2)
    return control


def warm_stock(app, db: Db, seconds: float = 90) -> float:
    """Fill every practice stock the stream uses (the bulk worker's refills), as a site that has
    been running would have it."""
    for kind in PRACTICE_KINDS:
        for difficulty in DIFFICULTIES:
            app.send_task("questions.tasks.refill_stock", kwargs={"kind": kind, "difficulty": difficulty}, queue="bulk",
                          ignore_result=True)
    start = time.monotonic()
    wanted = len(PRACTICE_KINDS) * len(DIFFICULTIES)
    while time.monotonic() - start < seconds:
        full = db.query("SELECT count(*) FROM (SELECT kind, difficulty FROM questions_variant WHERE claimed_at IS NULL "
                        "GROUP BY kind, difficulty HAVING count(*) >= 5) t")[0][0]
        if full >= wanted:
            break
        time.sleep(0.3)
    return time.monotonic() - start


# --- The report ---------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    fl = report["floor"]["one_client"]
    floor_p50 = fl["p50_ms"] or 1.0

    def ratio(ms: float | None) -> str:
        return "" if ms is None else f"{ms / floor_p50:.1f}x"

    def ms(value: float | None) -> str:
        return "-" if value is None else (f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms")

    rows: list[tuple[str, str, str]] = [
        ("floor: no-op task round trip, 1 client",
         f"p50 {ms(fl['p50_ms'])}, p99 {ms(fl['p99_ms'])}; {fl['tasks_per_s']} tasks/s", "1.0x"),
        ("floor: 8 clients", f"p50 {ms(report['floor']['eight_clients']['p50_ms'])}; "
                             f"{report['floor']['eight_clients']['tasks_per_s']} tasks/s", ""),
    ]
    for phase in report["e2e"]:
        db, cl, item = phase["db"], phase["client"], phase["item_create"]
        rows.append((f"{phase['learners']} learners: submit -> graded (database)",
                     f"p50 {ms(db['p50_ms'])}, p99 {ms(db['p99_ms'])}, max {ms(db['max_ms'])}", ratio(db["p50_ms"])))
        rows.append((f"{phase['learners']} learners: client sees",
                     f"p50 {ms(cl['p50_ms'])}, p99 {ms(cl['p99_ms'])}, max {ms(cl['max_ms'])}", ratio(cl["p50_ms"])))
        rows.append((f"{phase['learners']} learners: throughput, items",
                     f"{phase['graded_per_s']} graded/s; item p50 {ms(item['p50_ms'])}, "
                     f"stock empty {item['stock_empty_pct']} %; lost {phase['lost']}, doubled {phase['doubled']}, "
                     f"5xx {phase['5xx']}{_five(phase)}{_unrated(phase)}", ""))
    for phase in report["code"]:
        cl, run = phase["client"], phase["run_examples"]
        rows.append((f"code {phase['kind']}: submit -> graded, client",
                     f"p50 {ms(cl['p50_ms'])}, p99 {ms(cl['p99_ms'])} (database p50 {ms(phase['db']['p50_ms'])}); "
                     f"Run examples p50 {ms(run['p50_ms'])}; {phase['answers']} answers, not 1: "
                     f"{phase['not_full_marks']}, lost {phase['lost']}, doubled {phase['doubled']}", ratio(cl["p50_ms"])))
    for start in report["class_start"]:
        fq = start["first_question"]
        rows.append((f"{start['learners']} learners start a quiz (3 numeric sections)",
                     f"first question p50 {ms(fq['p50_ms'])}, p99 {ms(fq['p99_ms'])}, max {ms(fq['max_ms'])}; "
                     f"errors {start['errors']}, 202s {start['retried_202']}; variants prepared in "
                     f"{start['preparation_s']} s", ratio(fq["p50_ms"])))
    for name, result in report["faults"].items():
        if "error" in result:
            rows.append((f"fault {name}", f"ERROR {result['error']}", ""))
            continue
        st = result["submit_to_graded"]
        rows.append((f"fault: {result['fault']}",
                     f"sent {result['submissions_sent']}, lost {result['lost']}, doubled {result['doubled']}, "
                     f"5xx {result['5xx']}{_five(result)}{_unrated(result)}; p50 {ms(st['p50_ms'])}, p99 {ms(st['p99_ms'])}, max {ms(st['max_ms'])}; "
                     f"recovery {result['recovery_s']} s", ratio(st["p50_ms"])))
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'measure':<{width}}{'ratio':>8}  figure"]
    lines += [f"{name:<{width}}{r:>8}  {figure}" for name, figure, r in rows]
    totals = report["totals"]
    detector = report.get("detector", {})
    lines.append(f"double-grade detector: {detector.get('audited_rows')} grades audited for {detector.get('graded_rows')} "
                 f"graded rows; control regrade seen as {detector.get('control_grades_seen')} grades "
                 f"({'ok' if totals['detector_ok'] else 'NOT OK'})")
    lines.append(f"totals: lost {totals['lost']}, doubled {totals['doubled']}, graded but never rated "
                 f"{totals['unrated']}, 5xx {totals['5xx']} "
                 f"({totals['5xx_unexpected']} unexpected, the rest 503 with Retry-After, nothing stored); "
                 f"{report['seconds']} s in all")
    return "\n".join(lines)


def _unrated(result: dict[str, Any]) -> str:
    text = f", graded but never rated {result['unrated']}" if result.get("unrated") else ""
    failed = sum(result.get("client_errors", {}).values())
    return text + (f", client-side connection errors {failed}" if failed else "")


def _five(result: dict[str, Any]) -> str:
    if not result["5xx"]:
        return ""
    kinds = Counter(f"{e['status']} {e['route']}" for e in result["server_errors"])
    return f" ({', '.join(f'{n}x {k}' for k, n in kinds.items())}; {result['5xx_refused_503']} refused as designed)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stack", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("QUICK", "") not in ("", "0"),
                        help="CI mode: fewer learners, short faults; fails only on lost, doubled or 5xx (also QUICK=1)")
    parser.add_argument("--only", default="floor,e2e,code,class,faults", help="parts to run, comma-separated")
    parser.add_argument("--faults", default=",".join(FAULTS), help="faults to inject, comma-separated")
    parser.add_argument("--strict-503", action="store_true",
                        help="quick mode fails on a refused 503 too (one with Retry-After that stored nothing)")
    parser.add_argument("--short-poll", action="store_true",
                        help="poll the submission every 10-250 ms instead of the long poll (?wait=)")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory (printed)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    Stream.long_poll = not args.short_poll
    parts = set(args.only.split(","))
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    report: dict[str, Any] = {"mode": "quick" if plan.quick else "full", "plan": plan.__dict__,
                              "poll": "short (10-250 ms)" if args.short_poll else f"long (?wait={LONG_POLL_WAIT})",
                              "floor": {"one_client": {"p50_ms": None, "p99_ms": None, "tasks_per_s": None},
                                        "eight_clients": {"p50_ms": None, "tasks_per_s": None}},
                              "e2e": [], "code": [], "class_start": [], "faults": {}}

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)  # even where it was inherited ignored (a background job)
    stack = Stack(tmp)
    db = Db(stack.db_url)
    try:
        with ExitStack() as cleanup:
            cleanup.callback(stack.drop_database)
            cleanup.callback(db.close)
            cleanup.callback(stack.stop_all)
            log(f"starting the stack (redis :{stack.redis_port}, database {stack.db_name}, web :{stack.web_port})")
            stack.start_all()
            report["startup_s"] = _r(time.monotonic() - started, 1)
            log(f"stack up in {report['startup_s']} s")
            os.environ.update(stack.env)  # this process makes users and reads keys on the same database
            import django

            django.setup()
            from django.db import connections

            cleanup.callback(connections.close_all)
            app = celery_client(stack.redis_url)
            report["stock_warm_s"] = _r(warm_stock(app, db), 1)
            learners = make_learners("learner", max(*plan.learners, plan.fault_learners))
            if "floor" in parts:
                report["floor"] = floor(app, plan.floor_tasks)
                log(f"floor: {report['floor']}")
            # The bench sends no task after this: close its Celery client while Redis is up (a
            # result object collected later would try to reconnect to a Redis that is gone).
            consumer = getattr(app.backend, "result_consumer", None)
            if consumer is not None:  # its pub/sub connection would retry for minutes when Redis restarts
                consumer.stop()
                consumer._pubsub = None
            app.close()
            del app
            gc.collect()
            if "e2e" in parts:
                for n in plan.learners:
                    report["e2e"].append(e2e(stack.base, db, learners[:n], plan.e2e_seconds))
                    log(f"e2e {n}: {json.dumps({k: v for k, v in report['e2e'][-1].items() if k != 'statuses'})}")
            if "code" in parts:
                report["code"] = code_answers(stack.base, db, make_learners("coder", 1)[0][1], plan.code_answers)
                for phase in report["code"]:
                    log(f"code {phase['kind']}: {json.dumps({k: v for k, v in phase.items() if k != 'statuses'})}")
            if "class" in parts:
                for size in plan.classes:
                    report["class_start"].append(class_start(stack.base, db, size, f"class{size}"))
                    log(f"class {size}: {json.dumps({k: v for k, v in report['class_start'][-1].items() if k != 'statuses'})}")
            if "faults" in parts:
                for name in args.faults.split(","):
                    connections.close_all()
                    try:
                        report["faults"][name] = fault(stack, db, learners[:plan.fault_learners], plan, name)
                    except Exception as exc:  # noqa: BLE001 - one fault's failure is reported, the rest run
                        report["faults"][name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                    log(f"fault {name}: {json.dumps({k: v for k, v in report['faults'][name].items() if k != 'statuses'})}")
                    wait_for(lambda: _http_ok(f"{stack.base}/healthz"), 60, "the web after the fault")
            report["detector"] = detector_check(db)
            log(f"double-grade detector: {report['detector']}")
            report["worker_log_lines"] = _log_counts(stack)
            if args.keep:
                keep = Path(tempfile.mkdtemp(prefix="bench-stack-logs-"))
                shutil.copytree(stack.logs, keep / "logs")
                log(f"logs kept in {keep / 'logs'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    phases = [*report["e2e"], *report["code"], *(f for f in report["faults"].values() if "error" not in f)]
    report["totals"] = {
        "lost": sum(p["lost"] for p in phases),
        "doubled": sum(p["doubled"] for p in phases),
        "unrated": sum(p["unrated"] for p in phases),
        "5xx": sum(p["5xx"] for p in [*phases, *report["class_start"]]),
        "5xx_unexpected": sum(p["5xx_unexpected"] for p in [*phases, *report["class_start"]]),
        "class_start_errors": sum(c["errors"] for c in report["class_start"]),
        "code_not_full_marks": sum(c["not_full_marks"] for c in report["code"]),
        "fault_errors": [n for n, f in report["faults"].items() if "error" in f],
        "detector_ok": report.get("detector", {}).get("ok", False),
    }
    report["seconds"] = _r(time.monotonic() - started, 1)
    report["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                      text=True).stdout.strip()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"stack-{report['when'].replace(':', '')[:17]}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(report))
    print(f"(JSON: {out.relative_to(ROOT)})")
    totals = report["totals"]
    if plan.quick:
        five = totals["5xx"] if args.strict_503 else totals["5xx_unexpected"]
        failed = (totals["lost"] or totals["doubled"] or five or totals["fault_errors"] or not totals["detector_ok"]
                  or totals["code_not_full_marks"])
        print("quick mode:", "FAILED (lost, doubled, 5xx, a fault that did not run, a blind double-grade detector "
                             "or a right code answer not graded 1)"
              if failed else "ok")
        return 1 if failed else 0
    return 0


def _log_counts(stack: Stack) -> dict[str, int]:
    """Lines of the workers' logs worth a look: failures, retries, review ratings refused."""
    text = "".join(p.tail(10**8) for p in [*stack.procs.values(), *stack.retired] if p.name in ("grading", "bulk", "code"))
    return {needle: text.count(needle) for needle in
            ("Traceback", "Retry in", "could not rate the review card", "WorkerLostError", "raised unexpected")}


if __name__ == "__main__":
    sys.exit(main())
