"""The placement's pages (issue #13, "a first visit with a path"): the home's Continue offers it
to a new learner only, with Skip; it runs on the practice item page as a session of its own
("Question n of 6", skip, no reviews in the way), resumes rather than redraws, and ends on a
summary of the level found per topic, after which the home's mastery bars have moved."""

import re

import fsrs
import pytest
from django.utils import timezone
from django.utils.html import escape

from questions.catalogue.models import QuestionVersion
from questions.learning import rules as learning_rules
from questions.learning.models import LearnerProfile, ReviewCard
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem, Submission

pytestmark = pytest.mark.django_db


def item_of(response) -> PracticeItem:
    item_id = int(re.search(r"/practice/items/(\d+)/", response["Location"]).group(1))
    return PracticeItem.objects.select_related("variant", "question_version").get(id=item_id)


def as_text(value) -> str:
    """A numeric part as the page's text field takes it: a number, a row, rows split by `;`."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "; ".join(as_text(row) for row in value)
    if isinstance(value, list):
        return " ".join(as_text(v) for v in value)
    return repr(float(value)) if not isinstance(value, str) else value


def test_the_home_offers_the_placement_to_a_new_learner_only(client, learner, other_learner, bank,
                                                            django_capture_on_commit_callbacks):
    client.force_login(learner)
    page = client.get("/").content.decode()
    assert 'data-continue="placement"' in page
    assert "Find your level: 6 questions, about 5 minutes." in page
    assert 'action="/placement/skip"' in page and 'data-action="skip-placement"' in page
    assert page.index('data-continue="placement"') < page.index("Reviews due")

    # A learner who has answered something is not offered it first; the lower part keeps it.
    item = practice_services.practice_item_create_numeric(learner=other_learner, kind="self_attention",
                                                          difficulty="easy")
    with django_capture_on_commit_callbacks(execute=True):
        practice_services.submission_create(learner=other_learner, item=item, answer=item.variant.data["answer"])
    client.force_login(other_learner)
    page = client.get("/").content.decode()
    assert 'data-continue="placement"' not in page and 'data-continue="' in page
    assert 'id="placement"' in page and 'data-action="start-placement"' in page and "Take the placement" in page


def test_skip_is_recorded_and_the_offer_moves_below(client, learner, bank):
    client.force_login(learner)
    response = client.post("/placement/skip")
    assert response.status_code == 302 and response["Location"] == "/#placement"
    assert LearnerProfile.objects.get(user=learner).placement_skipped_at is not None
    page = client.get("/").content.decode()
    assert 'data-continue="placement"' not in page and 'data-continue="topic"' in page
    assert 'data-action="start-placement"' in page
    assert PracticeItem.objects.filter(learner=learner).count() == 0
    assert client.get("/placement/skip").status_code == 405
    assert client.get("/placement/start").status_code == 405


def test_the_placement_runs_on_the_item_pages_resumes_and_ends_on_its_summary(
    client, learner, bank, django_capture_on_commit_callbacks
):
    client.force_login(learner)
    response = client.post("/placement/start")
    first = item_of(response)
    page = client.get(response["Location"]).content.decode()
    assert "Question 1 of 6" in page and "Skip for now" in page

    # Starting again (another tab, the home's button) resumes: nothing new is drawn.
    again = client.post("/placement/start")
    assert item_of(again).id == first.id and PracticeItem.objects.filter(learner=learner).count() == 6

    # A review falls due meanwhile (a wrong answer's card does, within minutes): the placement's
    # own path stays first, its page offers no "Next review".
    ReviewCard.objects.create(learner=learner, kind="layer_norm", fsrs=fsrs.Card().to_dict(), due=timezone.now())
    entries = LearnerProfile.objects.get(user=learner).placement_items
    order = [e["item"] for e in entries]
    right = None
    response = again
    for position in range(1, 7):
        item = item_of(response)
        assert item.id == order[position - 1]
        if right is None and item.variant_id:
            fields = {f"part-{name}": as_text(value) for name, value in item.variant.data["answer"].items()}
            with django_capture_on_commit_callbacks(execute=True):
                posted = client.post(f"/practice/items/{item.id}/", fields)
            assert posted.status_code == 302, posted.content.decode()[:500]
            assert Submission.objects.get(item=item).score == 1
            right = (item, entries[position - 1]["topic"])
        page = client.get(f"/practice/items/{item.id}/").content.decode()
        assert f"Question {position} of 6" in page
        assert 'data-action="next-review"' not in page
        assert ("Finish: your level" in page) == (position == 6)
        response = client.post("/practice/run/next")
    assert response["Location"] == "/placement/summary"
    assert right is not None, "the placement asks numeric problems"
    assert LearnerProfile.objects.get(user=learner).placement_finished_at is not None

    summary = client.get("/placement/summary").content.decode()
    assert escape(learning_rules.PLACEMENT_RULE) in summary
    assert "1 of 6 questions answered" in summary
    item, topic = right
    found = learning_rules.LEVELS[learning_rules.LEVELS.index(item.variant.difficulty) + 1]
    assert f'data-placement-topic="{topic}" data-outcome="right" data-start="{found}"' in summary
    assert summary.count('data-outcome="unanswered" data-start="easy"') == 5
    assert summary.count('data-action="continue"') == 1

    # The home: no more offer, the bar of the topic answered right has moved.
    home = client.get("/").content.decode()
    assert 'data-continue="placement"' not in home and "Your last placement" in home
    percent = int(re.search(rf'data-topic-mastery="{topic}" data-percent="(\d+)"', home).group(1))
    assert percent > 0
    # Topic practice there now starts at the level found (a theory question first: the
    # placement's problem already counts as the topic's numeric turn).
    drawn = item_of(client.post(f"/practice/topics/{topic}"))
    levels = set(QuestionVersion.objects.filter(question__topic__slug=topic, status="published")
                 .values_list("data__difficulty", flat=True))
    assert drawn.question_version_id and (drawn.question_version.data["difficulty"] == found or found not in levels)


def test_the_summary_needs_a_placement(client, learner, bank):
    client.force_login(learner)
    assert client.get("/placement/summary")["Location"] == "/"


def test_a_new_learners_topic_practice_starts_easy(client, learner, bank):
    client.force_login(learner)
    for _ in range(2):  # a theory question, then a problem: both easy
        drawn = item_of(client.post("/practice/topics/bert-vs-gpt"))
        level = drawn.variant.difficulty if drawn.variant_id else drawn.question_version.data["difficulty"]
        assert level == "easy"
    assert client.post("/practice/topics/no-such-topic").status_code == 400
