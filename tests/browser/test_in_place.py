"""Submitting never reloads the page (issue #13, item 1): on the practice page the verdict appears
in the result box below the form, which scrolls into view and takes focus; what was typed stays; an
unreadable answer gets its messages in place. A quiz try with immediate feedback gets its verdict
the same way, a mock answer moves on to the next question in place, and the reviews fill in as a
real worker grades. At 1280 and 375 px."""

from urllib.parse import urlparse

import pytest

from questions.practice import services as practice_services
from tests.browser.conftest import ARTIFACTS, log_in
from tests.courses.conftest import (  # noqa: F401 - fixtures used by name
    course,
    enrolled,
    instructor,
    learners,
    make_quiz,
    pool,
)

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


# --- Quiz and mock answers in place (live.js), with a real worker ------------------------------

PASSWORD = "s3cret-pass-word"


def watch_loads(page) -> list:
    """Every full page load from now on (a reload or a navigation); an address changed in place
    by history.replaceState is not one."""
    loads: list = []
    page.wait_for_load_state("load")  # the current page's own load event is not one to count
    page.on("load", lambda _page: loads.append(page.url))
    page.evaluate("window.__samePage = true")  # gone if the page reloads
    return loads


def in_view(page, selector: str, height: int) -> bool:
    top = page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top")
    return 0 <= top < height


@pytest.mark.services
def test_quiz_answers_with_immediate_feedback_and_a_review_fill_in_in_place(
    browser, live_server, make_quiz, enrolled, worker_process  # noqa: F811
):
    from questions.courses import rules as courses_rules
    from questions.courses import services as courses_services
    from questions.courses.models import AttemptSlot
    from tests.choices import by_id
    from tests.courses.conftest import POOL_SLUGS

    base = live_server.url
    lea, leo, lia = enrolled[:3]
    immediate = make_quiz(title="Now", feedback_timing="immediate",
                          sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, draw=2)])
    deferred = make_quiz(title="Later", sections=[courses_rules.SectionSpec(questions=POOL_SLUGS, draw=1)])
    # lia's answer waits in the queue (no worker yet); her review is open while it does.
    handed_in = courses_services.attempt_start(quiz=deferred, learner=lia)
    slot = AttemptSlot.objects.select_related("item").get(attempt=handed_in, position=0)
    courses_services.answer_submit(attempt=handed_in, learner=lia, position=0, answer={"response": by_id(slot.item, 0)})
    courses_services.attempt_submit(attempt=handed_in, learner=lia)
    review_context = browser.new_context(viewport={"width": 1280, "height": 800})
    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    phone = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        review = review_context.new_page()
        log_in(review, base, "lia", PASSWORD)
        review.goto(f"{base}/attempts/{handed_in.id}/review")
        assert "Still grading 1 answer" in review.inner_text("#review-status")
        assert review.locator("[data-score]").count() == 0
        review_loads = watch_loads(review)

        # lea at 1280 px: the try is sent in place; its box says "Being graded" and takes focus.
        page = desk.new_page()
        log_in(page, base, "lea", PASSWORD)
        attempt = courses_services.attempt_start(quiz=immediate, learner=lea)
        page.goto(f"{base}/attempts/{attempt.id}/")
        loads = watch_loads(page)
        page.check("label.choice:has-text('Alpha') input")
        page.click("button:has-text('Save answer')")
        page.wait_for_selector("text=Answer to question 1 saved.")
        assert page.evaluate("document.activeElement.id") == "quiz-result"
        assert "Being graded" in page.inner_text("#quiz-result")
        assert page.url == f"{base}/attempts/{attempt.id}/?q=0&saved=0"  # the same path, the address a reload needs

        # The worker starts: the verdict and the review fill in where they are, without a reload.
        worker_process.start()
        score = page.wait_for_selector("#quiz-result [data-score]", timeout=30_000)
        assert score.get_attribute("data-score") == "1.0" and "Correct." in page.inner_text("#quiz-result")
        assert page.evaluate("document.activeElement.id") == "quiz-result"
        assert in_view(page, "#quiz-result", 800)
        assert page.locator(".quiz-nav a.answered").count() == 1
        assert loads == [] and page.evaluate("window.__samePage === true"), "the page reloaded"
        review.wait_for_selector("#review-body [data-score]", timeout=30_000)
        assert review.inner_text("#review-status") == "All answers graded."
        assert "Correct." in review.inner_text("#review-body") and "Mark: 1 of 1" in review.inner_text("#review-body")
        assert review_loads == [] and review.evaluate("window.__samePage === true")

        # leo at 375 px: a wrong try, then a right one: each verdict in place and in view.
        small = phone.new_page()
        log_in(small, base, "leo", PASSWORD)
        other = courses_services.attempt_start(quiz=immediate, learner=leo)
        small.goto(f"{base}/attempts/{other.id}/")
        loads = watch_loads(small)
        small.check("label.choice:has-text('Beta') input")
        small.click("button:has-text('Save answer')")
        small.wait_for_selector("#quiz-result [data-score='0.0']", timeout=30_000)
        assert "Not correct" in small.inner_text("#quiz-result")
        small.check("label.choice:has-text('Alpha') input")
        small.click("button:has-text('Replace my answer')")  # a new idempotency key came with the verdict
        small.wait_for_selector("#quiz-result [data-score='1.0']", timeout=30_000)
        assert small.evaluate("document.activeElement.id") == "quiz-result"
        assert in_view(small, "#quiz-result", 740)
        assert "(try 2)" in small.inner_text("#saved-answer")
        assert loads == [] and small.evaluate("window.__samePage === true")
        assert urlparse(small.url).path == f"/attempts/{other.id}/"
        ARTIFACTS.mkdir(exist_ok=True)
        small.screenshot(path=str(ARTIFACTS / "quiz-in-place-375.png"))
        page.screenshot(path=str(ARTIFACTS / "quiz-in-place-1280.png"))
    finally:
        for context in (review_context, desk, phone):
            context.close()


