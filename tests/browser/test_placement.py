"""The placement in a real browser (issue #13, "a first visit with a path"): a new learner's home
leads with it; the learner answers its theory questions through the pages (a real Celery worker
grades them, and makes its numeric problems), leaves its problems unanswered, lands on the
summary, and the home's mastery bars have moved for the topics answered right. At 1280 and
375 px (dark), with axe on the home and the summary."""

import re

import pytest

from questions.learning import rules as learning_rules
from questions.practice import jobs as practice_jobs
from questions.practice.rules import kinds
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_accessibility import violations
from tests.browser.test_learner_journey import answer_theory, item_on_page, wait_for_grade

pytestmark = [pytest.mark.browser, pytest.mark.services]


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (375, "dark")])
def test_a_new_learner_takes_the_placement_and_the_home_moves(
    browser, live_server, learner, bank, worker_process, width, scheme
):
    # Stock of every numeric kind at the placement's levels, so its problems need not wait for
    # the worker to start; the worker grades the answers and refills the stock.
    for kind in kinds():
        if kind["answer_type"] == "numeric":
            for level in learning_rules.PLACEMENT_LEVELS:
                practice_jobs.variants_generate(kind=kind["name"], difficulty=level, count=1)
    worker_process.start()
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        offer = page.locator("[data-continue=placement]")
        assert offer.is_visible()
        assert "Find your level: 6 questions, about 5 minutes." in offer.inner_text()
        assert violations(page) == []
        page.click('[data-continue=placement] button[data-action="continue"]')
        page.wait_for_selector(".run-progress")

        right_topics, problems = set(), 0
        for position in range(1, learning_rules.PLACEMENT_LENGTH + 1):
            assert page.inner_text(".run-progress") == f"Question {position} of 6"
            item = item_on_page(page)
            if item.question_version_id:
                answer_theory(page, item)
                page.click("text=Submit answer")
                assert wait_for_grade(page).get_attribute("data-score") == "1.0"
                right_topics.add(item.question_version.question.topic.slug)
            else:
                problems += 1  # left unanswered: its topic starts at easy
            last = position == learning_rules.PLACEMENT_LENGTH
            button = page.locator('button[data-action="next-in-run"]')
            assert button.inner_text() == ("Finish: your level" if last else "Next question")
            with page.expect_navigation():
                button.click()
        page.wait_for_selector("h1:has-text('Your level')")
        assert right_topics and problems, "the placement mixes theory questions and problems"
        for slug in right_topics:
            row = page.locator(f'[data-placement-topic="{slug}"]')
            assert row.get_attribute("data-outcome") == "right"
            assert row.get_attribute("data-start") in ("medium", "hard")
        assert page.locator('[data-outcome="unanswered"][data-start="easy"]').count() == 6 - len(right_topics)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"placement-summary-{width}.png"), full_page=True)

        page.click('a[data-action="continue"]')
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("[data-continue=placement]").count() == 0
        home = page.content()
        for slug in right_topics:
            percent = int(re.search(rf'data-topic-mastery="{slug}" data-percent="(\d+)"', home).group(1))
            assert percent > 0, slug
    finally:
        context.close()
