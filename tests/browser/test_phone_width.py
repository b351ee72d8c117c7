"""On a 375 px phone no page scrolls sideways (issue #13, phones): matrices fit (stacked, scaled
by their column count), and only what cannot fit even then scrolls, in its own box with the cue.
Every kind's result at its hardest, answered wrongly so every part is marked (a code exercise with
its starter code, so every test reports its failure); every numeric kind's problem with one graded
answer, light and dark; theory questions with formulas in their choices, matching and ordering lists."""

import pytest

from attention_engine.api import list_kinds
from questions.catalogue.models import QuestionVersion
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def ones(part: dict):
    """An answer of 1 in every cell of a part: readable, and wrong for every kind."""
    shape = part["shape"]
    if not shape:
        return "1"
    if len(shape) == 1:
        return ["1"] * shape[0]
    return [["1"] * shape[1] for _ in range(shape[0])]


def test_every_kinds_result_fits_a_phone(sandboxed, browser, live_server, learner):
    submitted = []
    for kind in list_kinds():
        difficulty = kind["difficulties"][-1]
        item = practice_services.practice_item_create_numeric(learner=learner, kind=kind["name"], difficulty=difficulty)
        if kind["answer_type"] == "code":  # the starter code: every test fails with its message
            answer = {"code": item.variant.data["starter_code"]}
        else:
            answer = {p["name"]: ones(p) for p in item.variant.data["parts"]}
        created = practice_services.submission_create(learner=learner, item=item, answer=answer)  # graded in-process
        submitted.append((kind["name"], item.id, created.submission.id))

    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    log_in(page, live_server.url)
    ARTIFACTS.mkdir(exist_ok=True)
    wide = {}
    for kind, item_id, submission_id in submitted:
        page.goto(f"{live_server.url}/practice/items/{item_id}/?submission={submission_id}")
        assert page.locator("[data-score]").count() == 1, f"{kind}: no graded result on the page"
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            wide[kind] = overflow
            page.screenshot(path=str(ARTIFACTS / f"phone-too-wide-{kind}.png"), full_page=True)
    page.goto(f"{live_server.url}/reviews/")
    if page.evaluate(OVERFLOW) > 0:
        wide["reviews page"] = page.evaluate(OVERFLOW)
    context.close()
    assert not wide, f"pages wider than a 375 px phone (px too wide): {wide}"


# Every matrix on a page at a phone's width (a formula, an answer grid, a table of numbers, a
# heatmap), by the extent of its content: those that run past the screen, and whether each sits
# in a box that shows the cue and is a focusable region (site.js), itself within the screen.
MATRICES = "main math, main .answer-grid, main table.matrix, main .heatmap-box svg"
LAYOUT = """(selector) => {
  const width = window.innerWidth;
  const extent = (el) => { const range = document.createRange(); range.selectNodeContents(el); return range.getBoundingClientRect(); };
  const within = (r) => r.left >= -0.5 && r.right <= width + 0.5;
  const wide = [...document.querySelectorAll(selector)].filter((el) => !within(extent(el))).map((el) => {
    const box = el.closest('.scrolls[role=region][tabindex="0"]');
    const shaped = el.closest("[data-cols]");
    return {what: el.closest(".prompt") ? "prompt" : el.closest(".answer-grid") ? "grid" : "result",
            tag: el.tagName.toLowerCase(), cols: shaped ? Number(shaped.dataset.cols) : null,
            name: (el.querySelector("caption") || el.closest("[data-part]") || el).textContent.trim().slice(0, 40),
            box: box ? box.className : null, cue: !!box && within(box.getBoundingClientRect())};
  });
  const formulas = [...document.querySelectorAll(".math-box[data-cols] > math")]
    .map((m) => [Number(m.parentElement.dataset.cols), parseFloat(getComputedStyle(m).fontSize)]);
  return {overflow: document.documentElement.scrollWidth - width, count: document.querySelectorAll(selector).length, wide, formulas};
}"""
# site.js has marked every box that overflows (and only those) once the layout has settled.
MARKED = """() => [...document.querySelectorAll(".prompt, .math-box, .grid-scroll, .heatmap-box, .step-text, .choice > span, .match > span")]
  .every((box) => (box.scrollWidth > box.clientWidth + 1) === box.classList.contains("scrolls"))"""


