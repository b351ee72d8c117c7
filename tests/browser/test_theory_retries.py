"""A wrong theory answer in practice, in a real browser: "Try again" in place with the chosen
option marked wrong, no key; "Show the answer" gives it (issue #13, item 3). At 1280 and 375 px."""

import pytest

from questions.catalogue.models import QuestionVersion
from questions.practice.models import PracticeItem
from tests.browser.conftest import log_in
from tests.choices import by_id

pytestmark = [pytest.mark.browser]


@pytest.mark.parametrize("width", [1280, 375])
def test_try_again_in_place_then_show_the_answer(browser, live_server, learner, bank, width):
    version = next(v for v in QuestionVersion.objects.filter(data__type="single_choice", status="published")
                   if sum(c["weight"] <= 0 for c in v.data["choices"]) >= 2 and v.data.get("explanation"))
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    wrong = next(i for i, c in enumerate(version.data["choices"]) if c["weight"] <= 0)
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/practice/items/{item.id}/")
        page.evaluate("window.__samePage = true")
        page.check(f'input[name="response"][value="{by_id(item, wrong)}"]')
        page.click("text=Submit answer")
        page.wait_for_selector("#result .try-again")
        assert page.evaluate("window.__samePage === true")
        label = page.locator("label.choice", has=page.locator(f'input[value="{by_id(item, wrong)}"]'))
        assert "marked-wrong" in label.get_attribute("class") and "not right" in label.inner_text()
        explanation = version.data["explanation"].strip()[:50]
        assert explanation not in page.inner_text("main")
        page.click("text=Show the answer")
        page.wait_for_selector("#result .score")
        assert explanation in page.inner_text("#result") and "The right answer" in page.inner_text("#result")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
