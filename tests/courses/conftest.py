"""Fixtures for courses and quizzes: an instructor, learners, a small published theory pool."""

import pytest

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import rules as courses_rules
from questions.courses import services as courses_services
from tests.choices import answer_by_id

POOL_SLUGS = ("quiz-pool-a", "quiz-pool-b", "quiz-pool-c")


def choice_question(slug: str, right: int = 0) -> dict:
    """A single-choice question in the bank's format; choice `right` is the key."""
    return {
        "slug": slug,
        "title": f"Question {slug}",
        "type": "single_choice",
        "difficulty": "easy",
        "prompt": f"Pick the right answer ({slug}).",
        "choices": [
            {"text": "Alpha", "weight": 100 if right == 0 else 0, "feedback": "" if right == 0 else "Not alpha."},
            {"text": "Beta", "weight": 100 if right == 1 else 0, "feedback": "" if right == 1 else "Not beta."},
            {"text": "Gamma", "weight": 100 if right == 2 else 0, "feedback": "" if right == 2 else "Not gamma."},
        ],
        "explanation": "Because the test says so.",
        "source": "Test fixture",
    }


@pytest.fixture
def instructor(django_user_model):
    return django_user_model.objects.create_user(username="ines", password="s3cret-pass-word", is_staff=True)


@pytest.fixture
def learners(django_user_model):
    return [
        django_user_model.objects.create_user(username=name, password="s3cret-pass-word")
        for name in ("lea", "leo", "lia", "lou")
    ]


@pytest.fixture
def pool(db):
    """Three published single-choice questions; the key of each is choice 0 ("Alpha")."""
    topic = catalogue_services.topic_upsert(slug="quiz-topic", title="Quiz topic")
    versions = []
    for slug in POOL_SLUGS:
        version, _ = catalogue_services.question_version_save(
            topic=topic, data=choice_question(slug), status=QuestionVersion.Status.PUBLISHED
        )
        versions.append(version)
    return versions


@pytest.fixture
def course(instructor):
    return courses_services.course_create(title="Attention 101", instructor=instructor)


@pytest.fixture
def enrolled(course, learners):
    for learner in learners:
        courses_services.course_join(user=learner, code=course.join_code)
    return learners


def numeric_key_answer(item) -> dict:
    """The right answer to a numeric quiz item, read from its stored variant (tests only); the
    model solution of a code item."""
    if item.variant.is_code:
        return {"code": item.variant.data["answer"]["code"]}
    return {part: str(value) for part, value in item.variant.data["answer"].items()}


@pytest.fixture
def make_quiz(course, instructor, pool):
    """An open quiz in `course`; sections default to one theory pool (draw 1 of the 3)."""

    def make(sections=None, **settings):
        quiz = courses_services.quiz_create(
            course=course,
            actor=instructor,
            title=settings.pop("title", "Quiz"),
            sections=sections or [courses_rules.SectionSpec(questions=POOL_SLUGS)],
            **settings,
        )
        return courses_services.quiz_open(quiz=quiz, actor=instructor)

    return make


def slot_item(attempt, position):
    """The item shown at `position` of the attempt (None where there is no such slot)."""
    from questions.courses.models import AttemptSlot

    slot = (
        AttemptSlot.objects.select_related("item__question_version")
        .filter(attempt=attempt, position=position)
        .first()
    )
    return slot.item if slot is not None else None


def answer(attempt, learner, position, body, *, certainty=None, key=None):
    """Answer through the service and let the (in-process) grading task run on commit.

    A choice in `body` is the author's number (`{"response": 0}` is choice 0, "Alpha"); it is sent
    as the option's id on the slot's item, as a learner's browser would send it.
    """
    from django.test import TestCase

    item = slot_item(attempt, position)
    if item is not None:
        body = answer_by_id(item, body)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return courses_services.answer_submit(
            attempt=attempt, learner=learner, position=position, answer=body,
            certainty=certainty, idempotency_key=key,
        )
