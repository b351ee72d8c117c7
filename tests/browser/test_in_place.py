"""Submitting never reloads the practice page (issue #13, item 1): the verdict appears in the
result box below the form, which scrolls into view and takes focus; what was typed stays; an
unreadable answer gets its messages in place. At 1280 and 375 px."""

import pytest

from questions.practice import services as practice_services
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser]


@pytest.mark.parametrize("width", [1280, 375])
def test_the_verdict_appears_in_place_takes_focus_and_keeps_the_answer(browser, live_server, learner, width):
    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/practice/items/{item.id}/")
        page.evaluate("window.__samePage = true")  # gone if the page reloads
        # An unreadable cell first: its message comes back in place, nothing is counted.
        first = page.locator("input.cell-input").first
        first.fill("abc")
        page.click("text=Submit answer")
        page.wait_for_selector("p.alert")
        assert page.evaluate("window.__samePage === true")
        assert page.locator("[aria-invalid=true]").count() >= 1
        # Now the key, cell by cell: graded in place.
        for name, value in item.variant.data["answer"].items():
            for i, row in enumerate(value):
                for j, x in enumerate(row):
                    page.fill(f"#part-{name}-{i}-{j}", f"{x:.6f}")
        page.click("text=Submit answer")
        score = page.wait_for_selector("#result [data-score]")
        assert score.get_attribute("data-score") == "1.0"
        assert page.evaluate("window.__samePage === true"), "the page reloaded"
        assert page.evaluate("document.activeElement.id") == "result"
        top = page.evaluate("document.getElementById('result').getBoundingClientRect().top")
        assert 0 <= top < 800, f"the verdict is {top} px from the top of the window"
        assert "?submission=" in page.url  # a reload shows the same result
        key = item.variant.data["answer"]["weights"][0][0]
        assert page.input_value("#part-weights-0-0") == f"{key:.6f}"  # the answer stays in the form
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"in-place-{width}.png"))
    finally:
        context.close()
