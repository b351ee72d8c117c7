"""Request rates (quizsite/api/throttles.py): over the rate, 429 with Retry-After, on the API and
on the pages' forms; reads never count."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from quizsite.api import throttles

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"
RATE = 3


@pytest.fixture(autouse=True)
def low_rates(monkeypatch):
    """Every scope at RATE a minute, and no counts left over from another test."""
    for scope in throttles.LIMITS:
        monkeypatch.setitem(throttles.RATES, scope, f"{RATE}/minute")
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_throttled_api(response) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    assert "throttled" in response.json()["detail"]


def test_answers_over_the_rate_are_429_per_learner(learner, other_learner, numeric_item):
    url = f"/api/v1/practice/items/{numeric_item.id}/submissions"
    client = signed_in(learner)
    for _ in range(RATE):  # unreadable answers still count: the rate is on sending
        assert client.post(url, {"answer": {}}, format="json").status_code == 400
    assert_throttled_api(client.post(url, {"answer": {}}, format="json"))
    # Reading is not limited; another learner has their own count.
    assert client.get(f"/api/v1/practice/items/{numeric_item.id}").status_code == 200
    assert signed_in(other_learner).post(url, {"answer": {}}, format="json").status_code == 404


def test_the_answer_forms_share_the_learners_count_and_say_when_to_retry(learner, numeric_item, client):
    url = f"/api/v1/practice/items/{numeric_item.id}/submissions"
    api = signed_in(learner)
    for _ in range(RATE):
        api.post(url, {"answer": {}}, format="json")
    client.force_login(learner)
    page = f"/practice/items/{numeric_item.id}/"
    assert client.get(page).status_code == 200
    response = client.post(page, {"idempotency_key": "k"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    text = response.content.decode()
    assert "Too many requests" in text and f"more than {RATE} per minute" in text


def test_creations_over_the_rate_are_429_and_listing_still_works(learner):
    client = signed_in(learner)
    for n in range(RATE):
        assert client.post("/api/v1/courses", {"title": f"Course {n}"}, format="json").status_code in {201, 403}
    assert_throttled_api(client.post("/api/v1/courses", {"title": "One more"}, format="json"))
    assert client.get("/api/v1/courses").status_code == 200


def test_creation_pages_share_the_creation_count(learner, client):
    api = signed_in(learner)
    for n in range(RATE):
        api.post("/api/v1/courses", {"title": f"Course {n}"}, format="json")
    client.force_login(learner)
    response = client.post("/courses/new", {"title": "By the page"})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_token_requests_are_limited_per_address(learner):
    client = APIClient()
    body = {"username": "ada", "password": "wrong"}
    for _ in range(RATE):
        assert client.post("/api/v1/auth/token", body, format="json").status_code == 400
    right = {"username": "ada", "password": PASSWORD}
    assert_throttled_api(client.post("/api/v1/auth/token", right, format="json"))
    # A forged X-Forwarded-For is not believed (no trusted proxy): still the same address.
    forged = client.post("/api/v1/auth/token", right, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429
    other = client.post("/api/v1/auth/token", right, format="json", REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200


def test_password_reset_mails_are_limited_per_address(client):
    for _ in range(RATE):
        assert client.post("/accounts/password/reset/", {"email": "x@example.org"}).status_code == 302
    assert client.post("/accounts/password/reset/", {"email": "x@example.org"}).status_code == 429


def test_a_malformed_rate_stops_start_up(monkeypatch):
    monkeypatch.setenv("THROTTLE_ANSWERS", "sixty a minute")
    with pytest.raises(ImproperlyConfigured, match="THROTTLE_ANSWERS"):
        throttles._rate(throttles.LIMITS["answers"])
    monkeypatch.setenv("THROTTLE_ANSWERS", "30/hour")
    assert throttles._rate(throttles.LIMITS["answers"]) == "30/hour"


def test_every_scoped_url_name_exists():
    from django.urls import reverse
    from django.urls.exceptions import NoReverseMatch

    for name in throttles.SCOPE_OF_URL:
        for kwargs in ({}, {"item_id": 1}, {"course_id": 1}, {"quiz_id": 1}, {"attempt_id": 1, "position": 1},
                       {"mock_id": 1, "position": 1}, {"topic_slug": "masking"}):
            try:
                reverse(name, kwargs=kwargs)
                break
            except NoReverseMatch:
                continue
        else:
            pytest.fail(f"{name} is in throttles.LIMITS but no URL has that name")


def test_only_writes_and_costly_reads_count():
    assert throttles.counted("api-courses", "POST") and not throttles.counted("api-courses", "GET")
    assert throttles.counted("api-regrade-preview", "GET")  # it regrades every answer to show the change
    assert not throttles.counted("api-topics", "POST")  # not in any scope


def test_the_schema_lists_the_429_where_a_throttle_can_refuse(learner):
    schema = signed_in(learner).get("/api/schema/?format=json").json()["paths"]
    assert "429" in schema["/api/v1/practice/items/{item_id}/submissions"]["post"]["responses"]
    assert "429" in schema["/api/v1/quizzes/{quiz_id}/regrade/preview"]["get"]["responses"]
    assert "429" in schema["/api/v1/auth/token"]["post"]["responses"]
    assert "429" not in schema["/api/v1/courses"]["get"]["responses"]


def test_every_route_that_serves_an_item_counts_against_the_items_rate(learner, client, bank):
    """The second reading's finding: practice by topic, runs, reviews and mock interviews made items
    (and variants) with no rate; they share one count with the API's item creation."""
    api = signed_in(learner)
    for _ in range(RATE):
        assert api.post("/api/v1/practice/items", {"kind": "mha_params", "difficulty": "easy"}, format="json").status_code == 201
    client.force_login(learner)
    for url in ("/practice/topics/masking", "/practice/run/next", "/reviews/next", "/mock/start"):
        assert client.post(url, {"topic": "masking", "topics": "masking"}).status_code == 429, url
    assert_throttled_api(api.post("/api/v1/reviews/next", format="json"))


def test_sign_ups_are_limited_per_address(client):
    for n in range(RATE):
        client.post("/accounts/signup/", {"username": f"new{n}", "password1": "x", "password2": "y"})
    assert client.post("/accounts/signup/", {"username": "one-more"}).status_code == 429
