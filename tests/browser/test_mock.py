"""A learner takes short mock interviews in a real browser: answers, finishes, reads the review;
the server's deadline passes while the page is open; the review fills in as grading ends."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.learning import services as learning_services
from questions.learning.models import MockInterview
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from questions.practice.models import Submission
from tests.browser.conftest import ARTIFACTS, log_in
from tests.choices import by_id

pytestmark = [pytest.mark.browser]


@pytest.fixture
def topics(transactional_db):
    """The bank, plus a "decoder" topic of single-choice questions: the causal-mask problem kind
    belongs to it, so its interviews mix theory and numeric questions."""
    catalogue_services.bank_load(path=Path("questions/bank"))
    topic = catalogue_services.topic_upsert(slug="decoder", title="Decoders", position=99)
    for version in QuestionVersion.objects.filter(data__type="single_choice", status="published")[:4]:
        catalogue_services.question_version_save(topic=topic, data={**version.data, "slug": f"dec-{version.data['slug']}"})
    return topic


def start_mock(page, base: str, topic: str) -> MockInterview:
    page.goto(f"{base}/mock/")
    page.click("text=Clear all")
    assert page.locator('input[name="topic"]:checked').count() == 0
    page.check(f'input[name="topic"][value="{topic}"]')
    page.check('input[name="preset"][value="quick"]')
    page.click("text=Start the interview")
    page.wait_for_selector("#mock-timer")
    return MockInterview.objects.get()


def best_choice(item) -> int:
    choices = item.question_version.data["choices"]
    return max(range(len(choices)), key=lambda i: choices[i]["weight"])


def typed(value) -> str:
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def open_question(page, position: int) -> None:
    page.click(f'.mock-nav a[href="?q={position}"]')
    page.wait_for_selector(f'.mock-nav a[href="?q={position}"][aria-current="step"]')


def test_a_short_mock_answered_in_part_then_finished_shows_the_review(numeric_kinds_only, page, live_server, learner, topics):
    base = live_server.url
    log_in(page, base)
    mock = start_mock(page, base, "decoder")
    entries = list(mock.entries.select_related("item__variant", "item__question_version").order_by("position"))
    numeric = next(e for e in entries if e.item.is_numeric)
    theory = [e for e in entries if not e.item.is_numeric]
    assert len(theory) == 2
    assert page.locator("#mock-timer").inner_text().startswith("5:") or page.locator("#mock-timer").inner_text() == "6:00"
    assert page.locator("[data-score]").count() == 0

    # The numeric question: every cell of the grid typed from the engine's key.
    open_question(page, numeric.position)
    page.wait_for_selector(".prompt math")
    variant = numeric.item.variant.data
    for part in variant["parts"]:
        value = variant["answer"][part["name"]]
        if len(part["shape"]) == 2:
            for i, row in enumerate(value):
                for j, cell in enumerate(row):
                    page.fill(f"#part-{part['name']}-{i}-{j}", typed(cell))
        elif len(part["shape"]) == 1:
            for j, cell in enumerate(value):
                page.fill(f"#part-{part['name']}-{j}", typed(cell))
        else:
            page.fill(f"#part-{part['name']}", typed(value))
    page.click("text=Save answer")
    page.wait_for_selector(f"text=Answer to question {numeric.position} saved.")

    # One theory question answered; the other left unanswered.
    answered = theory[0]
    open_question(page, answered.position)
    page.check(f'input[name="response"][value="{by_id(answered.item, best_choice(answered.item))}"]')
    page.click("text=Save answer")
    page.wait_for_selector(f"text=Answer to question {answered.position} saved.")
    assert page.locator(".mock-nav a.answered").count() == 2
    assert page.locator("[data-score]").count() == 0, "no score during the interview"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mock_interview_page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / "mock_interview_phone_dark.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.emulate_media(color_scheme="light")

    page.click("text=Finish now…")
    page.wait_for_selector("text=You have answered 2 of 3 questions")
    page.click("text=Finish and see the review")
    page.wait_for_url(f"{base}/mock/{mock.id}/review")
    rows = page.locator(".mock-row")
    assert rows.count() == 3
    # Missed first: the unanswered question leads, the two right answers follow.
    assert rows.nth(0).get_attribute("data-outcome") == "unanswered"
    assert rows.nth(0).get_attribute("data-position") == str(theory[1].position)
    assert {rows.nth(i).get_attribute("data-outcome") for i in (1, 2)} == {"right"}
    assert page.locator("[data-mock-score]").inner_text() == "67%"
    assert page.locator("text=Time is up").count() == 0
    assert page.locator(".mock-row .feedback").count() >= 1
    assert MockInterview.objects.get(id=mock.id).finished_at < mock.deadline
    page.goto(f"{base}/mock/")
    assert page.locator(".mock-history [data-mock-score]").inner_text() == "67%"
    page.screenshot(path=str(ARTIFACTS / "mock_start_and_history.png"), full_page=True)
    page.goto(f"{base}/mock/{mock.id}/review")


def test_when_the_deadline_passes_the_open_page_turns_into_the_review(numeric_kinds_only, page, browser, live_server, learner, topics):
    base = live_server.url
    log_in(page, base)
    mock = start_mock(page, base, "decoder")
    position = next(e.position for e in mock.entries.select_related("item") if not e.item.is_numeric)
    # A second window without JavaScript keeps the interview's form open past the deadline.
    stale_context = browser.new_context(java_script_enabled=False)
    stale = stale_context.new_page()
    log_in(stale, base)
    stale.goto(f"{base}/mock/{mock.id}/?q={position}")
    # The interview is shortened through the model: three seconds are left on the server.
    deadline = timezone.now() + timedelta(seconds=3)
    MockInterview.objects.filter(id=mock.id).update(deadline=deadline)
    page.reload()
    assert page.locator("#mock-timer").inner_text() in {"0:03", "0:02", "0:01", "0:00"}
    # The countdown reaches zero and reopens the interview; the server answers with the review.
    page.wait_for_url(f"{base}/mock/{mock.id}/review", timeout=20_000)
    assert page.locator(".mock-timeup").inner_text().startswith("Time is up")
    assert page.locator('.mock-row[data-outcome="unanswered"]').count() == 3
    assert MockInterview.objects.get(id=mock.id).finished_at is None  # reads never write
    # The form left open from before is refused by the server; the refusal stores the finish.
    stale.locator('input[name="response"]').first.check()  # the decoder topic: single choice
    stale.click("text=Save answer")
    assert "Time is up" in stale.locator(".alert").inner_text()
    assert "was not saved" in stale.locator(".alert").inner_text()
    stale.screenshot(path=str(ARTIFACTS / "mock_answer_after_deadline.png"), full_page=True)
    stale_context.close()
    assert not Submission.objects.exists()
    assert MockInterview.objects.get(id=mock.id).finished_at == deadline


def test_the_review_fills_in_as_the_worker_grades(numeric_kinds_only, page, live_server, learner, topics, monkeypatch):

    # The answer waits for a worker that has not picked it up yet.
    monkeypatch.setattr(practice_services, "enqueue_grading", lambda submission_id, code=False: None)
    mock = learning_services.mock_interview_start(learner=learner, topic_slugs=["decoder"], preset_key="quick").mock
    entry = next(e for e in mock.entries.select_related("item__question_version") if not e.item.is_numeric)
    learning_services.mock_answer_submit(
        learner=learner, mock_id=mock.id, position=entry.position, answer={"response": by_id(entry.item, best_choice(entry.item))}
    )
    learning_services.mock_interview_finish(learner=learner, mock_id=mock.id)
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/mock/{mock.id}/review")
    assert page.locator(f'.mock-row[data-position="{entry.position}"]').get_attribute("data-outcome") == "pending"
    assert "Still grading 1 answer" in page.locator("#review-status").inner_text()
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    practice_jobs.submission_grade(submission_id=Submission.objects.get().id)
    page.wait_for_selector(f'.mock-row[data-position="{entry.position}"][data-outcome="right"]', timeout=30_000)
    assert page.locator("#review-status").inner_text() == "All answers graded."
    assert navigations == [], "the review updated in place"
