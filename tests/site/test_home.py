"""The home dashboard, reviews page, topic runs, the streak switch and the item page's actions."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from questions.learning import rules as learning_rules
from questions.learning import selectors as learning_selectors
from questions.learning.models import LearnerProfile, ReviewCard
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem, Purpose, Submission
from tests.choices import by_id
from tests.domain.test_learning import answer, choice_question, right_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def practised_topics(learner, capture, *, topics: int, questions: int):
    """`topics` topics of `questions` questions each, every question answered right once."""
    for t in range(topics):
        for q in range(questions):
            version = choice_question(f"q-{t}-{q}", f"topic-{t}")
            item = PracticeItem.objects.create(learner=learner, question_version=version)
            answer(item, right_index(version), capture=capture)


def test_strangers_get_a_pitch_and_no_dashboard(client):
    page = client.get("/").content.decode()
    assert "Create a free account" in page and 'href="/accounts/login/"' in page
    assert "Reviews due" not in page and "data-kind" not in page


def test_dashboard_shows_reviews_mastery_and_streak(logged_in, learner, django_capture_on_commit_callbacks):
    practised_topics(learner, django_capture_on_commit_callbacks, topics=2, questions=2)
    choice_question("q-0-unseen", "topic-0")
    card = ReviewCard.objects.filter(question__slug="q-1-0").get()
    ReviewCard.objects.filter(id=card.id).update(due=timezone.now() - timedelta(minutes=5))
    page = logged_in.get("/").content.decode()
    assert 'data-reviews-due="1"' in page and 'data-action="start-reviews"' in page
    mastery = {m.slug: m for m in learning_selectors.mastery_by_topic(learner=learner)}
    for slug, practised, total in (("topic-0", 2, 3), ("topic-1", 2, 2)):
        assert (mastery[slug].practised, mastery[slug].total) == (practised, total)
        row = re.search(rf'data-topic-mastery="{slug}" data-percent="(\d+)"(.*?)</li>', page, re.S)
        assert row, page
        assert int(row.group(1)) == mastery[slug].percent  # the engine's number, not a typed one
        assert f"{practised} of {total} practised" in row.group(2)
        assert f"{mastery[slug].percent}% mastered" in row.group(2)
    assert 'data-streak="1"' in page  # answers graded today
    assert 'data-kind="self_attention"' in page  # the per-kind forms stay


def test_home_makes_the_same_few_queries_whatever_the_number_of_topics_and_cards(
    logged_in, learner, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    practised_topics(learner, django_capture_on_commit_callbacks, topics=2, questions=2)
    # 13: one more than before the placement, whose offer asks whether the learner has answered yet.
    with django_assert_max_num_queries(13) as few:
        assert logged_in.get("/").status_code == 200
    practised_topics(learner, django_capture_on_commit_callbacks, topics=6, questions=3)  # more of everything
    ReviewCard.objects.update(due=timezone.now() - timedelta(hours=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = logged_in.get("/").content.decode()
    assert page.count("data-topic-mastery=") == 6 and f'data-reviews-due="{ReviewCard.objects.count()}"' in page


def test_the_streak_can_be_hidden_and_shown(logged_in, learner):
    response = logged_in.post("/settings/streak", {"show": "0"})
    assert response.status_code == 302
    assert LearnerProfile.objects.get(user=learner).show_streak is False
    page = logged_in.get("/").content.decode()
    assert 'data-streak="hidden"' in page and 'data-action="show-streak"' in page
    logged_in.post("/settings/streak", {"show": "0"})  # the same again changes nothing
    assert LearnerProfile.objects.count() == 1
    logged_in.post("/settings/streak", {"show": "1"})
    assert 'data-streak="0"' in logged_in.get("/").content.decode()
    bad = logged_in.post("/settings/streak", {"show": "maybe"})
    assert bad.status_code == 400 and "show the streak" in bad.content.decode()


def test_learner_pages_need_a_login(client):
    for url in ("/settings/streak", "/practice/run", "/practice/run/next", "/reviews/next"):
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "/accounts/login/" in client.get("/reviews/")["Location"]


def test_a_run_over_chosen_topics_takes_turns_and_continues_from_the_item_page(logged_in, learner):
    for slug in ("alpha", "beta", "gamma"):
        choice_question(f"q-{slug}", slug)
    response = logged_in.post("/practice/run", {"topics": ["gamma", "alpha"]})
    assert response.status_code == 302
    first = PracticeItem.objects.get()
    assert response["Location"] == f"/practice/items/{first.id}/"
    page = logged_in.get(response["Location"]).content.decode()
    assert 'action="/practice/run/next"' in page and 'data-action="next-in-run"' in page
    topics = [first.question_version.question.topic.slug]
    for _ in range(3):
        logged_in.post("/practice/run/next")
        topics.append(PracticeItem.objects.order_by("-id").first().question_version.question.topic.slug)
    assert topics == ["alpha", "gamma", "alpha", "gamma"]
    home = logged_in.get("/").content.decode()
    assert re.search(r'value="alpha" data-topic="alpha" checked', home)  # the run's topics stay ticked
    assert not re.search(r'value="beta" data-topic="beta" checked', home)


def test_a_run_refuses_no_topic_and_unknown_topics_with_a_message(logged_in):
    choice_question("q-alpha", "alpha")
    response = logged_in.post("/practice/run", {})
    assert response.status_code == 400 and "Choose at least one topic" in response.content.decode()
    response = logged_in.post("/practice/run", {"topics": ["alpha", "no-such-topic"]})
    assert response.status_code == 400 and "Unknown topic" in response.content.decode()
    assert not PracticeItem.objects.exists()
    response = logged_in.post("/practice/run/next")  # no run in this session
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Choose the topics to practise first." in logged_in.get("/").content.decode()


def test_start_reviews_with_nothing_due_says_so(logged_in):
    response = logged_in.post("/reviews/next")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "No reviews are due right now." in logged_in.get("/").content.decode()


def test_reviews_page_lists_due_cards_and_explains_the_rules(logged_in, learner, django_capture_on_commit_callbacks):
    practised_topics(learner, django_capture_on_commit_callbacks, topics=1, questions=2)
    ReviewCard.objects.update(due=timezone.now() - timedelta(hours=1))
    page = logged_in.get("/reviews/").content.decode()
    assert 'data-reviews-due="2"' in page and page.count("data-card=") == 2
    assert "How reviews work" in page
    rules = learning_rules.rating_rules()
    assert f"a score below {rules['pass_percent']}%" in page
    assert f"{rules['numeric_cell']} per number" in page


def test_reviewing_goes_item_by_item_with_next_review_offered(logged_in, learner, django_capture_on_commit_callbacks):
    practised_topics(learner, django_capture_on_commit_callbacks, topics=1, questions=2)
    ReviewCard.objects.update(due=timezone.now() - timedelta(hours=1))
    response = logged_in.post("/reviews/next")
    item = PracticeItem.objects.get(id=int(response["Location"].split("/")[-2]))
    assert item.purpose == Purpose.REVIEW
    assert logged_in.post("/reviews/next")["Location"] == response["Location"]  # a double click
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(response["Location"], {"response": by_id(item, right_index(item.question_version))})
    submission = Submission.objects.filter(item=item).get()
    page = logged_in.get(f"{response['Location']}?submission={submission.id}").content.decode()
    assert "Next review (1 due)" in page
    second = logged_in.post("/reviews/next")["Location"]
    assert second != response["Location"]
    second_item = PracticeItem.objects.get(id=int(second.split("/")[-2]))
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(second, {"response": by_id(second_item, right_index(second_item.question_version))})
    page = logged_in.get(second).content.decode()
    assert "Next review" not in page and "No more reviews due." in page


def test_another_one_like_this_gives_a_fresh_variant_of_the_same_kind_and_difficulty(logged_in, learner):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="causal_mask", difficulty="hard")
    page = logged_in.get(f"/practice/items/{item.id}/").content.decode()
    form = re.search(r'<form method="post" action="/practice/new"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'data-action="another-like-this"' in form.group(1)
    fields = dict(re.findall(r'name="(kind|difficulty)" value="([^"]+)"', form.group(1)))
    assert fields == {"kind": "causal_mask", "difficulty": "hard"}
    response = logged_in.post("/practice/new", fields)
    fresh = PracticeItem.objects.order_by("-id").first()
    assert response["Location"] == f"/practice/items/{fresh.id}/"
    assert (fresh.variant.kind, fresh.variant.difficulty) == ("causal_mask", "hard")
    assert fresh.variant_id != item.variant_id


def test_the_home_leads_with_one_continue(client, learner, bank, django_user_model):
    """Issue #13, item 5: reviews due first, else the learner's open course quiz, else the topic
    mastered least; each is one button at the top."""
    from datetime import timedelta

    from django.utils import timezone

    from questions.courses import rules as courses_rules
    from questions.courses import services as courses_services
    from questions.learning.models import ReviewCard

    client.force_login(learner)
    # A new learner is offered the placement first (tests/site/test_placement_pages.py); skipped:
    assert 'data-continue="placement"' in client.get("/").content.decode()
    client.post("/placement/skip")
    page = client.get("/").content.decode()
    assert 'data-continue="topic"' in page and 'name="topics" value="' in page
    assert page.index('data-continue="topic"') < page.index("Reviews due")

    teacher = django_user_model.objects.create_user(username="ines", password="x", is_staff=True)
    course = courses_services.course_create(title="Attention 101", instructor=teacher)
    courses_services.course_join(user=learner, code=course.join_code)
    quiz = courses_services.quiz_create(course=course, actor=teacher, title="Week 2 quiz",
                                        sections=[courses_rules.SectionSpec(kind="mha_params", difficulty="easy")])
    courses_services.quiz_open(quiz=quiz, actor=teacher)
    page = client.get("/").content.decode()
    assert 'data-continue="quiz"' in page and "Week 2 quiz" in page and f'href="/quizzes/{quiz.id}/"' in page

    import fsrs

    ReviewCard.objects.create(learner=learner, kind="self_attention", fsrs=fsrs.Card().to_dict(),
                              due=timezone.now() - timedelta(hours=1))
    page = client.get("/").content.decode()
    assert 'data-continue="reviews"' in page and "Start reviews" in page
