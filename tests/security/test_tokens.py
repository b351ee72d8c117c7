"""API tokens (django-rest-knox): one per sign-in, expiring, stored hashed, revoked at logout."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"


def sign_in(username: str = "ada") -> dict:
    response = APIClient().post("/api/v1/auth/token", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def as_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_each_sign_in_is_a_new_token_and_both_work(learner):
    first, second = sign_in()["token"], sign_in()["token"]
    assert first != second
    assert AuthToken.objects.filter(user=learner).count() == 2
    assert as_token(first).get("/api/v1/topics").status_code == 200
    assert as_token(second).get("/api/v1/topics").status_code == 200


def test_the_token_is_stored_hashed_and_expires_after_the_ttl(learner):
    issued = sign_in()
    stored = AuthToken.objects.get(user=learner)
    assert issued["token"] not in (stored.digest, stored.token_key)
    expiry = parse_datetime(issued["expiry"])
    expected = timezone.now() + settings.REST_KNOX["TOKEN_TTL"]
    assert abs((expiry - expected).total_seconds()) < 60


def test_an_expired_token_is_refused_and_deleted(learner):
    token = sign_in()["token"]
    AuthToken.objects.filter(user=learner).update(expiry=timezone.now() - timedelta(seconds=1))
    response = as_token(token).get("/api/v1/topics")
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not AuthToken.objects.filter(user=learner).exists()


def test_logout_revokes_exactly_this_token(learner):
    phone, laptop = sign_in()["token"], sign_in()["token"]
    assert as_token(phone).post("/api/v1/auth/logout").status_code == 204
    assert as_token(phone).get("/api/v1/topics").status_code == 401
    assert as_token(laptop).get("/api/v1/topics").status_code == 200


def test_logoutall_revokes_every_token_of_the_user_only(learner, other_learner):
    phone, laptop, bobs = sign_in()["token"], sign_in()["token"], sign_in("bob")["token"]
    assert as_token(phone).post("/api/v1/auth/logoutall").status_code == 204
    assert as_token(phone).get("/api/v1/topics").status_code == 401
    assert as_token(laptop).get("/api/v1/topics").status_code == 401
    assert as_token(bobs).get("/api/v1/topics").status_code == 200


def test_logout_needs_a_token():
    assert APIClient().post("/api/v1/auth/logout").status_code == 401


def test_wrong_credentials_are_a_400_with_a_message(learner):
    response = APIClient().post("/api/v1/auth/token", {"username": "ada", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "username and password" in response.json()["detail"]
    assert not AuthToken.objects.exists()


def test_an_inactive_user_gets_no_token(learner):
    learner.is_active = False
    learner.save()
    response = APIClient().post("/api/v1/auth/token", {"username": "ada", "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_the_token_endpoint_takes_json_only(learner):
    response = APIClient().post("/api/v1/auth/token", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 415


def test_drf_authtoken_is_gone():
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
