"""A learner answers a numeric problem in a real browser; a real worker grades it."""

import pytest

from questions.practice import jobs as practice_jobs
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.services]


def test_score_appears_without_reload_while_the_worker_grades(page, live_server, learner, worker_process):

    practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=1)
    worker_process.start()
    log_in(page, live_server.url)
    # The easy stock has the variant made above: the page does not wait for the worker's start.
    form = page.locator("form", has=page.locator('button[data-kind="self_attention"]'))
    form.locator("select").select_option("easy")
    form.locator("button").click()
    page.wait_for_selector(".prompt math")

    from questions.practice.models import PracticeItem

    item = PracticeItem.objects.get()
    for name, value in item.variant.data["answer"].items():
        for i, row in enumerate(value):
            for j, x in enumerate(row):
                page.fill(f"#part-{name}-{i}-{j}", f"{x:.6f}")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.click("text=Submit answer")
    page.wait_for_url("**/?submission=*")
    navigations.clear()
    # The worker writes the grade; the page's poller shows it in place.
    score = page.wait_for_selector("[data-score]", timeout=60_000)
    assert score.get_attribute("data-score") == "1.0"
    assert navigations == [], "the result appeared without navigating"
