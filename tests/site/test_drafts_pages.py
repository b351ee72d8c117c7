"""Drafts through the pages: POST /practice/items/<id>/draft (the answer form's own fields), its
refusals, the draft restored on the item's page, a quiz and a mock interview, and the review."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from questions.courses.models import QuizAttempt
from questions.learning.models import MockInterview, MockInterviewItem
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft, Purpose, Submission
from quizsite.presenters import cell_field
from tests.choices import by_id
from tests.courses.conftest import (  # noqa: F401 - fixtures used by name
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    pool,
)

pytestmark = pytest.mark.django_db


def first_cell(item) -> tuple[str, str, dict]:
    """The form field of the first cell of the item's first part, its part name and the part."""
    part = item.variant.data["parts"][0]
    shape = list(part["shape"])
    field = cell_field(part["name"], 0, 0, shape) if shape else f"part-{part['name']}"
    return field, part["name"], part


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def test_a_draft_is_kept_from_the_forms_fields(logged_in, learner, numeric_item):
    field, name, part = first_cell(numeric_item)
    response = logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "1.5"})
    assert response.status_code == 204
    draft = AnswerDraft.objects.get(learner=learner, item=numeric_item)
    typed = draft.answer[name]
    first = typed if isinstance(typed, str) else (typed[0] if not isinstance(typed[0], list) else typed[0][0])
    assert first == "1.5"
    assert set(draft.answer) == {p["name"] for p in numeric_item.variant.data["parts"]}


def test_the_item_page_restores_the_draft_with_its_time(logged_in, numeric_item):
    field, _, _ = first_cell(numeric_item)
    assert logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "1.5"}).status_code == 204
    html = logged_in.get(f"/practice/items/{numeric_item.id}/").content.decode()
    assert re.search(rf'name="{field}"[^>]*value="1.5"', html), "the typed cell is not filled in"
    assert "Restored your unsaved answer from" in html
    assert f'data-draft-url="/practice/items/{numeric_item.id}/draft"' in html


def test_a_newer_submitted_answer_wins_over_the_draft(logged_in, learner, numeric_item):
    field, _, _ = first_cell(numeric_item)
    logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "1.5"})
    AnswerDraft.objects.filter(item=numeric_item).update(updated_at=timezone.now() - timedelta(minutes=1))
    Submission.objects.create(item=numeric_item, learner=learner, answer={"x": "1"})
    html = logged_in.get(f"/practice/items/{numeric_item.id}/").content.decode()
    assert "Restored your unsaved answer" not in html
    assert not re.search(rf'name="{field}"[^>]*value="1.5"', html)


def test_a_draft_needs_the_csrf_token(learner, numeric_item):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    field, _, _ = first_cell(numeric_item)
    assert client.post(f"/practice/items/{numeric_item.id}/draft", {field: "1"}).status_code == 403
    assert not AnswerDraft.objects.exists()


def test_a_nul_is_refused_with_a_message(logged_in, numeric_item):
    field, _, _ = first_cell(numeric_item)
    response = logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "1\x002"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not AnswerDraft.objects.exists()


def test_an_oversized_body_is_refused_before_the_view(logged_in, numeric_item, settings):
    settings.API_MAX_BODY_BYTES = 1000
    field, _, _ = first_cell(numeric_item)
    response = logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "9" * 5000})
    assert response.status_code == 413
    assert not AnswerDraft.objects.exists()


def test_someone_elses_item_is_not_found(client, other_learner, numeric_item):
    client.force_login(other_learner)
    field, _, _ = first_cell(numeric_item)
    assert client.post(f"/practice/items/{numeric_item.id}/draft", {field: "1"}).status_code == 404
    assert not AnswerDraft.objects.exists()


def test_a_graded_practice_item_answers_409(logged_in, learner, numeric_item):
    Submission.objects.create(item=numeric_item, learner=learner, answer={}, status=Submission.Status.GRADED, score=0.0)
    field, _, _ = first_cell(numeric_item)
    response = logged_in.post(f"/practice/items/{numeric_item.id}/draft", {field: "1"})
    assert response.status_code == 409
    assert "already graded" in response.content.decode()


def test_get_is_not_allowed(logged_in, numeric_item):
    assert logged_in.get(f"/practice/items/{numeric_item.id}/draft").status_code == 405


# --- Mock interview ------------------------------------------------------------------------------


@pytest.fixture
def running_mock(learner):
    item = practice_services.practice_item_create_numeric(
        learner=learner, kind="self_attention", difficulty="easy", purpose=Purpose.MOCK
    )
    now = timezone.now()
    mock = MockInterview.objects.create(learner=learner, topics=["self-attention"], question_count=1,
                                        duration_seconds=600, started_at=now, deadline=now + timedelta(minutes=10))
    MockInterviewItem.objects.create(mock=mock, position=1, item=item)
    return mock, item


