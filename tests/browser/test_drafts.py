"""Drafts in a real browser: part of a numeric answer typed, "Draft saved" said quietly, and the
typed cells there on another device (a new browser context), at 1280 and at 375 px."""

import pytest

from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice.models import AnswerDraft
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser]


def test_a_half_typed_answer_is_restored_on_another_device(browser, page, live_server, learner):
    practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=1)
    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}/practice/items/{item.id}/")
    status = page.locator(".draft-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    assert status.text_content().strip() == ""

    page.click("#part-scores-0-0")
    page.keyboard.type("1.25")
    page.keyboard.press("Tab")
    page.keyboard.type("-3")
    page.wait_for_selector(".draft-status:text-is('Draft saved')", timeout=10_000)
    draft = AnswerDraft.objects.get(item=item)
    assert draft.answer["scores"][0][:2] == ["1.25", "-3"]

    for width in (1280, 375):
        device = browser.new_context(viewport={"width": width, "height": 820})
        other = device.new_page()
        log_in(other, base)
        other.goto(f"{base}/practice/items/{item.id}/")
        assert other.input_value("#part-scores-0-0") == "1.25"
        assert other.input_value("#part-scores-0-1") == "-3"
        notice = other.locator(".draft-status")
        assert notice.text_content().startswith("Restored your unsaved answer from")
        assert notice.is_visible()
        assert other.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"overflows at {width} px"
        ARTIFACTS.mkdir(exist_ok=True)
        other.screenshot(path=str(ARTIFACTS / f"drafts-restored-{width}.png"), full_page=True)
        device.close()
