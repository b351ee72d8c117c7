"""The hint ladder on the practice page: in order, idempotent, recorded, never the key."""

import json
import re

import pytest

from questions.learning.models import ReviewLog
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem, Submission
from tests.domain.test_learning import answer, choice_question, right_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def hints_section(page: str) -> str:
    match = re.search(r'<section id="hints".*?</section>', page, re.S)
    assert match, "no hint ladder on the page"
    return match.group()


def test_theory_page_opens_hints_one_by_one_and_a_double_click_counts_once(logged_in, learner):
    version = choice_question(hints=["Think about the variance of a sum."])
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    url = f"/practice/items/{item.id}/"
    section = hints_section(logged_in.get(url).content.decode())
    assert 'name="rung" value="1"' in section and "Show a hint (1 of 3)" in section
    for _ in range(2):  # a double click posts the same rung twice
        response = logged_in.post(f"{url}hints", {"rung": "1"})
        assert response.status_code == 302 and response["Location"] == f"{url}#hints"
    assert PracticeItem.objects.get(id=item.id).hints_revealed == 1
    section = hints_section(logged_in.get(url).content.decode())
    assert "Think about the variance of a sum." in section and 'name="rung" value="2"' in section
    assert 'aria-live="polite"' in section
    assert not Submission.objects.exists()


def test_a_script_gets_the_fragment_and_refusals_are_400_with_a_message(logged_in, learner):
    item = PracticeItem.objects.create(learner=learner, question_version=choice_question())
    url = f"/practice/items/{item.id}/hints"
    skipped = logged_in.post(url, {"rung": "3"}, HTTP_X_REQUESTED_WITH="fetch")
    assert skipped.status_code == 400 and "Open hint 1 first" in skipped.content.decode()
    fragment = logged_in.post(url, {"rung": "1"}, HTTP_X_REQUESTED_WITH="fetch")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert text.lstrip().startswith("<section") and "<html" not in text
    assert "Hint 1" in text and 'value="2"' in text
    assert logged_in.post(url, {"rung": "x"}).status_code == 400
    assert logged_in.post(url, {}).status_code == 400
    assert PracticeItem.objects.get(id=item.id).hints_revealed == 1


def test_a_refused_plain_post_shows_its_message_on_the_item_page(logged_in, learner):
    item = PracticeItem.objects.create(learner=learner, question_version=choice_question())
    response = logged_in.post(f"/practice/items/{item.id}/hints", {"rung": "3"}, follow=True)
    assert response.status_code == 200
    assert "Open hint 1 first: hints open in order." in response.content.decode()


def test_after_a_graded_answer_the_hint_form_keeps_the_result_in_view(logged_in, learner, django_capture_on_commit_callbacks):
    version = choice_question()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    submission = answer(item, right_index(version), capture=django_capture_on_commit_callbacks)
    page = logged_in.get(f"/practice/items/{item.id}/?submission={submission.id}").content.decode()
    assert f'name="submission" value="{submission.id}"' in hints_section(page)
    response = logged_in.post(f"/practice/items/{item.id}/hints", {"rung": "1", "submission": str(submission.id)})
    assert response["Location"] == f"/practice/items/{item.id}/?submission={submission.id}#hints"
    # A hint opened after the answer was rated does not change that rating.
    assert ReviewLog.objects.get(submission=submission).hints_used == 0


def test_other_learners_and_strangers_cannot_open_hints(client, learner, other_learner):
    item = PracticeItem.objects.create(learner=learner, question_version=choice_question())
    client.force_login(other_learner)
    assert client.post(f"/practice/items/{item.id}/hints", {"rung": "1"}).status_code == 404
    client.logout()
    assert client.post(f"/practice/items/{item.id}/hints", {"rung": "1"}).status_code == 302
    assert PracticeItem.objects.get(id=item.id).hints_revealed == 0


def key_texts(values) -> set[str]:
    """How the key's non-trivial numbers could be written in a page."""
    out = set()
    stack = [values]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, float) and not value.is_integer():
            out |= {repr(value), f"{value:.4f}", f"{value:.3f}"}
        elif isinstance(value, int | float) and abs(value) > 10:
            out |= {str(int(value)), f"{int(value):,}"}
    return out


@pytest.mark.parametrize("kind", ["self_attention", "multihead_shapes", "model_params", "variance_scaling"])
def test_every_numeric_hint_open_and_still_no_key_in_the_page(logged_in, learner, kind):
    item = practice_services.practice_item_create_numeric(learner=learner, kind=kind, difficulty="medium")
    data = item.variant.data
    url = f"/practice/items/{item.id}/"
    for rung in range(1, len(data["steps"]) + 1):
        logged_in.post(f"{url}hints", {"rung": str(rung)})
    page = logged_in.get(url).content.decode()
    section = hints_section(page)
    # Every step open: the methods, no number of the key or of the steps' values.
    assert "All hints are open." not in section and "A number of this problem" not in section
    for step in data["steps"]:
        assert step["title"] in section
    prompt_numbers = set(re.findall(r"\d[\d,.]*", json.dumps(data["params"]) + data["prompt"]))
    for text in key_texts([data["answer"], [s.get("values") for s in data["steps"]]]):
        if text in prompt_numbers:
            continue  # given in the problem itself
        assert not re.search(rf"(?<![\d.,]){re.escape(text)}(?![\d])", section), (kind, text)
    # The last rung: one number of this problem, never the final answer.
    logged_in.post(f"{url}hints", {"rung": str(len(data["steps"]) + 1)})
    section = hints_section(logged_in.get(url).content.decode())
    assert "All hints are open." in section and "A number of this problem" in section
    final = data["answer"][data["parts"][-1]["name"]]
    for text in key_texts([final]):
        if text not in prompt_numbers:
            assert not re.search(rf"(?<![\d.,]){re.escape(text)}(?![\d])", section), (kind, text)
