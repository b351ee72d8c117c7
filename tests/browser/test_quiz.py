"""A graded quiz in a real browser: an instructor builds and opens it, a learner joins with the
code, takes it (a choice, a numeric grid, certainties), submits and reads the review; the
instructor sees the row in the gradebook."""

import re

import pytest

from tests.browser.conftest import log_in
from tests.courses.conftest import (
    pool,  # noqa: F401 - a fixture: three published questions, key "Alpha"
)

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-pass-word"


def cell_value(x) -> str:
    return f"{x:.6f}" if isinstance(x, float) else str(x)


def fill_key(page, slot) -> None:
    """Type the stored key into the answer grid, cell by cell (tests only know the key)."""
    variant = slot.item.variant.data
    for part in variant["parts"]:
        name, shape, value = part["name"], part["shape"], variant["answer"][part["name"]]
        if not shape:
            page.fill(f"#part-{name}", cell_value(value))
        elif len(shape) == 1:
            for j, x in enumerate(value):
                page.fill(f"#part-{name}-{j}", cell_value(x))
        else:
            for i, row in enumerate(value):
                for j, x in enumerate(row):
                    page.fill(f"#part-{name}-{i}-{j}", cell_value(x))


def test_instructor_builds_a_quiz_and_a_learner_takes_it(browser, page, live_server, pool, django_user_model):  # noqa: F811
    from questions.courses.models import AttemptSlot, Quiz, QuizAttempt

    base = live_server.url
    django_user_model.objects.create_user(username="ines", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user(username="lea", password=PASSWORD)

    # The instructor: a course, then a quiz of one theory pool and one numeric kind, opened.
    log_in(page, base, "ines")
    page.goto(f"{base}/courses/")
    page.fill("#id_title", "Browser 101")
    page.click("text=Create the course")
    page.wait_for_selector("[data-join-code]")
    code = page.inner_text("[data-join-code]")
    page.click("text=New quiz")
    page.fill("#id_title", "Week 1")
    page.fill("#id_time_limit_minutes", "15")
    page.check("#id_certainty_based_marking")
    page.fill("#id_s0-title", "Theory")
    page.select_option("#id_s0-topic", "quiz-topic")
    page.fill("#id_s1-title", "Arithmetic")
    page.select_option("#id_s1-kind", "self_attention")
    page.select_option("#id_s1-difficulty", "easy")
    page.fill("#id_s1-points", "2")
    page.click("text=Save as draft")
    page.wait_for_selector("text=Open to learners")
    page.click("text=Open to learners")
    page.wait_for_selector(".window-open")
    quiz = Quiz.objects.get(title="Week 1")
    assert quiz.state == Quiz.State.OPEN and quiz.sections.count() == 2

    # The learner, in a phone-sized window: join by code, start, answer both questions.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    learner = phone.new_page()
    try:
        log_in(learner, base, "lea")
        learner.goto(f"{base}/courses/")
        learner.fill("#id_code", code.lower())
        learner.click("button:has-text('Join')")
        learner.wait_for_selector("text=Week 1")
        learner.click("text=Take the quiz")
        learner.click("button:has-text('Start attempt 1')")
        learner.wait_for_selector("#quiz-timer")
        seconds = int(learner.get_attribute("#quiz-timer", "data-seconds-left"))
        assert 890 <= seconds <= 900
        attempt = QuizAttempt.objects.get(learner__username="lea")

        assert "Question 1 of 2" in learner.inner_text("h2.quiz-qhead")
        learner.check("label.choice:has-text('Alpha') input")
        learner.check("input[name=certainty][value='3']")
        learner.click("button:has-text('Save answer')")
        learner.wait_for_selector("text=Answer to question 1 saved.")

        assert "Question 2 of 2" in learner.inner_text("h2.quiz-qhead")
        fill_key(learner, AttemptSlot.objects.select_related("item__variant").get(attempt=attempt, position=1))
        learner.check("input[name=certainty][value='2']")
        learner.click("button:has-text('Save answer')")
        learner.wait_for_selector("text=Answer to question 2 saved.")
        # Before submitting, the page holds no score and no key.
        assert learner.locator("[data-score], [data-mark], .worked").count() == 0
        learner.screenshot(path=str(_artifact("quiz_take_phone.png")), full_page=True)

        learner.click("text=Submit the attempt…")
        learner.wait_for_selector("text=You have answered 2 of 2 questions")
        learner.click("button:has-text('Submit the attempt')")
        score = learner.wait_for_selector("[data-score]")
        attempt.refresh_from_db()
        assert attempt.state == QuizAttempt.State.SUBMITTED
        # Right at certainty 3 (1 point) and right at certainty 2 (2 points * 2/3): the domain's marks.
        assert float(score.get_attribute("data-score")) == pytest.approx(attempt.score)
        assert attempt.score == pytest.approx(1 + 2 * 2 / 3)
        assert learner.locator(".worked").count() == 1 and learner.locator(".key").count() == 1
        learner.screenshot(path=str(_artifact("quiz_review_phone.png")), full_page=True)
    finally:
        phone.close()

    # The instructor's gradebook has the learner's row with that grade.
    page.goto(f"{base}/courses/{quiz.course_id}/gradebook")
    row = page.inner_text("tr[data-learner=lea]")
    assert re.search(rf"lea\s+{attempt.score:.4f} \(1\)", row), row


def _artifact(name: str):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
