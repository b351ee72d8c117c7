"""The quiz builder in a real browser, at desktop and phone widths, light and dark (issue #13,
instructors): sections go and come and move without losing what is typed in them, a question is
found by text and by type and picked, axe finds nothing serious on the built page, and the saved
quiz has the sections in the order shown with the questions picked."""

import re

import pytest
from playwright.sync_api import expect

from questions.catalogue import services as catalogue_services
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_accessibility import violations
from tests.courses.conftest import (  # noqa: F401 - fixtures
    POOL_SLUGS,
    choice_question,
    course,
    instructor,
    pool,
)

pytestmark = pytest.mark.browser

MASKS = "masks-true-false"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def masks(db):
    topic = catalogue_services.topic_upsert(slug="masks", title="Masks", position=1)
    data = {**choice_question(MASKS), "title": "Causal masks hide future tokens", "type": "true_false",
            "prompt": "A causal mask stops a token seeing later ones.", "answer": True,
            "feedback_true": "Yes.", "feedback_false": "It does."}
    data.pop("choices")
    catalogue_services.question_version_save(topic=topic, data=data)


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.getAttribute('aria-label') "
                         "|| document.activeElement.textContent")


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (375, "dark")])
def test_an_instructor_builds_a_quiz_of_two_sections_in_the_page(browser, live_server, course, pool, masks, width, scheme):  # noqa: F811
    from questions.courses.models import Quiz

    base = live_server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        log_in(page, base, "ines")
        page.goto(f"{base}/courses/{course.id}/quizzes/new")
        sections = page.locator("[data-section]")
        page.fill("#id_title", "Week 4")
        page.fill("#id_s0-title", "Arithmetic")
        page.select_option("#id_s0-kind", "mha_params")
        page.fill("#id_s0-points", "2")

        # Three sections to start: the third goes, a new one comes, and goes again.
        page.get_by_role("button", name="Remove section 3").click()
        expect(sections).to_have_count(2)
        assert focused(page) == "id_s1-title"
        page.get_by_role("button", name="Add a section").click()
        expect(sections).to_have_count(3)
        assert focused(page) == "id_s2-title" and page.input_value("#id_s2-draw") == "1"
        expect(page.locator("[data-builder-status]")).to_have_text("Section 3 added.")
        page.get_by_role("button", name="Remove section 3").click()
        expect(sections).to_have_count(2)
        assert page.input_value("[name=section_count]") == "2"

        # The second section's questions: found by a word of the prompt, then by type.
        page.fill("#id_s1-title", "Masks")
        page.fill("#id_s1-search", "later ones")
        results = page.locator("#section-1 [data-picker-results] li")
        expect(results).to_have_count(1)
        expect(results.first).to_contain_text("Causal masks hide future tokens")
        expect(results.first).to_contain_text("Masks · True or false")
        page.get_by_role("button", name="Add Causal masks hide future tokens").click()
        picked = page.locator("#section-1 [data-picker-picked] li")
        expect(picked).to_have_count(1)
        expect(picked.first).to_contain_text("Causal masks hide future tokens")
        page.fill("#id_s1-search", "")
        page.select_option("#id_s1-search-type", "single_choice")
        expect(results).to_have_count(len(POOL_SLUGS))
        page.get_by_role("button", name=f"Add Question {POOL_SLUGS[0]}").click()
        expect(picked).to_have_count(2)
        picked.filter(has_text=f"Question {POOL_SLUGS[0]}").get_by_role("button", name="Remove").click()
        expect(picked).to_have_count(1)
        expect(results.filter(has_text=f"Question {POOL_SLUGS[0]}").get_by_role("button")).to_have_text("Add")

        # Masks first: everything typed moves with it, renamed for its new place.
        page.get_by_role("button", name="Move up section 2").click()
        assert page.input_value("#id_s0-title") == "Masks" and page.input_value("#id_s1-title") == "Arithmetic"
        assert page.input_value("#id_s1-kind") == "mha_params" and page.input_value("#id_s1-points") == "2"
        assert focused(page) == "Move down section 1"  # Move up is gone at the top
        expect(page.locator("#section-0 [data-picker-picked] li")).to_have_text(re.compile("Causal masks"))
        assert page.evaluate(OVERFLOW) <= 0
        assert violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"quiz-builder-{width}-built.png"), full_page=True)

        page.press("#id_s1-title", "Enter")  # saves, as in any form: no builder button is the default
        page.wait_for_url(re.compile(r"/quizzes/\d+/$"))
        quiz = Quiz.objects.get(title="Week 4")
        masks_section, arithmetic = quiz.sections.order_by("position")
        assert masks_section.title == "Masks" and [q.slug for q in masks_section.questions.all()] == [MASKS]
        assert (arithmetic.title, arithmetic.kind, arithmetic.points) == ("Arithmetic", "mha_params", 2.0)
    finally:
        context.close()
