"""PUT /api/v1/practice/items/{id}/draft: 204, the refusals (400, 404, 409, 413, 415), and the
submission's `from_draft` once a mock interview runs out on the draft."""

from datetime import timedelta

import pytest
from django.utils import timezone

from questions.learning import jobs as learning_jobs
from questions.learning.models import MockInterview, MockInterviewItem
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft, Purpose, Submission

pytestmark = pytest.mark.django_db


def url(item) -> str:
    return f"/api/v1/practice/items/{item.id}/draft"


def first_part(item) -> str:
    return item.variant.data["parts"][0]["name"]


def test_put_keeps_the_draft_and_a_second_put_replaces_it(client_for, learner, numeric_item):
    api = client_for(learner)
    name = first_part(numeric_item)
    assert api.put(url(numeric_item), {"answer": {name: "1 2"}}, format="json").status_code == 204
    response = api.put(url(numeric_item), {"answer": {name: "3 4"}}, format="json")
    assert response.status_code == 204 and response.content == b""
    assert [d.answer for d in AnswerDraft.objects.filter(item=numeric_item)] == [{name: "3 4"}]


@pytest.mark.parametrize("body", [
    {"answer": ["not", "a", "dict"]},
    {"answer": {"no_such_part": "1"}},
    {"answer": {"PART": "1\u00002"}},
    {"no_answer": {}},
])
def test_malformed_drafts_are_400_with_a_message(client_for, learner, numeric_item, body):
    if "answer" in body and isinstance(body["answer"], dict) and "PART" in body["answer"]:
        body = {"answer": {first_part(numeric_item): body["answer"]["PART"]}}
    response = client_for(learner).put(url(numeric_item), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not AnswerDraft.objects.exists()


def test_a_body_that_is_not_json_is_415_and_a_huge_one_413(client_for, learner, numeric_item, settings):
    api = client_for(learner)
    assert api.put(url(numeric_item), "answer=1", content_type="application/x-www-form-urlencoded").status_code == 415
    settings.API_MAX_BODY_BYTES = 1000
    huge = {"answer": {first_part(numeric_item): "9" * 5000}}
    assert api.put(url(numeric_item), huge, format="json").status_code == 413
    assert not AnswerDraft.objects.exists()


def test_someone_elses_item_is_404(client_for, other_learner, numeric_item):
    response = client_for(other_learner).put(url(numeric_item), {"answer": {first_part(numeric_item): "1"}}, format="json")
    assert response.status_code == 404
    assert not AnswerDraft.objects.exists()


def test_an_interview_that_ran_out_is_409_and_its_draft_comes_back_as_the_answer(
    client_for, learner, django_capture_on_commit_callbacks
):
    item = practice_services.practice_item_create_numeric(
        learner=learner, kind="self_attention", difficulty="easy", purpose=Purpose.MOCK
    )
    now = timezone.now()
    mock = MockInterview.objects.create(learner=learner, topics=["self-attention"], question_count=1,
                                        duration_seconds=600, started_at=now, deadline=now + timedelta(minutes=10))
    MockInterviewItem.objects.create(mock=mock, position=1, item=item)
    api = client_for(learner)
    key = {p: str(v) for p, v in item.variant.data["answer"].items()}
    assert api.put(url(item), {"answer": key}, format="json").status_code == 204
    MockInterview.objects.filter(id=mock.id).update(deadline=timezone.now())
    late = api.put(url(item), {"answer": {first_part(item): "1"}}, format="json")
    assert late.status_code == 409 and "over" in late.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        learning_jobs.mocks_close_overdue()
    submission = Submission.objects.get(item=item)
    assert submission.from_draft and submission.score == 1.0
