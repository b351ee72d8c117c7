"""Retries that mean something (issue #13, item 3): in practice a wrong theory answer says "try
again" with the chosen option marked wrong, and the key (the right option, the explanation) waits
until the learner asks for it or has used their tries; a right answer shows it at once; quizzes
keep their own policy."""

import pytest

from questions.catalogue.models import QuestionVersion
from questions.practice.models import PracticeItem, Submission
from questions.practice.rules import PRACTICE_THEORY_TRIES
from tests.choices import by_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def choice_item(learner, bank):
    version = next(v for v in QuestionVersion.objects.filter(data__type="single_choice", status="published")
                   if sum(c["weight"] <= 0 for c in v.data["choices"]) >= 2 and v.data.get("explanation"))
    return PracticeItem.objects.create(learner=learner, question_version=version)


def wrong_indices(item):
    return [i for i, c in enumerate(item.question_version.data["choices"]) if c["weight"] <= 0]


def right_index(item):
    return next(i for i, c in enumerate(item.question_version.data["choices"]) if c["weight"] >= 100)


def answer(client, item, index, capture):
    with capture(execute=True):
        response = client.post(f"/practice/items/{item.id}/", {"response": by_id(item, index)})
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def key_texts(item):
    data = item.question_version.data
    return [data["explanation"].strip()[:60], data["choices"][right_index(item)]["text"][:40]]


def test_a_wrong_try_says_try_again_marks_the_choice_and_keeps_the_key(client, learner, choice_item,
                                                                     django_capture_on_commit_callbacks):
    client.force_login(learner)
    first, second = wrong_indices(choice_item)[:2]
    page = answer(client, choice_item, first, django_capture_on_commit_callbacks)
    assert "Try again:" in page and "Show the answer" in page
    assert f'class="choice marked-wrong"><input aria-labelledby="choice-{by_id(choice_item, first)}"' in page
    explanation, right = key_texts(choice_item)
    assert explanation not in page and "The right answer" not in page
    assert "marked-right" not in page
    # The last try used: the key and the explanation come with the result.
    assert PRACTICE_THEORY_TRIES == 2
    page = answer(client, choice_item, second, django_capture_on_commit_callbacks)
    assert "Try again:" not in page and explanation in page and "The right answer" in page


def test_asking_for_the_answer_shows_it_at_once(client, learner, choice_item, django_capture_on_commit_callbacks):
    client.force_login(learner)
    answer(client, choice_item, wrong_indices(choice_item)[0], django_capture_on_commit_callbacks)
    response = client.post(f"/practice/items/{choice_item.id}/answer-key")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    explanation, _ = key_texts(choice_item)
    assert explanation in page and "The right answer" in page and "Try again:" not in page
    assert PracticeItem.objects.get(id=choice_item.id).key_shown_at is not None


def test_a_right_answer_shows_the_explanation_and_marks_it_right(client, learner, choice_item,
                                                                 django_capture_on_commit_callbacks):
    client.force_login(learner)
    page = answer(client, choice_item, right_index(choice_item), django_capture_on_commit_callbacks)
    explanation, _ = key_texts(choice_item)
    assert explanation in page and "Try again:" not in page
    assert f'class="choice marked-right"><input aria-labelledby="choice-{by_id(choice_item, right_index(choice_item))}"' in page


def test_the_api_holds_the_key_back_the_same_way(learner, client_for, choice_item, django_capture_on_commit_callbacks):
    api = client_for(learner)
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"/api/v1/practice/items/{choice_item.id}/submissions",
                        {"answer": {"response": by_id(choice_item, wrong_indices(choice_item)[0])}}, format="json")
    body = api.get(f"/api/v1/submissions/{sent.json()['id']}").json()
    explanation, _ = key_texts(choice_item)
    assert body["try_again"] is True and body["tries_allowed"] == PRACTICE_THEORY_TRIES
    assert list(body["choice_marks"].values()) == ["wrong"] and explanation not in str(body)
    key = api.post(f"/api/v1/practice/items/{choice_item.id}/answer-key").json()
    assert key["correct_choices"] == [by_id(choice_item, right_index(choice_item))]
    body = api.get(f"/api/v1/submissions/{sent.json()['id']}").json()
    assert "try_again" not in body and explanation in body["feedback"]
    assert Submission.objects.count() == 1
