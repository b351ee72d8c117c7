"""Password change and reset (Django's views, the site's pages)."""

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"
NEW = "a-brand-new-pass-phrase-42"


@pytest.fixture
def ada(learner):
    learner.email = "ada@example.org"
    learner.save()
    return learner


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_login_page_links_to_the_reset_and_signed_in_pages_to_the_change(client, learner):
    assert 'href="/accounts/password/reset/"' in client.get("/accounts/login/").content.decode()
    client.force_login(learner)
    assert 'href="/accounts/password/change/"' in client.get("/").content.decode()


def test_reset_mails_a_link_that_sets_a_new_password_once(client, ada):
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200 and "Forgot your password?" in page.content.decode()
    response = client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"] and "ada" in message.body
    assert message.subject == "Your Attention Quiz password"
    link = reset_link(message)

    form = client.get(link, follow=True)  # Django swaps the token for a session key first
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"
    ada.refresh_from_db()
    assert ada.check_password(NEW)
    assert client.login(username="ada", password=NEW)

    client.logout()
    again = client.get(link, follow=True)
    assert "This link does not work" in again.content.decode()


def test_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, ada):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_change_needs_the_old_password(client, learner):
    client.force_login(learner)
    assert client.get("/accounts/password/change/").status_code == 200
    wrong = client.post("/accounts/password/change/",
                        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200
    assert "old password was entered incorrectly" in wrong.content.decode()
    learner.refresh_from_db()
    assert learner.check_password(PASSWORD)

    right = client.post("/accounts/password/change/",
                        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert right.status_code == 302 and right["Location"] == "/accounts/password/change/done/"
    learner.refresh_from_db()
    assert learner.check_password(NEW)
    assert "Password changed" in client.get("/accounts/password/change/done/").content.decode()
    assert client.get("/").context["user"].is_authenticated  # this browser stays signed in


def test_change_page_is_for_signed_in_users(client):
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
