"""axe-core (the axe-playwright-python package's copy) finds no serious or critical violation on
the ten main pages (and a matching question whose options are formulas), at 1280 and 375 px, in light and dark (issue #13, item 9)."""

from pathlib import Path

import axe_playwright_python
import pytest

from questions.practice import services as practice_services
from questions.practice.models import Submission
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser]

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def violations(page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]} {[n['html'][:300] for n in v['nodes'][:1]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width, scheme", [(1280, "light"), (375, "dark")])
def test_the_main_pages_have_no_serious_accessibility_violation(
    sandboxed, browser, live_server, learner, bank, width, scheme
):
    numeric = practice_services.practice_item_create_numeric(learner=learner, kind="causal_mask", difficulty="easy")
    code = practice_services.practice_item_create_numeric(learner=learner, kind="code_attention_torch", difficulty="easy")
    graded = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    answer = {part: [["0.5"] * len(row) for row in value] for part, value in graded.variant.data["answer"].items()}
    submission = practice_services.submission_create(learner=learner, item=graded, answer=answer).submission
    theory = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="softmax")
    while not theory.question_version_id:
        theory = practice_services.practice_item_create_for_topic(learner=learner, topic_slug="softmax")
    assert Submission.objects.get(id=submission.id).status == "graded"
    from questions.catalogue.models import QuestionVersion
    from questions.practice.models import PracticeItem

    # Options whose whole text is a formula need a name MathML does not give (matching, with math).
    math_matching = next(v for v in QuestionVersion.objects.filter(data__type="matching", status="published")
                         if any("$" in p["left"] or "$" in p["right"] for p in v.data["pairs"]))
    matching = PracticeItem.objects.create(learner=learner, question_version=math_matching)
    pages = ["/", f"/practice/items/{numeric.id}/", f"/practice/items/{code.id}/",
             f"/practice/items/{graded.id}/?submission={submission.id}", f"/practice/items/{theory.id}/",
             "/reviews/", "/mock/", "/courses/", f"/practice/items/{matching.id}/", "/accounts/password/change/"]
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        found = {"/accounts/login/": violations(page)}
        log_in(page, live_server.url)
        for url in pages:
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("load")
            found[url] = violations(page)
        assert not {url: v for url, v in found.items() if v}, found
        assert len(found) == 11
    finally:
        context.close()
