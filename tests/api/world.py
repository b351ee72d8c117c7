"""The world the schema tests aim at (tests/api/test_schema_conformance.py in process, and
tests/security/test_live_schemathesis.py over HTTP): a learner with a graded practice answer and
an attempt in progress, an instructor with a course, an open quiz (a theory and a numeric
section), an answered and submitted attempt and a regrade; the ids each user's requests aim at."""

from __future__ import annotations

from django.test import TestCase

import questions.tasks  # noqa: F401  (the grading hooks: seeding grades in-process)
from questions.catalogue import services as catalogue_services
from questions.courses import rules as courses_rules
from questions.courses import services as courses_services
from questions.practice import services as practice_services
from tests.choices import answer_by_id

PASSWORD = "s3cret-pass-word"
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


def seed_world(django_user_model) -> dict[str, tuple]:
    """{"learner": (user, ids), "instructor": (user, ids)}, ids by path parameter name."""
    learner = django_user_model.objects.create_user(username="ada", password=PASSWORD)
    instructor = django_user_model.objects.create_user(username="ines", password=PASSWORD, is_staff=True)
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
        "learner": (learner, {**common, "item_id": item.id, "submission_id": submission.id, "attempt_id": attempt.id}),
        "instructor": (instructor, {**common, "attempt_id": done.id, "run_id": run.id}),
    }
