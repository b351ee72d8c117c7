"""The home dashboard and the hint ladder in a real browser (Debian Chromium)."""

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.domain.test_learning import choice_question

pytestmark = [pytest.mark.browser]


def test_a_run_over_two_topics_and_a_hint_that_keeps_the_typed_answer(numeric_kinds_only, page, live_server, learner):
    choice_question("q-alpha", "alpha", hints=["Think about the variance of a sum."])
    choice_question("q-beta", "beta")
    log_in(page, live_server.url)
    page.check('input[data-topic="alpha"]')
    page.check('input[data-topic="beta"]')
    page.click('button[data-action="start-run"]')
    page.wait_for_selector("form.answer")
    assert "Alpha" in page.inner_text("h1")  # the run starts with the first chosen topic, by title

    chosen = 'input[name="response"] >> nth=2'
    page.check(chosen)  # an answer typed, not yet submitted
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.click("form[data-hints] button")
    hint = page.wait_for_selector("#hint-1")
    assert "variance of a sum" in hint.inner_text()
    assert navigations == [], "the hint opened in place"
    assert page.is_checked(chosen), "the typed answer is still there"
    assert page.evaluate("document.activeElement.id") == "hint-1"  # focus moves to the new hint
    page.keyboard.press("Tab")  # the next rung's button is reachable from the keyboard
    assert page.evaluate("document.activeElement.textContent").startswith("Show the next hint")

    from questions.practice.models import PracticeItem

    assert PracticeItem.objects.get().hints_revealed == 1
    page.click('button[data-action="next-in-run"]')
    page.wait_for_selector("form.answer")
    assert "Beta" in page.inner_text("h1")


def test_home_dashboard_fits_a_phone_in_light_and_dark(numeric_kinds_only, browser, live_server, learner):
    choice_question("q-alpha", "alpha")
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 375, "height": 800}, color_scheme=scheme)
        page = context.new_page()
        log_in(page, live_server.url)
        assert page.is_visible('button[data-action="start-run"]')
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, "the home page scrolls sideways on a phone"
        page.screenshot(path=str(ARTIFACTS / f"home-phone-{scheme}.png"), full_page=True)
        context.close()
