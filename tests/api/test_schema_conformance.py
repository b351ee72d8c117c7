"""The API does what its OpenAPI schema says (schemathesis, bounded and derandomized).

Every operation of /api/schema/ is called against the WSGI app, as a learner who has a practice
item, a graded submission and a quiz attempt, and as an instructor with a course, a quiz and a
regrade. Generated path ids are mostly swapped for the seeded ones, so the calls reach real
objects instead of 404s. Checks: no 5xx, every status code and content type documented, every
body matching its response schema, and invalid requests (negative mode) refused with a 4xx.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import TestCase
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

import questions.tasks  # noqa: F401  (the grading hooks: seeding grades in-process)
from questions.catalogue import services as catalogue_services
from questions.courses import rules as courses_rules
from questions.courses import services as courses_services
from questions.practice import services as practice_services
from tests.choices import answer_by_id

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Per operation and phase; derandomized, so each run sends the same requests.
BOUNDED = settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
THEORY = {
    "slug": "conformance-choice",
    "title": "Which scaling?",
    "type": "single_choice",
    "difficulty": "easy",
    "prompt": "Scores are divided by what?",
    "choices": [
        {"text": "sqrt(d_k)", "weight": 100, "feedback": ""},
        {"text": "d_k", "weight": 0, "feedback": "That is too much."},
        {"text": "Nothing", "weight": 0, "feedback": "The variance grows with d_k."},
    ],
    "explanation": "The dot product of unit-variance vectors has variance d_k.",
    "source": "Vaswani et al. 2017",
}


@pytest.fixture
def seeded(django_user_model):
    """A learner and an instructor with something of each kind the API serves; their ids."""
    learner = django_user_model.objects.create_user(username="ada", password="s3cret-pass-word")
    instructor = django_user_model.objects.create_user(username="ines", password="s3cret-pass-word", is_staff=True)
    topic = catalogue_services.topic_upsert(slug="conformance", title="Conformance")
    catalogue_services.question_version_save(topic=topic, data=THEORY)
    with TestCase.captureOnCommitCallbacks(execute=True):
        item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
        key = item.variant.data["answer"]
        submission = practice_services.submission_create(learner=learner, item=item, answer=key).submission
        course = courses_services.course_create(title="Attention 101", instructor=instructor)
        courses_services.course_join(user=learner, code=course.join_code)
        quiz = courses_services.quiz_create(
            course=course, actor=instructor, title="Quiz", attempts_allowed=0,
            sections=[courses_rules.SectionSpec(questions=(THEORY["slug"],)),
                      courses_rules.SectionSpec(kind="self_attention", difficulty="easy")],
        )
        courses_services.quiz_open(quiz=quiz, actor=instructor)
        done = courses_services.attempt_start(quiz=quiz, learner=learner)
        for slot in done.slots.all():
            # The key: choice 0, sent by its id on the item.
            body = slot.item.variant.data["answer"] if slot.item.is_numeric else answer_by_id(slot.item, {"response": 0})
            courses_services.answer_submit(attempt=done, learner=learner, position=slot.position, answer=body,
                                           certainty=None, idempotency_key=None)
        courses_services.attempt_submit(attempt=done, learner=learner)
        attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
        run = courses_services.regrade_start(quiz=quiz, user=instructor)
    common = {"course_id": course.id, "quiz_id": quiz.id, "position": 1}
    return {
        "learner": (AuthToken.objects.create(user=learner)[1],
                    {**common, "item_id": item.id, "submission_id": submission.id, "attempt_id": attempt.id}),
        "instructor": (AuthToken.objects.create(user=instructor)[1],
                       {**common, "attempt_id": done.id, "run_id": run.id}),
    }


class Counted:
    """The WSGI app, counting the responses it gives by status (printed after the run)."""

    def __init__(self, app):
        self.app, self.statuses = app, Counter()

    def __call__(self, environ, start_response):
        def counting(status, headers, *args):
            self.statuses[int(status.split()[0])] += 1
            return start_response(status, headers, *args)

        return self.app(environ, counting)


@pytest.fixture
def api_schema(seeded, request):
    from quizsite.wsgi import application

    # As Django's test client does: keep the test's connection (and its transaction) open
    # across requests instead of closing it at the end of each one.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = Counted(application)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", app)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        print(f"\n{request.node.name}: {sum(app.statuses.values())} requests, by status {dict(sorted(app.statuses.items()))}")


schema = schemathesis.pytest.from_fixture("api_schema")


def aimed(case, ids: dict[str, int]) -> None:
    """Most generated ids become seeded ones; a few (and every malformed one) still probe 404s."""
    for name, value in (case.path_parameters or {}).items():
        if name in ids and isinstance(value, int) and value % 7 != 3:
            case.path_parameters[name] = ids[name]


def call(case, seeded, who: str) -> None:
    token, ids = seeded[who]
    aimed(case, ids)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_api_as_learner(case, seeded):
    call(case, seeded, "learner")


@schema.include(path_regex="^/api/v1/(courses|quizzes|regrades|attempts)").parametrize()
@BOUNDED
def test_api_as_instructor(case, seeded):
    call(case, seeded, "instructor")
