"""Bounded work per request (issue #11, findings 4 and 6): sizes checked before parsing, a nesting
limit, and numbers in forms that cannot make a 500."""

import json

import pytest
from django.test import Client

from quizsite.bodies import MAX_JSON_DEPTH

pytestmark = pytest.mark.django_db

BIG = 2 * 1024 * 1024  # twice the default cap (API_MAX_BODY_BYTES)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def api(learner):
    client = Client()
    client.force_login(learner)
    return client


def test_a_body_over_the_cap_is_413_before_parsing_even_anonymously():
    body = json.dumps({"username": "x" * BIG, "password": "y"})
    response = Client().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(api, numeric_item, depth):
    for url in ("/api/v1/auth/token", "/api/v1/practice/items", f"/api/v1/practice/items/{numeric_item.id}/submissions"):
        client = Client() if url.endswith("token") else api
        response = client.post(url, nested(depth), content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert "nests more than" in response.json()["detail"]


def test_an_answer_grid_is_well_within_the_nesting_limit(api, numeric_item):
    variant = numeric_item.variant.data
    response = api.post(f"/api/v1/practice/items/{numeric_item.id}/submissions",
                        json.dumps({"answer": variant["answer"]}), content_type="application/json")
    assert response.status_code == 202


def test_the_preview_page_has_the_same_bounds(api, numeric_item):
    url = f"/practice/items/{numeric_item.id}/preview"
    big = api.post(url, json.dumps({"answer": {"weights": "1 " * BIG}}), content_type="application/json")
    assert big.status_code == 413
    deep = api.post(url, nested(100_000), content_type="application/json")
    assert deep.status_code == 400 and "nests more than" in deep.json()["error"]


HUGE = "9" * 5000  # Python refuses to read an int of more than 4,300 digits


def test_a_5000_digit_number_in_a_form_is_a_4xx_or_ignored_never_a_500(api, numeric_item):
    hint = api.post(f"/practice/items/{numeric_item.id}/hints", {"rung": HUGE})
    assert hint.status_code == 400
    builder = api.get(f"/practice/items/{numeric_item.id}/?submission={HUGE}")
    assert builder.status_code == 200
    mock = api.get("/mock/1/?q=" + HUGE)
    assert mock.status_code == 404  # no such interview; the number is simply not read


def test_a_dropped_database_connection_is_a_503_with_retry_after(api, numeric_item, monkeypatch):
    from django.db import OperationalError

    from questions.practice import selectors as practice_selectors

    def dropped(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(practice_selectors, "practice_item_for_learner", dropped)
    page = api.get(f"/practice/items/{numeric_item.id}/")
    assert page.status_code == 503 and page["Retry-After"] and "nothing was stored" in page.content.decode()
    monkeypatch.setattr("quizsite.api.practice.practice_selectors.practice_item_for_learner", dropped)
    response = api.get(f"/api/v1/practice/items/{numeric_item.id}")
    assert response.status_code == 503 and response["Retry-After"]
    assert "nothing was stored" in response.json()["detail"]


def test_every_request_over_its_cap_is_413_before_a_form_or_upload_is_read(learner):
    """Forms and uploads too (finding 4): the declared length is checked before Django parses a
    form or streams an upload to disk; the question-file import has its own, larger cap."""
    from django.conf import settings

    client = Client()
    client.force_login(learner)
    login_form = Client().post("/accounts/login/", {"username": "x", "password": "y" * BIG})
    assert login_form.status_code == 413
    practice_form = client.post("/practice/new", {"kind": "k" * BIG})
    assert practice_form.status_code == 413 and b"larger than" in practice_form.content
    # An upload just over the forms' cap is within the import's (it then fails on the role: 403).
    upload = b"x" * (settings.API_MAX_BODY_BYTES + 1024)
    assert len(upload) < settings.QUESTION_UPLOAD_MAX_BYTES
    from django.core.files.uploadedfile import SimpleUploadedFile

    within = client.post("/author/import", {"file": SimpleUploadedFile("q.gift", upload)})
    assert within.status_code == 403
    over = client.post("/author/import", {"file": SimpleUploadedFile("q.gift", b"x" * (settings.QUESTION_UPLOAD_MAX_BYTES + 1))})
    assert over.status_code == 413
