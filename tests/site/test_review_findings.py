"""Defects found by a second reader of the quiz, mock interview and learning changes, each pinned
by a test that failed before its fix."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import services as courses_services
from questions.courses.models import Quiz, QuizAttempt
from questions.learning.models import MockInterview, MockInterviewItem
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem, Purpose, Submission
from tests.choices import answer_by_id, by_id
from tests.courses.conftest import (  # noqa: F401 - fixtures used by name
    POOL_SLUGS,
    answer,
    choice_question,
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    pool,
    slot_item,
)

pytestmark = pytest.mark.django_db

# Not an ASCII digit, yet str.isdigit() says it is one and int() refuses it.
SUPERSCRIPT_TWO = "\u00b2"


@pytest.fixture
def elsewhere(pool):  # noqa: F811
    """Two public-bank questions no quiz draws. The pool's questions are drawn by the open quiz
    of the learner's course, so they are withheld from practice and mock interviews (403)."""
    topic = pool[0].question.topic
    return [
        catalogue_services.question_version_save(
            topic=topic, data=choice_question(slug), status=QuestionVersion.Status.PUBLISHED
        )[0]
        for slug in ("practice-only-a", "practice-only-b")
    ]


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def graded_quiz_answer(make_quiz, learner, *, key: str) -> tuple[QuizAttempt, Submission]:  # noqa: F811
    """A wrong answer in an attempt still in progress of an after-submission quiz: graded by the
    worker, but neither its mark nor its feedback may reach the learner yet."""
    quiz = make_quiz(feedback_timing=Quiz.FeedbackTiming.AFTER_SUBMISSION)
    attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
    accepted = answer(attempt, learner, 0, {"response": 1}, key=key)  # "Beta", by its id
    submission = Submission.objects.get(id=accepted.answer.submission_id)
    assert submission.status == Submission.Status.GRADED and submission.score == 0.0
    return attempt, submission


