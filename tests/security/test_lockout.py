"""Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
address, the login form, the admin login and the token endpoint answer 429 with Retry-After."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"
LIMIT = 5
COOL_OFF_SECONDS = 15 * 60


@pytest.fixture(autouse=True)
def axes_on(settings):
    """The test settings switch axes off (Client.login() has no request); these tests need it."""
    settings.AXES_ENABLED = True
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME == timedelta(seconds=COOL_OFF_SECONDS)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_user(username="root", password=PASSWORD, is_staff=True,
                                                 is_superuser=True)


def form_login(client: Client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def token_login(client: APIClient, username: str, password: str):
    return client.post("/api/v1/auth/token", {"username": username, "password": password}, format="json")


def assert_locked_page(response) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(COOL_OFF_SECONDS)
    text = response.content.decode()
    assert "Too many failed sign-ins" in text and "15 minutes" in text
    assert "<html" in text  # the site's page, not a bare message or a 500


def test_login_form_locks_at_the_limit(learner):
    client = Client()
    for _ in range(LIMIT - 1):
        response = form_login(client, "ada", "wrong")
        assert response.status_code == 200  # the form again, with its error
        assert "correct username and password" in response.content.decode()
    assert_locked_page(form_login(client, "ada", "wrong"))
    assert_locked_page(form_login(client, "ada", "wrong"))  # the 6th
    assert_locked_page(form_login(client, "ada", PASSWORD))  # even the right password now
    assert "_auth_user_id" not in client.session


def test_admin_login_locks_at_the_limit(admin_user):
    client = Client()
    for _ in range(LIMIT - 1):
        assert form_login(client, "root", "wrong", "/admin/login/").status_code == 200
    assert_locked_page(form_login(client, "root", "wrong", "/admin/login/"))
    assert_locked_page(form_login(client, "root", PASSWORD, "/admin/login/"))


def test_token_endpoint_locks_at_the_limit_with_json(learner):
    client = APIClient()
    for _ in range(LIMIT - 1):
        assert token_login(client, "ada", "wrong").status_code == 400
    for password in ("wrong", "wrong", PASSWORD):
        response = token_login(client, "ada", password)
        assert response.status_code == 429
        assert response["Retry-After"] == str(COOL_OFF_SECONDS)
        assert "Too many failed sign-ins" in response.json()["detail"]
        assert "token" not in response.json()


def test_failures_count_across_form_and_api_and_lock_both(learner):
    for _ in range(LIMIT - 1):
        form_login(Client(), "ada", "wrong")
    assert token_login(APIClient(), "ada", "wrong").status_code == 429
    assert_locked_page(form_login(Client(), "ada", PASSWORD))


def test_lockout_is_per_username_and_address(learner, other_learner):
    for _ in range(LIMIT):
        form_login(Client(), "ada", "wrong")
    assert form_login(Client(), "bob", PASSWORD).status_code == 302  # another learner, same address
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert form_login(elsewhere, "ada", PASSWORD).status_code == 302  # ada, from another address


def test_a_success_clears_the_count(learner):
    for _ in range(LIMIT - 1):
        form_login(Client(), "ada", "wrong")
    assert form_login(Client(), "ada", PASSWORD).status_code == 302
    for _ in range(LIMIT - 1):
        assert form_login(Client(), "ada", "wrong").status_code == 200


def test_the_lock_ends_after_the_cool_off(learner):
    for _ in range(LIMIT):
        form_login(Client(), "ada", "wrong")
    assert form_login(Client(), "ada", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert form_login(Client(), "ada", PASSWORD).status_code == 302


def test_test_client_login_works_with_axes_given_a_request(learner):
    assert Client().login(request=HttpRequest(), username="ada", password=PASSWORD)


def test_a_token_success_clears_the_count_too(learner):
    client = APIClient()
    for _ in range(LIMIT - 1):
        token_login(client, "ada", "wrong")
    assert token_login(client, "ada", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert token_login(client, "ada", "wrong").status_code == 400


def test_a_failure_is_recorded_without_the_password(learner):
    form_login(Client(), "ada", "hunter2-guess")
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("ada", "127.0.0.1", 1)
    assert "hunter2-guess" not in attempt.post_data
