"""On a 375 px phone no result page scrolls sideways: wide grids, tables and formulas scroll
inside their own boxes. Every kind at its hardest, answered wrongly so every part is marked (a
code exercise with its starter code, so every test reports its failure)."""

import pytest

from attention_engine.api import list_kinds
from questions.practice import services as practice_services
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