def test_practice_api_replaying_a_quiz_answers_idempotency_key_does_not_show_its_grade(
    make_quiz, enrolled, pool, elsewhere  # noqa: F811
):
    learner = enrolled[0]
    attempt, quiz_submission = graded_quiz_answer(make_quiz, learner, key="quiz-key-1")
    practice = PracticeItem.objects.create(learner=learner, question_version=elsewhere[0], purpose=Purpose.PRACTICE)
    response = api_client(learner).post(
        f"/api/v1/practice/items/{practice.id}/submissions",
        {"answer": answer_by_id(practice, {"response": 0})},
        format="json",
        HTTP_IDEMPOTENCY_KEY="quiz-key-1",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert "score" not in body and "feedback" not in body
    assert "Not beta" not in response.content.decode()  # the quiz answer's feedback
    assert not Submission.objects.filter(item=practice).exists()
    assert QuizAttempt.objects.get(id=attempt.id).state == QuizAttempt.State.IN_PROGRESS


def test_practice_page_replaying_another_items_key_is_a_400_not_a_redirect_to_nothing(
    client, make_quiz, enrolled, pool, elsewhere  # noqa: F811
):
    learner = enrolled[0]
    graded_quiz_answer(make_quiz, learner, key="quiz-key-2")
    practice = PracticeItem.objects.create(learner=learner, question_version=elsewhere[0], purpose=Purpose.PRACTICE)
    client.force_login(learner)
    response = client.post(
        f"/practice/items/{practice.id}/", {"response": by_id(practice, 0), "idempotency_key": "quiz-key-2"}
    )
    assert response.status_code == 400
    assert "Idempotency" in response.content.decode() or "already used" in response.content.decode()
    assert not Submission.objects.filter(item=practice).exists()


def _mock_of(learner, versions) -> MockInterview:
    now = timezone.now()
    mock = MockInterview.objects.create(
        learner=learner, topics=["quiz-topic"], question_count=len(versions), duration_seconds=600,
        started_at=now, deadline=now + timedelta(seconds=600),
    )
    for position, version in enumerate(versions, start=1):
        item = PracticeItem.objects.create(learner=learner, question_version=version, purpose=Purpose.MOCK)
        MockInterviewItem.objects.create(mock=mock, position=position, item=item)
    return mock


def test_mock_answer_with_a_key_already_used_elsewhere_is_refused_not_silently_lost(
    client, make_quiz, enrolled, pool, elsewhere  # noqa: F811
):
    learner = enrolled[0]
    graded_quiz_answer(make_quiz, learner, key="quiz-key-3")
    mock = _mock_of(learner, elsewhere)
    first = mock.entries.get(position=1).item
    client.force_login(learner)
    response = client.post(f"/mock/{mock.id}/questions/1", {"response": by_id(first, 0), "idempotency_key": "quiz-key-3"})
    # Before the fix: a redirect saying "saved" while the mock answer was never stored.
    assert response.status_code == 400
    assert "data-score" not in response.content.decode()
    assert not Submission.objects.filter(item__purpose=Purpose.MOCK).exists()
    # A fresh key stores the answer as usual.
    response = client.post(f"/mock/{mock.id}/questions/1", {"response": by_id(first, 0), "idempotency_key": "fresh"})
    assert response.status_code == 302
    assert Submission.objects.filter(item__purpose=Purpose.MOCK).count() == 1


def test_non_ascii_digits_in_query_strings_and_forms_are_never_a_500(
    client, make_quiz, enrolled, instructor, course, pool, elsewhere  # noqa: F811
):
    learner = enrolled[0]
    quiz = make_quiz(certainty_based_marking=True)
    attempt = courses_services.attempt_start(quiz=quiz, learner=learner)
    mock = _mock_of(learner, elsewhere)
    practice = PracticeItem.objects.create(learner=learner, question_version=elsewhere[0], purpose=Purpose.PRACTICE)
    odd = SUPERSCRIPT_TWO
    client.force_login(learner)
    for url in (
        f"/attempts/{attempt.id}/?q={odd}",
        f"/attempts/{attempt.id}/?saved={odd}",
        f"/mock/{mock.id}/?q={odd}",
        f"/mock/{mock.id}/?saved={odd}",
        f"/practice/items/{practice.id}/?submission={odd}",
    ):
        assert client.get(url).status_code == 200, url
    # A certainty or a choice that is not a plain number: a 400 with the form again.
    alpha = by_id(slot_item(attempt, 0), 0)
    response = client.post(f"/attempts/{attempt.id}/questions/0", {"response": alpha, "certainty": odd})
    assert response.status_code == 400
    response = client.post(f"/practice/items/{practice.id}/", {"response": odd})
    assert response.status_code == 400
    response = client.post(f"/mock/{mock.id}/questions/1", {"response": odd})
    assert response.status_code == 400
    response = client.post(f"/practice/items/{practice.id}/hints", {"rung": odd})
    assert response.status_code == 400
    assert not Submission.objects.exists()
    client.force_login(instructor)
    assert client.get(f"/quizzes/{quiz.id}/regrade?run={odd}").status_code == 200
    assert client.get(f"/courses/{course.id}/quizzes/new?sections={odd}").status_code == 200


def _course_page_queries(client, course) -> int:  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/courses/{course.id}/").status_code == 200
    return len(queries)


def test_a_learners_course_page_costs_the_same_queries_for_one_quiz_or_five(
    client, make_quiz, enrolled, course  # noqa: F811
):
    learner = enrolled[0]
    courses_services.attempt_start(quiz=make_quiz(title="Quiz 1", attempts_allowed=0), learner=learner)
    client.force_login(learner)
    one = _course_page_queries(client, course)
    for n in range(2, 6):
        quiz = make_quiz(title=f"Quiz {n}", attempts_allowed=0)
        courses_services.attempt_submit(attempt=courses_services.attempt_start(quiz=quiz, learner=learner), learner=learner)
    assert _course_page_queries(client, course) == one


def test_an_integer_beyond_any_float_is_a_400_in_the_preview_and_the_api(client, learner):
    import json


    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    part = item.variant.data["parts"][0]["name"]
    client.force_login(learner)
    response = client.post(
        f"/practice/items/{item.id}/preview", json.dumps({"answer": {part: 10**400}}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["parts"][part]["errors"]
    response = api_client(learner).post(
        f"/api/v1/practice/items/{item.id}/submissions", {"answer": {part: 10**400}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert not Submission.objects.filter(item=item).exists()