@pytest.mark.services
def test_mock_answers_move_on_in_place_and_the_review_fills_in(browser, live_server, learner, bank, worker_process):
    from questions.catalogue import services as catalogue_services
    from questions.catalogue.models import QuestionVersion
    from questions.learning.models import MockInterview
    from tests.choices import by_id

    topic = catalogue_services.topic_upsert(slug="mock-choices", title="Choices")
    for version in QuestionVersion.objects.filter(data__type="single_choice", status="published")[:4]:
        catalogue_services.question_version_save(topic=topic, data={**version.data, "slug": f"in-place-{version.data['slug']}"})
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/mock/")
        page.click("text=Clear all")
        page.check('input[name="topic"][value="mock-choices"]')
        page.check('input[name="preset"][value="quick"]')
        page.click("text=Start the interview")
        page.wait_for_selector("#mock-timer")
        mock = MockInterview.objects.get()
        path = f"/mock/{mock.id}/"
        loads = watch_loads(page)
        for position in (1, 2):
            item = mock.entries.select_related("item__question_version").get(position=position).item
            choices = item.question_version.data["choices"]
            best = max(range(len(choices)), key=lambda i: choices[i]["weight"])
            assert f"Question {position} of 3" in page.inner_text("h2.mock-qhead")
            page.check(f'input[name="response"][value="{by_id(item, best)}"]')
            page.click("button:has-text('Save answer')")
            page.wait_for_selector(f"text=Answer to question {position} saved. Question {position + 1} is next.")
            assert f"Question {position + 1} of 3" in page.inner_text("h2.mock-qhead")  # moved on in place
            assert page.evaluate("document.activeElement.matches('#answer-status .notice')")
            assert page.locator(".mock-nav a.answered").count() == position
            assert urlparse(page.url).path == path
        assert loads == [] and page.evaluate("window.__samePage === true"), "the page reloaded"
        assert page.locator("[data-score]").count() == 0, "no score during the interview"

        page.click("text=Finish now…")
        page.click("text=Finish and see the review")
        page.wait_for_url(f"{live_server.url}/mock/{mock.id}/review")
        assert "Still grading 2 answers" in page.inner_text("#review-status")
        loads = watch_loads(page)
        worker_process.start()
        page.wait_for_selector('.mock-review[data-pending="0"]', timeout=30_000)
        assert page.inner_text("#review-status") == "All answers graded."
        assert page.locator('.mock-row[data-outcome="right"]').count() == 2
        assert loads == [] and page.evaluate("window.__samePage === true")
        page.screenshot(path=str(ARTIFACTS / "mock-review-in-place-375.png"), full_page=True)
    finally:
        context.close()
