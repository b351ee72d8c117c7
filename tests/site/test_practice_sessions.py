"""Practice sessions with an arc (issue #13, item 6): a length (10 by default), "n of N", a
skipped question sent to the end, and a summary (score, mistakes with their worked solutions,
topics to review, the next review)."""

import re

import pytest

from questions.practice.models import PracticeItem, Submission

pytestmark = pytest.mark.django_db


def current_item(response) -> PracticeItem:
    item_id = int(re.search(r"/practice/items/(\d+)/", response["Location"]).group(1))
    return PracticeItem.objects.select_related("question_version", "variant").get(id=item_id)


def answer_wrong(client, item, capture) -> bool:
    """A numeric problem answered 0 everywhere (wrong, readable); other items are left alone."""
    if not item.variant_id or item.is_code:
        return False
    answer = {}
    for part in item.variant.data["parts"]:
        shape = part["shape"]
        answer[part["name"]] = "0" if not shape else " ".join(["0"] * shape[-1]) if len(shape) == 1 else \
            "; ".join([" ".join(["0"] * shape[1])] * shape[0])
    with capture(execute=True):
        response = client.post(f"/practice/items/{item.id}/", {f"part-{k}": v for k, v in answer.items()})
    assert response.status_code == 302, response.content.decode()[:300]
    return True


def test_a_session_counts_its_questions_sends_a_skip_to_the_end_and_ends_with_a_summary(
    client, learner, bank, django_capture_on_commit_callbacks
):
    client.force_login(learner)
    home = client.get("/").content.decode()
    assert 'name="length"' in home and '<option value="10" selected>' in home
    response = client.post("/practice/run", {"topics": ["softmax"], "length": "5"})
    first = current_item(response)
    page = client.get(response["Location"]).content.decode()
    assert "Question 1 of 5" in page and "Skip for now" in page
    response = client.post("/practice/run/skip")  # the first comes back last
    served = [first]
    answered_wrong = None
    for position in range(2, 6):
        item = current_item(response)
        served.append(item)
        assert f"Question {position} of 5" in client.get(response["Location"]).content.decode()
        if answered_wrong is None and answer_wrong(client, item, django_capture_on_commit_callbacks):
            answered_wrong = item
        response = client.post("/practice/run/next")
    assert current_item(response).id == first.id  # the skipped question, after the others
    page = client.get(response["Location"]).content.decode()
    assert "Question 1 of 5" in page and "Finish: your summary" in page
    response = client.post("/practice/run/next")
    assert response["Location"] == "/practice/run/summary"
    summary = client.get("/practice/run/summary").content.decode()
    assert answered_wrong is not None, "every second question of a topic with problem kinds is one"
    graded = Submission.objects.get(item=answered_wrong)
    assert graded.status == "graded" and graded.score < 1
    # One answer, the other four unanswered (0): the mean over the session's five questions.
    assert f'data-run-score="{graded.score / 5}"' in summary
    assert f'href="/practice/items/{answered_wrong.id}/?submission=' in summary
    from questions.practice.rules import kind_titles

    assert kind_titles()[answered_wrong.variant.kind] in summary
    assert "Topics to review" in summary and "Softmax" in summary
    assert "Your next review of these questions is due" in summary
    assert Submission.objects.filter(item__in=served).count() == 1


def test_a_bad_length_is_a_400_and_the_summary_needs_a_session(client, learner, bank):
    client.force_login(learner)
    assert client.post("/practice/run", {"topics": ["softmax"], "length": "7"}).status_code == 400
    assert client.get("/practice/run/summary")["Location"] == "/"