def layout(page, url: str, selector: str = MATRICES) -> dict:
    page.goto(url)
    page.wait_for_function("document.fonts.status === 'loaded'")
    page.wait_for_function(MARKED)
    return page.evaluate(LAYOUT, selector)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_matrices_and_prompts_fit_a_phone(browser, live_server, learner, scheme):
    """Every numeric kind's problem (light: every difficulty; dark: the hardest) and one graded
    answer with its heatmap and worked solution, at 375 px: the page never scrolls sideways, and
    a matrix wider than the screen scrolls in its own box with the cue. No prompt matrix of an easy
    or medium problem needs to, nor an answer grid of up to 6 columns."""
    kinds = [k for k in list_kinds() if k["answer_type"] != "code"]
    problems = [(k["name"], d) for k in kinds for d in (k["difficulties"] if scheme == "light" else k["difficulties"][-1:])]
    items = {p: practice_services.practice_item_create_numeric(learner=learner, kind=p[0], difficulty=p[1]) for p in problems}
    graded = items[("padding_mask", "hard")]  # the largest weights, a masked heatmap, a worked solution
    answer = {p["name"]: ones(p) for p in graded.variant.data["parts"]}
    submission = practice_services.submission_create(learner=learner, item=graded, answer=answer).submission

    context = browser.new_context(viewport={"width": 375, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        found = {p: layout(page, f"{live_server.url}/practice/items/{item.id}/") for p, item in items.items()}
        result = layout(page, f"{live_server.url}/practice/items/{graded.id}/?submission={submission.id}")
        assert page.locator("[data-score]").count() == 1 and page.locator(".worked table.matrix").count() >= 3
        assert page.locator(".heatmap-box svg").count() >= 1
    finally:
        context.close()

    pages = {f"{k}/{d}": v for (k, d), v in found.items()} | {"padding_mask/hard result": result}
    assert all(v["count"] for v in pages.values())  # every numeric page shows its answer grid at least
    assert {p: v["overflow"] for p, v in pages.items() if v["overflow"] > 0} == {}, "pages that scroll sideways"
    uncued = {p: [w for w in v["wide"] if not w["cue"]] for p, v in pages.items()}
    assert {p: w for p, w in uncued.items() if w} == {}, "matrices past the screen outside a scroll box with the cue"
    prompt_boxes = {w["box"] for v in pages.values() for w in v["wide"] if w["what"] == "prompt"}
    assert all("math-box" in box for box in prompt_boxes), "a prompt scrolls as a whole, not its matrix alone"
    scrolled_prompts = {p: sum(w["what"] == "prompt" for w in v["wide"]) for p, v in pages.items()}
    assert {p: n for p, n in scrolled_prompts.items() if n and not p.endswith(("/hard", "result"))} == {}
    narrow_grids = {p: [w for w in v["wide"] if w["what"] == "grid" and w["cols"] <= 6] for p, v in pages.items()}
    assert {p: w for p, w in narrow_grids.items() if w} == {}, "answer grids of up to 6 columns that scroll"
    # Formulas are scaled by their matrices' column count: more columns, never a larger size; the
    # widest given (layer_norm's 5) smaller than those of up to 4 columns.
    sizes = sorted({f for v in pages.values() for f in map(tuple, v["formulas"])})
    assert all(a[1] >= b[1] for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    assert max(c for c, _ in sizes) >= 5 and max(f for c, f in sizes if c >= 5) < min(f for c, f in sizes if c <= 4), sizes
    print("matrices that scroll in their own box:", {p: v["wide"] for p, v in pages.items() if v["wide"]})


def test_theory_questions_with_formulas_or_matching_lists_fit_a_phone(browser, live_server, learner, bank):
    """Every matching question (a select is as wide as its longest option), every ordering
    question and every question with a formula in a choice, at 375 px: the page never scrolls sideways; a formula too long
    for its line scrolls in its own text with the cue."""
    versions = [v for v in QuestionVersion.objects.filter(status="published")
                if v.data["type"] in ("matching", "ordering") or any("$" in c["text"] for c in v.data.get("choices") or [])]
    items = [PracticeItem.objects.create(learner=learner, question_version=v) for v in versions]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        found = {item.question_version.data["slug"]: layout(page, f"{live_server.url}/practice/items/{item.id}/", "main math, main select, main .order")
                 for item in items}
    finally:
        context.close()
    assert len(found) >= 50 and sum(v["count"] for v in found.values()) > len(found)
    assert {s: v["overflow"] for s, v in found.items() if v["overflow"] > 0} == {}, "pages that scroll sideways"
    assert {s: v["wide"] for s, v in found.items() if any(not w["cue"] for w in v["wide"])} == {}
