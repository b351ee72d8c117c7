"""A practice session in a real browser (issue #13, items 5 and 6): the home's Continue starts a
session on the weakest topic, "Question n of N" and Skip, then the summary. At 375 px."""

import pytest

from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser]


def test_continue_skip_and_the_summary_on_a_phone(numeric_kinds_only, browser, live_server, learner, bank):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        # A new learner is offered the placement first (test_placement.py); skipped here:
        page.click('button[data-action="skip-placement"]')
        page.wait_for_url("**/#placement")
        assert page.locator("[data-continue=topic]").is_visible()
        # A five-question session on one topic, from the home's form.
        page.locator('input[type="checkbox"][name="topics"]').first.check()
        page.select_option('select[name="length"]', "5")
        page.click('button[data-action="start-run"]')
        page.wait_for_selector(".run-progress")
        assert page.inner_text(".run-progress") == "Question 1 of 5"
        first = page.url
        page.click('button[data-action="skip-in-run"]')
        for n in range(2, 6):
            assert page.inner_text(".run-progress") == f"Question {n} of 5"
            page.click('button[data-action="next-in-run"]')
        assert page.url == first  # the skipped question, last
        page.click("text=Finish: your summary")
        page.wait_for_selector("h1:has-text('Your session')")
        assert "over 5 questions (0 answered)" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "session-summary-375.png"), full_page=True)
    finally:
        context.close()
