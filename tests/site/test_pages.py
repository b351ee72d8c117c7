"""The web pages of the answer flow, through Django's test client."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def start_problem(client) -> str:
    response = client.post("/practice/new", {"kind": "self_attention", "difficulty": "easy"})
    assert response.status_code == 302
    return response["Location"]


def test_home_lists_kinds_for_learners_and_invites_strangers(client, learner):
    assert "Create a free account" in client.get("/").content.decode()
    client.force_login(learner)
    page = client.get("/").content.decode()
    assert 'data-kind="self_attention"' in page


def test_signup_logs_the_new_learner_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "grace", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"},
    )
    assert response.status_code == 302
    assert "grace" in client.get("/").content.decode()


def test_signup_takes_an_optional_email_that_a_password_reset_reaches(client, mailoutbox):
    from django.contrib.auth import get_user_model

    form = client.get("/accounts/signup/").content.decode()
    assert 'type="email" name="email"' in form and "Optional" in form
    response = client.post("/accounts/signup/", {"username": "ada2", "email": "ada@example.org",
                                                 "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"})
    assert response.status_code == 302
    assert get_user_model().objects.get(username="ada2").email == "ada@example.org"
    client.logout()
    client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ada@example.org"]
    bad = client.post("/accounts/signup/", {"username": "ada3", "email": "not-an-address",
                                            "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"})
    assert bad.status_code == 400 and "valid email" in bad.content.decode()


def test_signup_with_mismatched_passwords_is_a_400_with_a_message(client):
    response = client.post(
        "/accounts/signup/", {"username": "grace", "password1": "a-long-pass-phrase-9", "password2": "other"}
    )
    assert response.status_code == 400
    assert "didn’t match" in response.content.decode() or "didn't match" in response.content.decode()


def test_problem_page_renders_math_and_no_key(logged_in):
    from questions.practice.models import PracticeItem

    url = start_problem(logged_in)
    page = logged_in.get(url).content.decode()
    item = PracticeItem.objects.get()
    assert "<math" in page  # LaTeX rendered to MathML on the server
    for name in item.variant.data["answer"]:
        assert f'name="part-{name}"' in page
    assert "verification" not in page


def test_submitting_the_key_shows_full_marks(logged_in, django_capture_on_commit_callbacks):
    from questions.practice.models import PracticeItem

    url = start_problem(logged_in)
    answer = PracticeItem.objects.get().variant.data["answer"]
    form = {
        f"part-{name}": "\n".join(" ".join(repr(x) for x in row) for row in value)
        for name, value in answer.items()
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url, form)
    assert response.status_code == 302
    submission_id = re.search(r"submission=(\d+)", response["Location"]).group(1)
    page = logged_in.get(response["Location"]).content.decode()
    assert 'data-score="1.0"' in page
    fragment = logged_in.get(f"/practice/submissions/{submission_id}/result")
    assert fragment.status_code == 200 and "100%" in fragment.content.decode()


def test_unreadable_answer_is_shown_at_the_cell_and_costs_nothing(logged_in):
    from questions.practice.models import PracticeItem, Submission

    url = start_problem(logged_in)
    part = PracticeItem.objects.get().variant.data["parts"][0]
    response = logged_in.post(url, {f"part-{part['name']}": "1 2 three"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and "1 2 three" in page  # what was typed is kept
    assert not Submission.objects.exists()


def test_other_learners_item_is_404(client, learner, other_learner):
    client.force_login(learner)
    url = start_problem(client)
    client.force_login(other_learner)
    assert client.get(url).status_code == 404


def test_pages_need_login(client):
    assert client.post("/practice/new", {"kind": "self_attention"}).status_code == 302
    assert client.get("/practice/items/1/").status_code == 302


@pytest.mark.django_db
def test_navigation_links_every_learner_page_and_authoring_for_instructors_only(client, learner):
    from django.contrib.auth.models import Group

    client.force_login(learner)
    page = client.get("/").content.decode()
    for href in ('href="/reviews/"', 'href="/mock/"', 'href="/courses/"'):
        assert href in page
    assert 'href="/author/"' not in page
    learner.groups.add(Group.objects.get_or_create(name="instructors")[0])
    assert 'href="/author/"' in client.get("/").content.decode()


def test_a_missing_page_is_a_404_with_the_sites_navigation(client, learner):
    client.force_login(learner)
    response = client.get("/practice/items/987654/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Not found</h1>" in page and 'href="/reviews/"' in page and "favicon.svg" in page


def test_a_logged_in_learner_is_not_offered_a_second_account(client, learner):
    client.force_login(learner)
    response = client.get("/accounts/signup/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_starting_a_mock_without_a_length_says_to_choose_one(client, learner):
    client.force_login(learner)
    response = client.post("/mock/start", {"topics": ["masking"]})
    assert response.status_code == 400
    assert "Choose a length:" in response.content.decode()


def test_every_main_page_has_exactly_one_h1(client, learner, bank, django_user_model):
    """One top heading a page, for screen readers' page outline (issue #13, item 11)."""
    from questions.practice import services as practice_services
    from questions.practice.models import PracticeItem

    staff = django_user_model.objects.create_user(username="ines", password="x", is_staff=True)
    pages = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    for url in pages:
        assert client.get(url).content.decode().count("<h1") == 1, url
    client.force_login(learner)
    numeric = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    code = practice_services.practice_item_create_numeric(learner=learner, kind="code_rope", difficulty="easy")
    theory = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="masking")
    while not theory.question_version_id:
        theory = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="masking")
    learner_pages = ["/", "/reviews/", "/mock/", "/courses/", *(f"/practice/items/{i.id}/" for i in (numeric, code, theory))]
    for url in learner_pages:
        assert client.get(url).content.decode().count("<h1") == 1, url
    assert PracticeItem.objects.filter(learner=learner).count() >= 3
    client.force_login(staff)
    for url in ("/author/", "/author/questions/new", "/author/import"):
        assert client.get(url).content.decode().count("<h1") == 1, url