def test_a_mock_interview_page_restores_the_draft_and_finish_lists_it(logged_in, running_mock):
    mock, item = running_mock
    field, _, _ = first_cell(item)
    assert logged_in.post(f"/practice/items/{item.id}/draft", {field: "2.5"}).status_code == 204
    html = logged_in.get(f"/mock/{mock.id}/").content.decode()
    assert re.search(rf'name="{field}"[^>]*value="2.5"', html)
    assert "Restored your unsaved answer from" in html
    finish = logged_in.get(f"/mock/{mock.id}/finish").content.decode()
    assert "Typed but not sent" in finish and "?q=1" in finish


def test_a_timed_out_mock_answers_409_and_its_review_says_graded_from_the_draft(
    logged_in, running_mock, django_capture_on_commit_callbacks
):
    mock, item = running_mock
    key = {p: str(v) for p, v in item.variant.data["answer"].items()}
    practice_services.answer_draft_save(learner=mock.learner, item=item, answer=key)
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now())
    field, _, _ = first_cell(item)
    assert logged_in.post(f"/practice/items/{item.id}/draft", {field: "1"}).status_code == 409
    from questions.learning.tasks import close_overdue_mocks

    with django_capture_on_commit_callbacks(execute=True):
        close_overdue_mocks.delay().get()  # beat; grading runs in-process on commit
    review = logged_in.get(f"/mock/{mock.id}/review")
    html = review.content.decode()
    assert review.status_code == 200
    assert "Graded from what you had entered when time ran out." in html
    assert Submission.objects.get(item=item).from_draft


# --- Quiz attempt --------------------------------------------------------------------------------


def test_a_quiz_page_restores_the_draft_and_the_review_says_so(
    client, make_quiz, enrolled, django_capture_on_commit_callbacks  # noqa: F811
):
    lea = enrolled[0]
    client.force_login(lea)
    quiz = make_quiz(time_limit_seconds=600)
    client.post(f"/quizzes/{quiz.id}/start")
    attempt = QuizAttempt.objects.get(quiz=quiz, learner=lea)
    item = attempt.slots.get(position=0).item
    right = by_id(item, 0)
    assert client.post(f"/practice/items/{item.id}/draft", {"response": right}).status_code == 204
    html = client.get(f"/attempts/{attempt.id}/").content.decode()
    assert "Restored your unsaved answer from" in html
    assert re.search(rf'value="{right}"[^>]*checked', html), "the drafted choice is not checked"
    confirm = client.get(f"/attempts/{attempt.id}/submit").content.decode()
    assert "Typed but not sent" in confirm
    QuizAttempt.objects.filter(id=attempt.id).update(deadline=timezone.now())
    opened = client.get(f"/attempts/{attempt.id}/")  # what the countdown opens at zero: a read
    assert opened.status_code == 302 and opened["Location"] == f"/attempts/{attempt.id}/review"
    waiting = client.get(opened["Location"]).content.decode()
    assert "Still grading 1 answer; this page updates by itself." in waiting
    assert client.get(f"/attempts/{attempt.id}/review?part=body").status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/attempts/{attempt.id}/submit")  # a write: stores the end at the deadline
    attempt.refresh_from_db()
    assert attempt.submitted_by == "deadline" and attempt.score == 1.0
    html = client.get(f"/attempts/{attempt.id}/review").content.decode()
    assert "Graded from what you had entered when time ran out." in html


def test_after_the_deadline_the_review_waits_for_the_draft_until_beat_grades_it(
    logged_in, running_mock, django_capture_on_commit_callbacks
):
    mock, item = running_mock
    key = {p: str(v) for p, v in item.variant.data["answer"].items()}
    practice_services.answer_draft_save(learner=mock.learner, item=item, answer=key)
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now())
    opened = logged_in.get(f"/mock/{mock.id}/")  # what the countdown opens at zero: a read
    assert opened.status_code == 302 and opened["Location"] == f"/mock/{mock.id}/review"
    review = logged_in.get(opened["Location"]).content.decode()
    assert "Still grading 1 answer; this page updates by itself." in review
    assert f'data-live-url="/mock/{mock.id}/review/body"' in review
    assert logged_in.get(f"/mock/{mock.id}/review/body").status_code == 202
    assert not Submission.objects.filter(item=item).exists()  # reads never write
    from questions.learning.tasks import close_overdue_mocks

    with django_capture_on_commit_callbacks(execute=True):
        close_overdue_mocks.delay().get()
    body = logged_in.get(f"/mock/{mock.id}/review/body")
    assert body.status_code == 200
    assert "Graded from what you had entered when time ran out." in body.content.decode()
