"""The JSON API: token auth, items without keys, idempotent submissions, learners' isolation."""

import json

import pytest
from rest_framework.test import APIClient

from questions.practice import tasks as practice_tasks

pytestmark = pytest.mark.django_db


def new_item(client) -> dict:
    response = client.post("/api/v1/practice/items", {"kind": "self_attention", "difficulty": "easy"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_token_with_wrong_password_is_refused(learner):
    response = APIClient().post("/api/v1/auth/token", {"username": "ada", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_requests_are_refused():
    assert APIClient().get("/api/v1/topics").status_code == 401


def test_item_never_contains_the_key(learner, client_for):
    from questions.practice.models import PracticeItem

    client = client_for(learner)
    item = new_item(client)
    stored = PracticeItem.objects.get(id=item["id"]).variant.data
    body = json.dumps(item)
    assert set(item) >= {"id", "type", "prompt", "params", "parts"}
    assert "answer" not in item and "steps" not in item and "verification" not in item
    for part in stored["answer"].values():
        # The key's full-precision numbers appear nowhere in what the learner receives.
        flat = part if isinstance(part, list) else [part]
        while flat and isinstance(flat[0], list):
            flat = [x for row in flat for x in row]
        for value in flat:
            if isinstance(value, float) and not float(value).is_integer():
                assert repr(value) not in body
    assert client.get(f"/api/v1/practice/items/{item['id']}").json() == item


def test_submit_then_read_the_grade(learner, client_for, django_capture_on_commit_callbacks):
    from questions.practice.models import PracticeItem

    client = client_for(learner)
    item = new_item(client)
    key = PracticeItem.objects.get(id=item["id"]).variant.data["answer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/practice/items/{item['id']}/submissions", {"answer": key}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # accepted; graded after the commit
    graded = client.get(f"/api/v1/submissions/{response.json()['id']}").json()
    assert graded["status"] == "graded"
    assert graded["score"] == pytest.approx(1.0)
    assert graded["misconception"] is None


def test_idempotency_key_twice_gives_one_submission(learner, client_for):
    from questions.practice.models import PracticeItem, Submission

    client = client_for(learner)
    item = new_item(client)
    key = PracticeItem.objects.get(id=item["id"]).variant.data["answer"]
    url = f"/api/v1/practice/items/{item['id']}/submissions"
    first = client.post(url, {"answer": key}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    second = client.post(url, {"answer": key}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert Submission.objects.count() == 1


def test_unreadable_answer_is_a_400_naming_the_cell(learner, client_for):
    from questions.practice.models import Submission

    client = client_for(learner)
    item = new_item(client)
    part = item["parts"][0]
    rows, cols = part["shape"]
    typed = "\n".join(" ".join("0.1" for _ in range(cols)) for _ in range(rows - 1)) + "\n" + "x " * cols
    response = client.post(
        f"/api/v1/practice/items/{item['id']}/submissions", {"answer": {part["name"]: typed}}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["format_errors"]
    assert any(e["part"] == part["name"] and e["row"] == rows - 1 for e in errors)
    assert not Submission.objects.exists()


def test_parts_the_problem_does_not_have_and_huge_answers_are_refused_unstored(learner, client_for):
    from questions.practice.models import PracticeItem, Submission

    client = client_for(learner)
    item = new_item(client)
    key = PracticeItem.objects.get(id=item["id"]).variant.data["answer"]
    url = f"/api/v1/practice/items/{item['id']}/submissions"
    extra = client.post(url, {"answer": {**key, "extra": 2}}, format="json")
    assert extra.status_code == 400
    assert extra.json()["format_errors"][0] == {"part": "extra", "row": None, "col": None,
                                                "message": "This question has no part “extra”."}
    first = item["parts"][0]["name"]
    huge = client.post(url, {"answer": {**key, first: "1" + " " * 30_000}}, format="json")
    assert huge.status_code == 400 and "longer than 20,000 characters" in huge.content.decode()
    assert not Submission.objects.exists()
    assert client.post(url, {"answer": key}, format="json").status_code == 202  # the key itself is fine


def test_malformed_bodies_are_400_not_500(learner, client_for):
    client = client_for(learner)
    assert client.post("/api/v1/practice/items", {"kind": "nope"}, format="json").status_code == 400
    assert client.post("/api/v1/practice/items", {"difficulty": "easy"}, format="json").status_code == 400
    assert (
        client.post("/api/v1/practice/items", {"kind": "self_attention", "difficulty": "extreme"}, format="json")
        .status_code == 400
    )
    item = new_item(client)
    url = f"/api/v1/practice/items/{item['id']}/submissions"
    assert client.post(url, {"answer": "not a dict"}, format="json").status_code == 400
    assert client.post(url, "{broken json", content_type="application/json").status_code == 400


def test_learners_cannot_reach_each_others_items(learner, other_learner, client_for):
    from questions.practice.models import PracticeItem

    mine = client_for(learner)
    theirs = client_for(other_learner)
    item = new_item(mine)
    key = PracticeItem.objects.get(id=item["id"]).variant.data["answer"]
    submission = mine.post(f"/api/v1/practice/items/{item['id']}/submissions", {"answer": key}, format="json")
    assert submission.status_code == 202
    assert mine.get(f"/api/v1/submissions/{submission.json()['id']}").status_code == 200
    assert theirs.get(f"/api/v1/practice/items/{item['id']}").status_code == 404
    assert theirs.post(f"/api/v1/practice/items/{item['id']}/submissions", {"answer": key}, format="json").status_code == 404
    assert theirs.get(f"/api/v1/submissions/{submission.json()['id']}").status_code == 404


def test_openapi_schema_lists_the_endpoints(learner, client_for):
    response = client_for(learner).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/auth/token", "/api/v1/practice/items", "/api/v1/submissions/{submission_id}"):
        assert path in text


def test_worker_not_answering_is_a_503_not_a_client_error(learner, client_for):
    from unittest import mock


    client = client_for(learner)
    with mock.patch.object(practice_tasks.generate_variants, "delay", side_effect=ConnectionError("broker down")):
        response = client.post("/api/v1/practice/items", {"kind": "self_attention", "difficulty": "hard"}, format="json")
    assert response.status_code == 503
    assert "worker did not answer" in response.json()["detail"]
