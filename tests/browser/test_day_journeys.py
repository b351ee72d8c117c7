"""Issue #13's acceptance: a new learner's day and an instructor's, in a real browser, counting
the clicks each takes (the closing note gives them, with the screenshots' names).

- A new learner signs up, takes the placement the home leads with (its theory questions and
  problems answered through the pages), follows Continue into a practice session, answers every
  question and reads the session summary; the next day the home's Continue leads to the reviews
  due, and a review is graded.
- An instructor builds a quiz in the builder, previews it (the key shown beside each question),
  opens it; a learner takes it; the instructor reads the mark in the gradebook.

A real Celery worker process grades every answer. Clicks are what a person does with the pointer
(a link, a button, a box checked, an option chosen); typing is not counted. Each journey writes
its counts to test-artifacts/journey-clicks-<who>.json and its screenshots to
test-artifacts/day-<who>-<n>-<stage>.png.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from attention_engine.variant import as_array
from questions.learning import rules as learning_rules
from questions.practice import jobs as practice_jobs
from questions.practice.rules import kinds
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_learner_journey import answer_theory, item_on_page, wait_for_grade
from tests.courses.conftest import (  # noqa: F401 - fixtures
    course,
    enrolled,
    instructor,
    learners,
    pool,
)

pytestmark = [pytest.mark.browser, pytest.mark.services]

PASSWORD = "an-unguessable-pass-42"


class Counted:
    """The page, counting the clicks a person would make: click, check and select_option."""

    def __init__(self, page, who: str):
        self._page, self.who, self.clicks, self.stages, self.shots = page, who, 0, {}, []

    def __getattr__(self, name):
        return getattr(self._page, name)

    def click(self, *args, **kwargs):
        self.clicks += 1
        return self._page.click(*args, **kwargs)

    def check(self, *args, **kwargs):
        self.clicks += 1
        return self._page.check(*args, **kwargs)

    def select_option(self, *args, **kwargs):
        self.clicks += 1
        return self._page.select_option(*args, **kwargs)

    def stage(self, name: str) -> None:
        """A milestone: the clicks so far, and a screenshot of the page the learner sees."""
        self.stages[name] = self.clicks
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"day-{self.who}-{len(self.stages):02d}-{name}.png"
        self._page.screenshot(path=str(path), full_page=True)
        self.shots.append(path.name)

    def save(self) -> None:
        (ARTIFACTS / f"journey-clicks-{self.who}.json").write_text(
            json.dumps({"clicks": self.stages, "screenshots": self.shots}, indent=2)
        )


def fill_numeric(page, variant: dict) -> None:
    """Every part of the key typed into its cells (a scalar, a vector's or a matrix's cells)."""
    for part in variant["parts"]:
        name, value = part["name"], as_array(variant["answer"][part["name"]])
        if value.ndim == 0:
            page.fill(f"#part-{name}", f"{float(value):.10g}")
        elif value.ndim == 1:
            for j, x in enumerate(value):
                page.fill(f"#part-{name}-{j}", f"{x:.10g}")
        else:
            for i, row in enumerate(value):
                for j, x in enumerate(row):
                    page.fill(f"#part-{name}-{i}-{j}", f"{x:.10g}")


def answer_right(page, item) -> float:
    """The item on the page answered right through its form; the score shown in place."""
    if item.question_version_id:
        answer_theory(page, item)
    else:
        fill_numeric(page, item.variant.data)
    page.click("text=Submit answer")
    return float(wait_for_grade(page).get_attribute("data-score"))


def test_a_new_learners_day(numeric_kinds_only, browser, live_server, bank, worker_process):
    from questions.learning.models import ReviewCard
    from questions.practice.models import Submission

    for kind in kinds():  # stock, so no page waits for the worker to start on a problem
        if kind["answer_type"] == "numeric":
            for level in ("easy", "medium", "hard"):
                practice_jobs.variants_generate(kind=kind["name"], difficulty=level, count=1)
    worker_process.start()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Counted(context.new_page(), "learner")
    try:
        # Sign up from the first page.
        page.goto(f"{base}/")
        page.click("header a[href='/accounts/signup/']")
        page.fill("#id_username", "noor")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click('main button[type="submit"]')
        page.wait_for_url(f"{base}/")
        assert page.locator("[data-continue=placement]").is_visible()
        page.stage("home-new-learner")

        # The placement the home leads with: every question answered through the pages.
        page.click('[data-continue=placement] button[data-action="continue"]')
        numeric_graded = None
        for position in range(1, learning_rules.PLACEMENT_LENGTH + 1):
            page.wait_for_selector(".run-progress")
            assert page.inner_text(".run-progress") == f"Question {position} of {learning_rules.PLACEMENT_LENGTH}"
            item = item_on_page(page)
            assert answer_right(page, item) == 1.0
            if numeric_graded is None and not item.question_version_id:
                numeric_graded = item.variant.kind
                page.stage("first-numeric-graded")
            with page.expect_navigation():
                page.click('button[data-action="next-in-run"]')
        assert numeric_graded, "the placement has a problem with numbers"
        page.wait_for_selector("h1:has-text('Your level')")
        page.stage("placement-summary")

        # Continue: a practice session on the next topic, every question answered, the summary.
        page.click('a[data-action="continue"]')
        page.wait_for_url(f"{base}/")
        assert page.locator("[data-continue=topic]").is_visible()
        page.click('[data-continue=topic] button[data-action="continue"]')
        length = learning_rules.RUN_DEFAULT_LENGTH
        for position in range(1, length + 1):
            page.wait_for_selector(".run-progress")
            assert page.inner_text(".run-progress") == f"Question {position} of {length}"
            assert answer_right(page, item_on_page(page)) == 1.0
            with page.expect_navigation():
                page.click('button[data-action="next-in-run"]')
        page.wait_for_selector("h1:has-text('Your session')")
        assert f"over {length} questions ({length} answered)" in page.inner_text("main")
        page.stage("session-summary")

        # The next day: the cards are due, and the home's Continue leads to them.
        user_cards = ReviewCard.objects.filter(learner__username="noor")
        assert user_cards.exists()
        user_cards.update(due=timezone.now() - timedelta(minutes=1))
        page.goto(f"{base}/")
        assert page.locator("[data-continue=reviews]").is_visible()
        page.stage("home-reviews-due")
        page.click('[data-continue=reviews] button[data-action="continue"]')
        page.wait_for_selector("form.answer")
        review = item_on_page(page)
        assert review.purpose == "review"
        assert answer_right(page, review) == 1.0
        page.stage("review-graded")
        assert Submission.objects.filter(item__learner__username="noor", item__purpose="review").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.save()
    finally:
        context.close()


def test_an_instructors_quiz_from_building_to_the_gradebook(browser, live_server, course, pool, enrolled, worker_process):  # noqa: F811
    from questions.courses.models import Quiz

    worker_process.start()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Counted(context.new_page(), "instructor")
    try:
        log_in(page._page, base, "ines")
        page.click("header a[href='/courses/']")
        page.click(f"main >> text={course.title}")
        page.click("text=New quiz")
        page.fill("#id_title", "Week 5")
        page.fill("#id_s0-title", "Theory")
        page.select_option("#id_s0-topic", "quiz-topic")
        page.fill("#id_s0-draw", "2")
        page.fill("#id_s0-points", "1")
        page.stage("builder")
        page.click("main button:has-text('Save as draft')")
        page.wait_for_selector("h1:has-text('Week 5')")
        quiz = Quiz.objects.get(title="Week 5")
        assert [s.draw_count for s in quiz.sections.all()] == [2]
        page.stage("quiz-built")

        # The preview: each question with its key, for the instructor only.
        page.click("text=Preview as a learner")
        page.wait_for_selector(".preview-key")
        assert "The key (your preview only)" in page.inner_text(".preview-key")
        page.stage("preview-with-key")
        page.clicks += 1  # the browser's Back, to the quiz's page
        page.go_back()
        with page.expect_navigation():
            page.click("text=Open to learners")
        quiz.refresh_from_db()
        assert quiz.state == Quiz.State.OPEN

        # A learner takes it (their clicks are not the instructor's).
        learner = context.browser.new_context(viewport={"width": 1280, "height": 900})
        lea = learner.new_page()
        try:
            log_in(lea, base, "lea")
            lea.goto(f"{base}/quizzes/{quiz.id}/")
            lea.click("text=Start attempt 1")
            for _ in range(2):
                lea.wait_for_selector("form.answer")
                lea.check('input[name="response"] >> nth=0')  # the pool's key is choice 0 ("Alpha")
                lea.click("form.answer button[type=submit]")
                lea.wait_for_selector("text=saved")
            lea.click("text=Submit the attempt…")
            lea.click("main button:has-text('Submit the attempt')")
            lea.wait_for_selector("h1")
        finally:
            learner.close()

        # The mark in the gradebook, once the worker has graded.
        page.click("header a[href='/courses/']")
        page.click(f"main >> text={course.title}")
        page.click("main >> text=Gradebook")
        grade = page.wait_for_selector("tr:has(th:text('lea')) [data-grade]", timeout=60_000)
        attempt = quiz.attempts.get(learner__username="lea")
        assert attempt.state == "submitted" and grade.inner_text().strip()
        page.stage("gradebook")
        page.save()
    finally:
        context.close()
