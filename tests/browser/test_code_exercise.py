"""A learner writes attention in the code editor, runs the examples and submits, in a real
browser; a real worker consuming the code queue runs the code in the sandbox."""

import pytest

from questions.practice import jobs as practice_jobs
from questions.practice.models import PracticeItem
from tests.browser.conftest import log_in
from tests.domain.test_code_exercises import UNSCALED

pytestmark = [pytest.mark.browser, pytest.mark.services]


def start(page, kind: str) -> None:
    """Start a kind from the home page, at the easy difficulty (the variant made for the test)."""
    form = page.locator("form", has=page.locator(f'button[data-kind="{kind}"]'))
    form.locator("select").select_option("easy")
    form.locator("button").click()
    page.wait_for_selector(".cm-editor .cm-content")


def replace_code(page, code: str) -> None:
    """Select everything in the editor and type `code` over it, as a paste would."""
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)


def test_write_run_the_examples_and_submit_in_the_editor(sandboxed, page, live_server, learner, worker_process):
    practice_jobs.variants_generate(kind="code_attention_numpy", difficulty="easy", count=1)
    worker_process.start()
    log_in(page, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator("h2", has_text="Code exercises").count() == 1
    start(page, "code_attention_numpy")
    item = PracticeItem.objects.select_related("variant").get()
    variant = item.variant.data
    # The starter code is in the editor, highlighted; the textarea is hidden behind it.
    assert "def attention" in page.inner_text(".cm-content")
    assert page.locator(".cm-content .tok-keyword").count() > 0
    assert page.locator("textarea[data-code-editor]").is_hidden()

    replace_code(page, UNSCALED)
    page.click("button[data-code-run]")
    result = page.wait_for_selector(".code-run-result", timeout=60_000)
    examples = page.locator(".code-run-result .code-test")
    assert examples.count() == len(variant["examples"])
    assert page.locator(".code-run-result .code-test.failed").count() >= 1
    assert "largest error" in result.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('code-run-result')")

    replace_code(page, variant["answer"]["code"])
    page.click("button[data-code-run]")
    page.locator(".code-run-result", has_text="Now submit").wait_for(timeout=60_000)
    page.click("text=Submit (runs every test)")
    page.wait_for_url("**/?submission=*")
    score = page.wait_for_selector("[data-score]", timeout=60_000)
    assert score.get_attribute("data-score") == "1.0"
    assert page.locator("#result .code-test.passed").count() == len(variant["answer"]["tests"])
    assert page.locator("#result .code-test", has_text="(hidden)").count() == len(variant["hidden_tests"])
    page.click("text=A model solution")
    assert "def attention" in page.inner_text(".model-solution")


def test_the_editor_fits_a_phone_and_resets_to_the_starter(sandboxed, browser, live_server, learner, worker_process):
    practice_jobs.variants_generate(kind="code_rope", difficulty="easy", count=1)
    worker_process.start()
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        start(page, "code_rope")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        box = page.locator(".cm-editor").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        starter = PracticeItem.objects.select_related("variant").get().variant.data["starter_code"]
        replace_code(page, "def apply_rope(x, positions):\n    return x\n")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[data-code-reset]")
        assert page.input_value("textarea[data-code-editor]") == starter
        # Run with the starter code: it raises NotImplementedError, reported per example.
        page.click("button[data-code-run]")
        result = page.wait_for_selector(".code-run-result", timeout=60_000)
        assert "NotImplementedError" in result.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
