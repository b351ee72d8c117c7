"""python -m bench.security_audit: issue #11's figures, measured as an attacker would, over HTTP.

It starts its own server (gunicorn, `DEBUG` off, tasks in-process) on a scratch database it
creates and drops (PostgreSQL when 127.0.0.1:5432 answers, else a SQLite file), seeds it
(`seed_demo`, then users, courses, a quiz and an attempt through the services), and measures:

(a) access control: 7 users (anonymous, a learner outside the course, the course learner who owns
    the objects, another learner of the course, a TA, an instructor of another course, the
    course's instructor) x every route with an id, pages and API, listed from the URL resolver
    (so a new route is probed, and reported as unclassified until `POLICY` names who may use
    it) x its methods. A hole is a request that should be refused and was answered 2xx, or 3xx
    anywhere but a login page.
(b) key leaks: every response the learner receives between starting an attempt and submitting
    it, while answering the quiz wrongly, poking at the quiz's items through the practice API,
    practising every topic (wrong answers, feedback read, a hint asked), doing reviews and three
    mock interviews (reviews read). A numeric key is seen when two of its values (or its one
    value) appear as a page or the API writes them; a theory key when its typed answer or its
    explanation does (neither is in the question itself). Slugs are counted apart.
(c) XSS: 30 payloads as course titles, quiz titles, questions (prompt, title, choices,
    explanation), usernames at sign-up and a learner's typed answer; every page that shows them
    is tokenized and any script, event handler or script URL a payload made is counted; where
    /usr/bin/chromium exists (or with `--browser`) each page is also opened in headless Chromium
    and any dialog counted (a page that does call alert() is the control).
(d) CSRF: every page route and every API write posted with a session cookie and no token.
(e) server errors: every response of every part with status >= 500.

Request-rate limits are raised for the audited server (THROTTLE_*, LOGIN_FAILURE_LIMIT): the
audit measures who may do what, not how often; the limits have tests of their own.

Prints a table and writes bench/results/security_audit-<UTC time>.json (and latest.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import audit_scan

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PASSWORD = "audit-pass-9f3k2"
PG_ADMIN_URL = os.environ.get("AUDIT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

ANON, OUTSIDER, OWNER, OTHER, TA, RIVAL, INSTRUCTOR = (
    "anonymous", "outside learner", "course learner", "other learner", "TA", "other instructor", "instructor")
ROLES = (ANON, OUTSIDER, OWNER, OTHER, TA, RIVAL, INSTRUCTOR)
USERNAMES = {OUTSIDER: "audit-outsider", OWNER: "audit-learner", OTHER: "audit-other", TA: "audit-ta",
             RIVAL: "audit-rival", INSTRUCTOR: "audit-teacher"}

# Who may use each route with an id: {url name: {method: roles}}; "*" is every other method.
# The rules are questions/courses/selectors.py (require_role, attempt_for, quiz_for) and the views.
MEMBERS = frozenset({OWNER, OTHER, TA, INSTRUCTOR})
STAFF = frozenset({TA, INSTRUCTOR})
ONLY_OWNER = frozenset({OWNER})
ONLY_INSTRUCTOR = frozenset({INSTRUCTOR})
SIGNED_IN = frozenset(set(ROLES) - {ANON})
NOBODY: frozenset[str] = frozenset()
POLICY: dict[str, dict[str, frozenset[str]]] = {
    # a learner's own practice, reviews and mock interviews
    **dict.fromkeys(
        ("practice-item", "practice-hint", "practice-item-preview", "submission-result", "mock-interview",
         "mock-answer", "mock-finish", "mock-review", "mock-review-body", "api-item", "api-item-submissions",
         "api-submission", "api-item-hints"), {"*": ONLY_OWNER}),
    "practice-topic": {"*": SIGNED_IN},  # a topic is public; the item made is the caller's own
    # courses
    "course-detail": {"*": MEMBERS}, "api-course": {"*": MEMBERS},
    "course-member-add": {"*": ONLY_INSTRUCTOR},
    "api-course-members": {"GET": STAFF, "*": ONLY_INSTRUCTOR},
    "quiz-create": {"*": ONLY_INSTRUCTOR},
    "api-course-quizzes": {"GET": MEMBERS, "*": ONLY_INSTRUCTOR},
    **dict.fromkeys(("course-gradebook", "course-gradebook-csv", "api-gradebook", "api-gradebook-csv"),
                    {"*": STAFF}),
    # quizzes
    "quiz-detail": {"*": MEMBERS}, "api-quiz": {"GET": MEMBERS, "*": ONLY_INSTRUCTOR},
    **dict.fromkeys(("quiz-open", "quiz-close", "api-quiz-open", "api-quiz-close"), {"*": ONLY_INSTRUCTOR}),
    "quiz-preview": {"*": STAFF}, "api-quiz-preview": {"*": STAFF},
    "attempt-start": {"*": frozenset({OWNER, OTHER})},
    "api-quiz-attempts": {"GET": MEMBERS, "*": frozenset({OWNER, OTHER})},
    "quiz-statistics": {"*": STAFF}, "api-quiz-statistics": {"*": STAFF},
    "quiz-regrade": {"GET": STAFF, "*": ONLY_INSTRUCTOR},
    "api-regrade-preview": {"*": STAFF}, "api-regrades": {"GET": STAFF, "*": ONLY_INSTRUCTOR},
    "api-regrade": {"*": STAFF},
    # attempts: read by their learner and the course's staff, written by their learner only
    "attempt-take": {"GET": ONLY_OWNER | STAFF, "*": ONLY_OWNER},
    "attempt-review": {"GET": ONLY_OWNER | STAFF, "*": ONLY_OWNER},
    "api-attempt": {"GET": ONLY_OWNER | STAFF, "*": ONLY_OWNER},
    **dict.fromkeys(("attempt-answer", "attempt-submit", "api-attempt-answers", "api-attempt-submit"),
                    {"*": ONLY_OWNER}),
    # authoring: a public-bank question is edited by site staff only (none of the seven); a
    # course's own question by the course's instructors (probed too, see `access`)
    "author-edit": {"*": NOBODY},
}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
# Bodies the API would accept, where it reads the body before the role: a refusal then is the
# role check's, not the validator's.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "api-course-members": {"username": USERNAMES[OUTSIDER], "role": "learner"},
    "api-course-quizzes": {"title": "Probe", "sections": [{"kind": "mha_params", "difficulty": "easy"}]},
}
COURSE_QUESTION = {
    "slug": "audit-course-own", "title": "Which scaling?", "type": "single_choice", "difficulty": "easy",
    "prompt": "Scores are divided by what?", "explanation": "The variance of a dot product grows with d_k.",
    "source": "Vaswani et al. 2017",
    "choices": [{"text": "sqrt(d_k)", "weight": 100, "feedback": "Yes."}, {"text": "d_k", "weight": 0, "feedback": "Too much."}],
}


# --- The server ---------------------------------------------------------------------------------


@contextmanager
def scratch_database(tmp: Path, *, sqlite: bool) -> Iterator[str]:
    """A database URL for this run: a fresh PostgreSQL database, dropped afterwards, or SQLite."""
    if not sqlite:
        try:
            import psycopg

            admin = psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True,
                                    connect_timeout=3)
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: SQLite does
            print(f"(PostgreSQL not reachable: {type(exc).__name__}; using SQLite)")
        else:
            name = f"audit_{os.getpid()}_{secrets.token_hex(3)}"
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
            return
    yield f"sqlite:///{tmp / 'audit.sqlite3'}"


def server_env(database_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="quizsite.settings", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0", DATABASE_URL=database_url, VAR_DIR=str(tmp), LOG_LEVEL="WARNING",
        THROTTLE_SIGN_IN="100000/minute", THROTTLE_ANSWERS="100000/minute", THROTTLE_CREATIONS="100000/minute", THROTTLE_ITEMS="100000/minute",
        LOGIN_FAILURE_LIMIT="100000", STATIC_ROOT=str(tmp / "static"), PYTHONPATH=str(ROOT),
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int) -> Iterator[str]:
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "quizsite.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=30).status_code < 500:
                        break
                except requests.RequestException:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; its log:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


# --- HTTP, recorded -----------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every response of the run, counted by part and status; 5xx kept; listeners see bodies."""

    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[Callable[[str, str, requests.Response], None]] = field(default_factory=list)
    part: str = "setup"

    def seen(self, role: str, method: str, url: str, response: requests.Response) -> None:
        self.statuses[self.part][response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors.append({"part": self.part, "role": role, "method": method,
                                       "path": url.split("//", 1)[-1].split("/", 1)[-1],
                                       "status": response.status_code, "body": response.text[:300]})
        for listen in self.listeners:
            listen(role, f"{method} {url}", response)


class Client:
    """One user's browser and API client: a session for the pages, a token for the API."""

    def __init__(self, base: str, role: str, recorder: Recorder) -> None:
        self.base, self.role, self.recorder = base, role, recorder
        self.session = requests.Session()
        self.token: str | None = None

    def request(self, method: str, path: str, *, csrf: bool = True, token: bool = True,
                **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if path.startswith("/api/") and token and self.token:
            headers["Authorization"] = f"Token {self.token}"
        if method not in ("GET", "HEAD", "OPTIONS") and not path.startswith("/api/"):
            headers["Referer"] = f"{self.base}/"
            if csrf:
                data = kwargs.setdefault("data", {})
                if isinstance(data, dict):
                    data.setdefault("csrfmiddlewaretoken", self.csrf_token())
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 120)
        response = self.session.request(method, self.base + path, headers=headers, **kwargs)
        self.recorder.seen(self.role, method, path, response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def csrf_token(self) -> str:
        if "csrftoken" not in self.session.cookies:
            self.get("/accounts/login/")
        return self.session.cookies.get("csrftoken", "")

    def log_in(self, username: str) -> None:
        """Signed in both ways: the login form (session) and the token endpoint (API)."""
        response = self.post("/accounts/login/", data={"username": username, "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"login form refused {username}: {response.status_code}")
        # From a cookie-less client, as an app would: with the session cookie an older API
        # asked for a CSRF token here.
        session, self.session = self.session, requests.Session()
        try:
            response = self.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        finally:
            self.session = session
        if response.status_code != 200:
            raise RuntimeError(f"token endpoint refused {username}: {response.status_code} {response.text[:200]}")
        self.token = response.json()["token"]


# --- Seed ---------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, Any]
    course: Any
    other_course: Any
    quiz: Any
    ids: dict[str, Any] = field(default_factory=dict)


def seed() -> World:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from questions.catalogue import services as catalogue_services
    from questions.catalogue.models import QuestionVersion
    from questions.courses import rules as courses_rules
    from questions.courses import services as courses_services
    from questions.roles import INSTRUCTORS_GROUP

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest DEBUG-off pages need
    call_command("seed_demo", per_kind=1, verbosity=0)
    instructors = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)[0]
    users = {}
    for role, name in USERNAMES.items():
        users[role] = get_user_model().objects.create_user(username=name, password=PASSWORD)
        if role in (RIVAL, INSTRUCTOR):
            users[role].groups.add(instructors)
    course = courses_services.course_create(title="Audit course", instructor=users[INSTRUCTOR])
    other_course = courses_services.course_create(title="Rival course", instructor=users[RIVAL])
    for role in (OWNER, OTHER):
        courses_services.course_join(user=users[role], code=course.join_code)
    courses_services.membership_set(course=course, actor=users[INSTRUCTOR], user=users[TA], role="ta")
    world_ids: dict[str, Any] = {}
    try:  # a question of the course's own (question ownership; absent from older code)
        catalogue_services.question_author_save(topic_slug="softmax", data=COURSE_QUESTION, publish=True,
                                                author=users[INSTRUCTOR], owner=course)
        world_ids["course_slug"] = COURSE_QUESTION["slug"]
    except TypeError:
        pass

    # A quiz drawing two public-bank questions of every type, and three numeric problems.
    by_type: dict[str, set[str]] = defaultdict(set)
    for slug, data in QuestionVersion.objects.filter(status="published").values_list("question__slug", "data"):
        if data.get("type") != "essay":
            by_type[data["type"]].add(slug)
    sections = [courses_rules.SectionSpec(title=t, draw=2, questions=tuple(sorted(slugs))[:500])
                for t, slugs in sorted(by_type.items()) if len(slugs) >= 2]
    sections += [courses_rules.SectionSpec(title=k, kind=k, difficulty="easy")
                 for k in ("self_attention", "mha_params", "kv_cache")]
    quiz = courses_services.quiz_create(course=course, actor=users[INSTRUCTOR], title="Audit quiz",
                                        sections=sections, attempts_allowed=3)
    courses_services.quiz_open(quiz=quiz, actor=users[INSTRUCTOR])
    return World(users=users, course=course, other_course=other_course, quiz=quiz, ids=world_ids)


# --- (b) key leaks ------------------------------------------------------------------------------


def wrong_answer(view: dict[str, Any]) -> dict[str, Any]:
    """A well-formed answer that is most likely wrong, so the feedback (and any key) is read."""
    if view.get("type") == "numeric" or "parts" in view:
        def zeros(shape: list[int]) -> Any:
            return 0 if not shape else [zeros(shape[1:]) for _ in range(shape[0])]
        return {p["name"]: zeros(p.get("shape") or []) for p in view.get("parts", [])}
    kind = view.get("question_type")
    if kind in ("single_choice", "multiple_response"):
        last = view["choices"][-1]  # named by its id (older API: by its position)
        choice = last["id"] if isinstance(last, dict) else len(view["choices"]) - 1
        return {"response": choice if kind == "single_choice" else [choice]}
    if kind == "true_false":
        return {"response": False}
    if kind == "matching":
        return {"response": {left: view["rights"][0] for left in view["lefts"]}}
    if kind == "ordering":
        return {"response": list(view["items"])}
    if kind == "numeric":
        return {"response": "-98765.4321"}
    return {"response": "zzz-not-the-answer"}


@dataclass
class SlotKey:
    position: int
    label: str
    numeric: bool
    slug: str | None
    numeric_markers: list[frozenset[str]]
    theory_markers: set[str]
    seen_in: list[str] = field(default_factory=list)
    slug_seen_in: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)  # where a key was seen, with the text around it


def _context(key: SlotKey, text: str) -> str:
    for marker in sorted(key.theory_markers) + sorted(w for ways in key.numeric_markers for w in ways):
        at = text.find(marker)
        if at >= 0:
            return text[max(0, at - 120): at + len(marker) + 60]
    return ""


def slot_keys(attempt_id: int) -> list[SlotKey]:
    """Each slot's key, read on the server side (the stored variant, `theory_key`), as markers."""
    from questions.courses.models import AttemptSlot
    from quizsite import disclosure

    keys = []
    slots = AttemptSlot.objects.filter(attempt_id=attempt_id).select_related(
        "item__variant", "item__question_version__question").order_by("position")
    for slot in slots:
        item = slot.item
        public = audit_scan.response_text(json.dumps(disclosure.item_view(item), default=str), "application/json")
        if item.is_numeric:
            keys.append(SlotKey(slot.position, item.variant.kind, True, None,
                                audit_scan.numeric_markers(item.variant.data["answer"], public), set()))
        else:
            version = item.question_version
            keys.append(SlotKey(slot.position, version.question.slug, False, version.question.slug, [],
                                audit_scan.theory_markers(version.data, public)))
    return keys


def leaks(world: World, learner: Client) -> dict[str, Any]:
    """The learner starts the quiz and, before submitting, does everything else the site offers."""
    from questions.catalogue.models import QuestionVersion

    recorder = learner.recorder
    response = learner.post(f"/api/v1/quizzes/{world.quiz.id}/attempts", json={})
    if response.status_code not in (200, 201):
        raise RuntimeError(f"the learner could not start the quiz: {response.status_code} {response.text[:300]}")
    attempt = response.json()
    attempt_id = attempt["id"]
    world.ids["attempt_id"] = attempt_id
    keys = slot_keys(attempt_id)
    scanned = Counter()

    def listen(role: str, what: str, response: requests.Response) -> None:
        if role != OWNER:
            return
        scanned["responses"] += 1
        text = audit_scan.response_text(response.text, response.headers.get("Content-Type", ""))
        for key in keys:
            seen = (audit_scan.numeric_key_seen(key.numeric_markers, text) if key.numeric
                    else audit_scan.theory_key_seen(key.theory_markers, text))
            if seen:
                key.seen_in.append(what)
                if len(key.contexts) < 3:
                    key.contexts.append(f"{what}: ...{_context(key, text)}...")
            if key.slug and re.search(rf"(?<![\w-]){re.escape(key.slug)}(?![\w-])", response.text):
                key.slug_seen_in.append(what)

    recorder.listeners.append(listen)
    try:
        learner.get(f"/api/v1/attempts/{attempt_id}")
        learner.get(f"/attempts/{attempt_id}/")
        # The quiz answered wrongly, and its items poked at through the practice API and pages.
        for slot in attempt.get("slots", []):
            position, item = slot["position"], slot.get("item") or {}
            learner.post(f"/api/v1/attempts/{attempt_id}/slots/{position}/answers",
                         json={"answer": wrong_answer(item)})
            learner.get(f"/attempts/{attempt_id}/?position={position}")
            if "id" in item:
                learner.get(f"/api/v1/practice/items/{item['id']}")
                learner.post(f"/api/v1/practice/items/{item['id']}/submissions", json={"answer": wrong_answer(item)})
                learner.post(f"/api/v1/practice/items/{item['id']}/hints", json={})
                learner.get(f"/practice/items/{item['id']}/")
        learner.get(f"/api/v1/attempts/{attempt_id}")
        # Practise every topic: each question of a topic comes once before any comes again.
        topics = [t["slug"] for t in learner.get("/api/v1/topics").json()]
        sizes = Counter(QuestionVersion.objects.filter(status="published")
                        .values_list("question__topic__slug", flat=True).distinct())
        for topic in topics:
            for _ in range(min(40, 2 * sizes.get(topic, 1) + 2)):
                practise(learner, {"topic": topic}, world)
        # Reviews: whatever the scheduler says is due.
        learner.get("/api/v1/reviews")
        learner.get("/reviews/")
        for _ in range(10):
            response = learner.post("/api/v1/reviews/next", json={})
            if response.status_code not in (200, 201):
                break
            answer_item(learner, response.json().get("item") or response.json(), world)
        # Mock interviews over the topics the quiz's theory questions come from, reviewed at the end.
        quiz_topics = sorted(set(QuestionVersion.objects.filter(
            question__slug__in=[k.slug for k in keys if k.slug]).values_list("question__topic__slug", flat=True)))
        for _ in range(3):
            mock_interview(learner, quiz_topics, world)
    finally:
        recorder.listeners.remove(listen)
    learner.post(f"/api/v1/attempts/{attempt_id}/submit", json={})
    # The control: after submission the review may show the keys, and the same scan must see them.
    control = [learner.get(f"/api/v1/attempts/{attempt_id}"), learner.get(f"/attempts/{attempt_id}/review")]
    control_text = " ".join(audit_scan.response_text(r.text, r.headers.get("Content-Type", "")) for r in control)
    control_seen = sum(audit_scan.numeric_key_seen(k.numeric_markers, control_text) if k.numeric
                       else audit_scan.theory_key_seen(k.theory_markers, control_text) for k in keys)
    coincident = [k for k in keys if k.numeric and k.seen_in and _same_numbers_elsewhere(world, attempt_id, k)]
    for key in coincident:
        key.seen_in = []
    return {
        "responses_scanned": scanned["responses"],
        "slots": len(keys),
        "numeric_slots": sum(k.numeric for k in keys),
        "theory_slots": sum(not k.numeric for k in keys),
        "slots_without_markers": [k.label for k in keys if not (k.numeric_markers or k.theory_markers)],
        "numeric_keys_seen": sum(bool(k.seen_in) for k in keys if k.numeric),
        # Seen, but every value is also part of another problem the learner was given.
        "numeric_keys_coincident": [k.label for k in coincident],
        "theory_keys_seen": sum(bool(k.seen_in) for k in keys if not k.numeric),
        "quiz_questions_served_in_other_modes": _served_elsewhere(world, attempt_id, keys),
        "control_keys_seen_in_the_review_after_submission": control_seen,
        "slugs_seen": sum(bool(k.slug_seen_in) for k in keys if k.slug),
        "seen": {f"{k.position} {k.label}": {"responses": len(k.seen_in), "first": k.contexts}
                 for k in keys if k.seen_in},
        "slugs_seen_in": {k.label: sorted(set(k.slug_seen_in))[:5] for k in keys if k.slug_seen_in},
    }


def _served_elsewhere(world: World, attempt_id: int, keys: list[SlotKey]) -> dict[str, int]:
    """The quiz's theory questions the server gave the learner as practice, review or mock items
    during the attempt, by purpose (what the key scan had the chance to catch)."""
    from questions.courses.models import AttemptSlot
    from questions.practice.models import PracticeItem

    quiz_items = AttemptSlot.objects.filter(attempt_id=attempt_id).values_list("item_id", flat=True)
    served = PracticeItem.objects.filter(
        learner=world.users[OWNER], question_version__question__slug__in=[k.slug for k in keys if k.slug],
    ).exclude(id__in=quiz_items)
    return dict(Counter(served.values_list("purpose", flat=True)))


def _same_numbers_elsewhere(world: World, attempt_id: int, key: SlotKey) -> bool:
    """Whether another problem the learner was given holds every value of this key in its own
    data (its key or its worked steps): MHA parameters do not depend on the head count, and a
    model's attention parameters are one line of a params problem. Such a sighting is the
    numbers' coincidence, not the slot's key going out."""
    from questions.courses.models import AttemptSlot
    from questions.practice.models import PracticeItem

    slot = AttemptSlot.objects.select_related("item").get(attempt_id=attempt_id, position=key.position)
    given = PracticeItem.objects.filter(learner=world.users[OWNER], variant__isnull=False).exclude(
        variant_id=slot.item.variant_id).select_related("variant")
    for item in given:
        written = audit_scan.written_numbers(item.variant.data)
        if all(ways & written for ways in key.numeric_markers):
            return True
    return False


def answer_item(client: Client, view: dict[str, Any], world: World) -> None:
    """Answer an item wrongly through the API, read the result there and on its page, ask a hint."""
    item_id = view.get("id")
    if not item_id:
        return
    world.ids.setdefault("item_id", item_id)
    response = client.post(f"/api/v1/practice/items/{item_id}/submissions", json={"answer": wrong_answer(view)})
    if response.status_code in (200, 201, 202):
        submission_id = response.json().get("id")
        world.ids.setdefault("submission_id", submission_id)
        client.get(f"/api/v1/submissions/{submission_id}")
        client.get(f"/practice/submissions/{submission_id}/result")
    client.post(f"/api/v1/practice/items/{item_id}/hints", json={})


def practise(client: Client, body: dict[str, Any], world: World) -> None:
    response = client.post("/api/v1/practice/items", json=body)
    if response.status_code in (200, 201):
        answer_item(client, response.json(), world)


def mock_interview(client: Client, topics: list[str], world: World) -> None:
    response = client.post("/mock/start", data={"topic": topics, "preset": "standard"})
    match = re.search(r"/mock/(\d+)/", response.headers.get("Location", ""))
    if not match:
        return
    mock_id = int(match.group(1))
    world.ids.setdefault("mock_id", mock_id)
    client.get(f"/mock/{mock_id}/")
    for position in range(1, 41):
        answered = client.post(f"/mock/{mock_id}/questions/{position}",
                               data={"response": "zzz-not-the-answer", "idempotency_key": secrets.token_hex(8)})
        if answered.status_code == 404:
            break
    client.post(f"/mock/{mock_id}/finish")
    client.get(f"/mock/{mock_id}/review")
    client.get(f"/mock/{mock_id}/review/body")


# --- (c) XSS ------------------------------------------------------------------------------------

MARKER = "Xq7z"
CHROMIUM = "/usr/bin/chromium"


def xss(world: World, clients: dict[str, Client], *, browser: bool) -> dict[str, Any]:
    from questions.catalogue import services as catalogue_services

    payloads = audit_scan.xss_payloads(MARKER)
    teacher, learner = clients[INSTRUCTOR], clients[OWNER]
    stored: Counter = Counter()
    pages: list[tuple[Client, str]] = [(teacher, "/courses/"), (learner, "/courses/"),
                                       (teacher, f"/courses/{world.course.id}/"), (learner, f"/courses/{world.course.id}/"),
                                       (teacher, "/author/"), (teacher, f"/courses/{world.course.id}/gradebook")]
    topic = catalogue_services.topic_upsert(slug="audit-xss", title="Audit XSS")
    for marker, payload in payloads:
        # Course titles and quiz titles, through the API as an instructor types them.
        made = teacher.post("/api/v1/courses", json={"title": payload})
        if made.status_code in (200, 201):
            stored["course title"] += 1
            pages += [(teacher, f"/courses/{made.json()['id']}/")]
        made = teacher.post(f"/api/v1/courses/{world.course.id}/quizzes", json={
            "title": payload, "sections": [{"kind": "mha_params", "difficulty": "easy"}]})
        if made.status_code in (200, 201):
            stored["quiz title"] += 1
            quiz_id = made.json()["id"]
            teacher.post(f"/api/v1/quizzes/{quiz_id}/open", json={})
            pages += [(teacher, f"/quizzes/{quiz_id}/"), (learner, f"/quizzes/{quiz_id}/")]
        # A question: prompt, title, choices, their feedback and the explanation, as authored.
        slug = f"audit-xss-{marker.lower()}"
        data = {"slug": slug, "title": payload, "type": "single_choice", "difficulty": "easy", "prompt": payload,
                "choices": [{"text": payload, "weight": 100, "feedback": payload},
                            {"text": f"plain {marker}", "weight": 0, "feedback": payload}],
                "explanation": payload, "source": payload}
        try:
            catalogue_services.question_author_save(topic_slug=topic.slug, data=data, publish=True,
                                                    author=world.users[INSTRUCTOR])
            stored["question"] += 1
            pages += [(teacher, f"/author/questions/{slug}/")]
        except Exception as exc:  # noqa: BLE001 - a payload the validator refuses is a payload stopped
            stored[f"question refused: {type(exc).__name__}"] += 1
        # A username at sign-up (Django allows only letters, digits and @.+-_).
        signup = Client(teacher.base, ANON, teacher.recorder)
        made = signup.post("/accounts/signup/", data={"username": payload[:150], "password1": PASSWORD,
                                                      "password2": PASSWORD})
        if made.status_code in (301, 302):
            stored["username"] += 1
    # The learner practises the payload questions (each page, the feedback page) and types one as
    # a short answer the instructor reads in the attempt's review.
    for _ in payloads:
        response = learner.post("/api/v1/practice/items", json={"topic": topic.slug})
        if response.status_code in (200, 201):
            view = response.json()
            pages.append((learner, f"/practice/items/{view['id']}/"))
            sent = learner.post(f"/api/v1/practice/items/{view['id']}/submissions",
                                json={"answer": wrong_answer(view)})
            if sent.status_code in (200, 201, 202):
                pages.append((learner, f"/practice/submissions/{sent.json()['id']}/result"))
    attempt_id = world.ids.get("attempt_id")
    if attempt_id:
        pages += [(teacher, f"/attempts/{attempt_id}/review"), (learner, f"/attempts/{attempt_id}/review")]
    # Another learner types the payloads as answers to the quiz; the instructor reads them.
    other = clients[OTHER]
    started = other.post(f"/api/v1/quizzes/{world.quiz.id}/attempts", json={})
    if started.status_code in (200, 201):
        attempt = started.json()
        typed = [s for s in attempt.get("slots", []) if (s.get("item") or {}).get("question_type")
                 in ("short_answer", "numeric")]
        for index, (_, payload) in enumerate(payloads):
            if typed:
                slot = typed[index % len(typed)]
                made = other.post(f"/api/v1/attempts/{attempt['id']}/slots/{slot['position']}/answers",
                                  json={"answer": {"response": payload}})
                stored["typed answer"] += made.status_code in (200, 201, 202)
        other.post(f"/api/v1/attempts/{attempt['id']}/submit", json={})
        pages += [(teacher, f"/attempts/{attempt['id']}/review"), (other, f"/attempts/{attempt['id']}/review"),
                  (teacher, f"/quizzes/{world.quiz.id}/statistics")]

    found: list[dict[str, str]] = []
    shown = 0  # pages where a payload arrived (as text): the check had something to find
    for client, path in pages:
        page = client.get(path)
        shown += MARKER in page.text
        for hit in audit_scan.injected(page.text, MARKER):
            found.append({"role": client.role, "path": path, "hit": hit})
    dialogs = browser_dialogs(clients, pages) if browser else None
    return {"payloads": len(payloads), "stored": dict(stored), "pages_checked": len(pages),
            "pages_showing_a_payload": shown,
            "injections": len(found), "found": found[:20], "browser_dialogs": dialogs}


def browser_dialogs(clients: dict[str, Client], pages: list[tuple[Client, str]]) -> dict[str, Any]:
    """Open every page in headless Chromium with the user's cookies; count dialogs (alert())."""
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    at_login = 0
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"])
        try:
            for role in {c.role for c, _ in pages}:
                client = clients[role]
                context = chromium.new_context()
                context.add_cookies([{"name": c.name, "value": c.value, "url": client.base}
                                     for c in client.session.cookies])
                page = context.new_page()
                page.on("dialog", lambda d, role=role: (dialogs.append(f"{role}: {d.message}"), d.dismiss()))
                for _, path in (p for p in pages if p[0].role == role):
                    page.goto(client.base + path, wait_until="load", timeout=30_000)
                    at_login += "/login/" in page.url
                context.close()
            # The control: a script that does run must be counted.
            control: list[str] = []
            page = chromium.new_page()
            page.on("dialog", lambda d: (control.append(d.message), d.dismiss()))
            page.set_content("<script>alert('control')</script>")
            page.close()
        finally:
            chromium.close()
    return {"pages_opened": len(pages), "dialogs": len(dialogs), "messages": dialogs[:20],
            "pages_that_ended_at_a_login_page": at_login, "control_dialogs": len(control)}


# --- Routes with an id, from the resolver -------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # "courses/<int:course_id>/gradebook"
    api: bool
    admin: bool


def routes_with_ids() -> list[Route]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[Route] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            text = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + text)
            elif isinstance(entry, URLPattern):
                full = prefix + text
                if re.search(r"<[^>]+>|\(\?P<", full) and entry.name != "api-not-found":
                    found.append(Route(entry.name or full, full, full.startswith("api/"), full.startswith("admin/")))

    walk(get_resolver().url_patterns, "")
    return found


def fill(route: Route, ids: dict[str, Any]) -> str | None:
    """The route's path with its parameters set to the seeded objects (None: a parameter we lack)."""
    path = route.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
    missing = []

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in ids:
            missing.append(name)
            return ""
        return str(ids[name])

    path = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", value, path)
    return None if missing else "/" + path


def api_methods(client: Client) -> dict[str, set[str]]:
    """The methods /api/schema/ lists per path template ("/api/v1/courses/{course_id}")."""
    response = client.get("/api/schema/", headers={"Accept": "application/json"}, params={"format": "json"})
    try:
        schema = response.json()
    except ValueError:
        import yaml

        schema = yaml.safe_load(response.text)
    return {path: {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")}
            for path, ops in schema.get("paths", {}).items()}


def access(world: World, clients: dict[str, Client]) -> dict[str, Any]:
    from questions.courses import services as courses_services

    run = courses_services.regrade_start(quiz=world.quiz, user=world.users[INSTRUCTOR])
    ids = {"course_id": world.course.id, "quiz_id": world.quiz.id, "position": 1, "run_id": run.id,
           "topic_slug": "scaled-dot-product", "slug": _public_slug(), "object_id": world.users[OWNER].id,
           **world.ids}
    schema_methods = api_methods(clients[INSTRUCTOR])
    holes, unclassified, skipped, allowed_refused, malformed = [], [], [], [], []
    should_deny, allowed_ok, allowed = Counter(), Counter(), Counter()
    statuses: Counter = Counter()
    # Writes that change what later probes see go last (closing the quiz).
    probes = []
    for route in sorted(routes_with_ids(), key=lambda r: "close" in r.name):
        path = fill(route, ids)
        if path is None:
            skipped.append(route.name)
            continue
        probes.append((route, path, POLICY.get(route.name) if not route.admin else {"*": NOBODY}))
        if route.name == "author-edit" and "course_slug" in world.ids:
            # The course's own question, besides the public bank's: its instructors edit it.
            probes.append((route, fill(route, {**ids, "slug": world.ids["course_slug"]}), {"*": ONLY_INSTRUCTOR}))
    for route, path, policy in probes:
        if route.api:
            template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + route.pattern)
            methods = sorted(schema_methods.get(template, {"GET"}))
        else:
            methods = ["GET", "POST"]
        for method in methods:
            may = None if policy is None else policy.get(method, policy.get("*"))
            for role in ROLES:
                if may is not None and role in may and method != "GET":
                    continue  # an allowed write would change what the next probe sees
                client = clients[role]
                body = {"json": VALID_BODIES.get(route.name, {})} if route.api else {"data": {}}
                response = client.request(method, path, **body)
                statuses[response.status_code] += 1
                got_in = response.status_code < 300 or (
                    response.status_code < 400 and not response.headers.get("Location", "").startswith(LOGIN_PATHS)
                    and "/login/" not in response.headers.get("Location", ""))
                if may is None:
                    unclassified.append(f"{method} /{route.pattern} {role}: {response.status_code}")
                elif role in may:
                    allowed[role] += 1
                    allowed_ok[role] += got_in
                    if not got_in:
                        allowed_refused.append(f"{role}: {method} {path} -> {response.status_code}")
                else:
                    should_deny[role] += 1
                    if got_in:
                        holes.append(f"{role}: {method} {path} -> {response.status_code}")
                    elif response.status_code == 400:
                        malformed.append(f"{role}: {method} {path}")
    return {
        "routes_with_ids": len(routes_with_ids()),
        "requests_that_should_be_denied": sum(should_deny.values()),
        "holes": len(holes),
        "by_role": {r: {"should_be_denied": should_deny[r], "allowed_gets": allowed[r],
                        "allowed_gets_answered": allowed_ok[r]} for r in ROLES},
        "hole_list": holes,
        # Refused, but for the empty body before the role was checked: no hole, and no proof either.
        "denied_as_malformed_before_the_role_check": malformed,
        # Allowed GETs that were not answered: a 405 (a form that only takes POST), a state the
        # object is in, or a rule in POLICY to correct.
        "allowed_gets_refused": allowed_refused,
        "unclassified": unclassified,
        "routes_skipped_no_object": skipped,
        "statuses": dict(sorted(statuses.items())),
    }


def _public_slug() -> str:
    from questions.catalogue.models import QuestionVersion

    return QuestionVersion.objects.filter(status="published").values_list("question__slug", flat=True).first()


# --- (d) CSRF -----------------------------------------------------------------------------------


def csrf(world: World, clients: dict[str, Client]) -> dict[str, Any]:
    """Every page route and every API write, posted with the session cookie and no CSRF token."""
    ids = {"course_id": world.course.id, "quiz_id": world.quiz.id, "position": 1, "topic_slug": "softmax",
           "slug": _public_slug(), **world.ids}
    from django.urls import get_resolver

    pages = ["/" + str(p.pattern) for p in get_resolver().url_patterns
             if hasattr(p, "name") and p.name and "<" not in str(p.pattern) and not str(p.pattern).startswith(("api", "admin"))]
    pages += [p for p in (fill(r, ids) for r in routes_with_ids() if not r.api and not r.admin) if p]
    api_writes = [path for path in (fill(r, ids) for r in routes_with_ids() if r.api) if path]
    api_writes += ["/api/v1/courses", "/api/v1/courses/join", "/api/v1/practice/items", "/api/v1/reviews/next"]
    refused, accepted = 0, []
    for role in (OWNER, INSTRUCTOR):
        client = clients[role]
        for path in pages:
            response = client.request("POST", path, csrf=False, data={"title": "csrf"})
            if response.status_code == 403:
                refused += 1
            else:
                accepted.append(f"{role}: POST {path} -> {response.status_code}")
        for path in api_writes:
            response = client.request("POST", path, token=False, json={})
            if response.status_code == 403:
                refused += 1
            else:
                accepted.append(f"{role}: POST {path} (session, no token) -> {response.status_code}")
    return {"posts": refused + len(accepted), "refused": refused, "not_refused": accepted}


# --- Report -------------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = []
    if a := report.get("access"):
        rows += [("(a) access: requests that should be denied (7 roles x routes)", a["requests_that_should_be_denied"]),
                 ("    holes (2xx, or 3xx not to a login page)", a["holes"]),
                 ("    routes with an id / probes not yet classified",
                  f"{a['routes_with_ids']} / {len(a['unclassified'])}")]
    if b := report.get("leaks"):
        rows += [("(b) leaks: responses scanned before submission", b["responses_scanned"]),
                 ("    numeric keys of the quiz seen (of numeric slots)", f"{b['numeric_keys_seen']} / {b['numeric_slots']}"),
                 ("    theory keys of the quiz seen (of theory slots)", f"{b['theory_keys_seen']} / {b['theory_slots']}"),
                 ("    quiz slugs seen by the learner (of theory slots)", f"{b['slugs_seen']} / {b['theory_slots']}"),
                 ("    quiz questions served as practice, review or mock items",
                  sum(b["quiz_questions_served_in_other_modes"].values())),
                 ("    control: keys seen in the review after submission (of slots)",
                  f"{b['control_keys_seen_in_the_review_after_submission']} / {b['slots']}")]
    if c := report.get("xss"):
        rows += [("(c) XSS: payloads / pages checked (showing a payload)",
                  f"{c['payloads']} / {c['pages_checked']} ({c['pages_showing_a_payload']})"),
                 ("    injected elements or handlers found", c["injections"])]
        if c.get("browser_dialogs"):
            browser = c["browser_dialogs"]
            rows.append(("    dialogs in headless Chromium (the control's: 1)",
                         f"{browser['dialogs']} ({browser['control_dialogs']})"))
    if d := report.get("csrf"):
        rows.append(("(d) CSRF: posts without a token refused", f"{d['refused']} / {d['posts']}"))
    rows.append(("(e) responses >= 500 (of all requests)", f"{len(report['server_errors'])} / {report['requests']}"))
    return "\n".join([f"{'measure':<64}{'figure':>12}", *(f"{name:<64}{value!s:>12}" for name, value in rows)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.security_audit", description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file even where PostgreSQL answers")
    parser.add_argument("--browser", action=argparse.BooleanOptionalAction, default=Path(CHROMIUM).exists(),
                        help=f"also open the XSS pages in headless Chromium (default: when {CHROMIUM} exists)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--only", default="leaks,xss,csrf,access",
                        help="the parts to run, comma-separated (default: all; access runs last)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="security-audit-"))
    try:
        with scratch_database(tmp, sqlite=args.sqlite) as database_url:
            env = server_env(database_url, tmp)
            os.environ.update(env)  # this process seeds and reads keys on the same database
            import django

            django.setup()
            world = seed()
            recorder = Recorder()
            with gunicorn(env, tmp / "gunicorn.log", args.workers) as base:
                clients = {role: Client(base, role, recorder) for role in ROLES}
                for role, name in USERNAMES.items():
                    clients[role].log_in(name)
                report: dict[str, Any] = {"database": database_url.split(":", 1)[0], "server": "gunicorn, DEBUG off"}
                parts = {"leaks": lambda: leaks(world, clients[OWNER]),
                         "xss": lambda: xss(world, clients, browser=args.browser),
                         "csrf": lambda: csrf(world, clients),
                         "access": lambda: access(world, clients)}
                for part, run in parts.items():  # in this order: access changes what it probes
                    if part in args.only.split(","):
                        recorder.part = part
                        report[part] = run()
                        print(f"{part}: done", flush=True)
            from django.db import connections

            connections.close_all()
        report["requests"] = sum(sum(c.values()) for c in recorder.statuses.values())
        report["statuses_by_part"] = {p: dict(sorted(c.items())) for p, c in recorder.statuses.items()}
        report["server_errors"] = recorder.server_errors
        report["seconds"] = round(time.monotonic() - started, 1)
        report["when"] = datetime.now(UTC).isoformat(timespec="seconds")
        report["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                          text=True).stdout.strip()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"security_audit-{report['when'].replace(':', '')[:17]}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS / "latest.json").write_text(out.read_text())
    print(table(report))
    print(f"({report['requests']} requests in {report['seconds']} s on {report['database']}; details in {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
