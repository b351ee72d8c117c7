"""The answer grid in a real browser: Tab between cells, paste a block, parse preview, result with
heatmap, worked solution and named mistake, on a phone and in dark mode. A real worker grades."""

import json

import numpy as np
import pytest

from attention_engine.variant import as_array
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from quizsite.heatmap import DARK_RAMP, LIGHT_RAMP
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]


def step_value(variant: dict, name: str) -> np.ndarray:
    for step in variant["steps"]:
        if name in step["values"]:
            return as_array(step["values"][name])
    raise KeyError(name)


def softmax_rows(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def paste(page, selector: str, text: str) -> None:
    """What the browser does on Ctrl+V: a paste event carrying the clipboard's text."""
    page.focus(selector)
    page.evaluate(
        """([selector, text]) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.querySelector(selector).dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        [selector, text],
    )


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_type_paste_preview_submit_and_see_the_named_mistake(page, browser, live_server, learner, worker_process):

    practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=1)
    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    variant = item.variant.data
    # The "no scaling" mistake, computed from the variant's own steps: softmax(QK^T) V.
    raw = step_value(variant, "QK^T")
    weights = softmax_rows(raw)
    output = weights @ step_value(variant, "V")

    worker_process.start()
    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}/practice/items/{item.id}/")

    # A cell the engine cannot read is marked by the preview before anything is submitted.
    page.click("#part-scores-0-0")
    page.keyboard.type("2 pi")
    page.wait_for_selector('#part-scores-0-0[aria-invalid="true"]')
    assert page.get_attribute("#part-scores-0-0", "aria-describedby") == "part-scores-0-0-msg"
    assert page.text_content("fieldset[data-part=scores] .grid-status") == "1 cell could not be read."
    assert page.text_content("#part-scores-0-0-msg").strip()

    # Type the scores with Tab from cell to cell; the first one as an expression.
    page.fill("#part-scores-0-0", "")
    typed = [f"{2 * raw[0][0]:g}/2"] + [f"{x:g}" for x in raw.ravel()[1:]]
    for k, text in enumerate(typed):
        page.keyboard.type(text)
        if k < len(typed) - 1:
            page.keyboard.press("Tab")
    for k, text in enumerate(typed):
        assert page.input_value(f"#part-scores-{k // 2}-{k % 2}") == text
    page.wait_for_function(
        "() => !document.querySelector('#part-scores-0-0').hasAttribute('aria-invalid')"
        " && document.querySelector('#part-scores-0-0-msg').textContent.startsWith('= ')"
    )
    assert page.text_content("#part-scores-0-0-msg") == f"= {raw[0][0]:g}"

    # Paste a block copied from a spreadsheet into the weights, a JSON list into the output.
    previews = int(page.get_attribute(".numeric-parts", "data-previews") or 0)
    paste(page, "#part-weights-0-0", "\n".join("\t".join(f"{v:.6f}" for v in row) for row in weights))
    paste(page, "#part-output-0-0", json.dumps(np.round(output, 6).tolist()))
    assert page.input_value("#part-weights-1-1") == f"{weights[1][1]:.6f}"
    assert float(page.input_value("#part-output-1-0")) == pytest.approx(output[1][0], abs=1e-6)
    assert "Filled 4 cells from row 1, column 1" in page.text_content("fieldset[data-part=weights] .grid-status")
    # The preview that follows the paste keeps what the paste did in view.
    page.wait_for_function(f"() => Number(document.querySelector('.numeric-parts').dataset.previews || 0) > {previews}")
    assert "Filled 4 cells from row 1, column 1" in page.text_content("fieldset[data-part=weights] .grid-status")
    page.screenshot(path=str(ARTIFACTS / "grid_filled.png"), full_page=True)

    page.click("text=Submit answer")
    page.wait_for_url("**/?submission=*")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.wait_for_selector("[data-score]", timeout=60_000)
    result = page.locator("#result")
    assert "without dividing by" in result.locator(".mistake").text_content()
    assert result.locator('svg[role="img"]').count() == 2
    assert result.locator(".worked h4").count() == len(variant["steps"])
    assert result.locator("table.marked td.bad").count() > 0
    assert navigations == [], "the result appeared without navigating"
    result_url = page.url

    # On a 375 px phone the page does not scroll sideways; wide boxes scroll inside themselves.
    phone = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        phone_page = phone.new_page()
        log_in(phone_page, base)
        phone_page.goto(result_url)
        phone_page.wait_for_selector("svg.heatmap")
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
        ARTIFACTS.mkdir(exist_ok=True)
        phone_page.screenshot(path=str(ARTIFACTS / "grid_result_phone_375.png"), full_page=True)
    finally:
        phone.close()

    # Dark mode: the heatmap switches to its dark palette (contrast is checked in test_heatmap).
    dark = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme="dark")
    try:
        dark_page = dark.new_page()
        log_in(dark_page, base)
        dark_page.goto(result_url)
        dark_page.wait_for_selector("svg.heatmap")
        fills = dark_page.eval_on_selector_all(
            "svg.heatmap g.hm-cell:not(.hm-masked) rect.hm-bg", "rects => rects.map(r => getComputedStyle(r).fill)"
        )
        assert fills and set(fills) <= {rgb(c) for c in DARK_RAMP}
        assert not set(fills) & {rgb(c) for c in LIGHT_RAMP}
        dark_page.screenshot(path=str(ARTIFACTS / "grid_result_dark.png"), full_page=True)
    finally:
        dark.close()
