"""An instructor writes a single-choice question with three choices through the form, adds a
row in place, previews it (the learner's view and the key) and publishes it, at 1280 px (light)
and 375 px (dark); the form and the import form keep labels and inputs on one grid and pass axe."""

import pytest
from django.contrib.auth.models import Group

from questions.catalogue import services as catalogue_services
from questions.catalogue.models import QuestionVersion
from questions.courses import services as courses_services
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_accessibility import violations

pytestmark = [pytest.mark.browser]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
CHOICES = [("$\\sqrt{d_k}$", "100", "Right: it keeps the scores' variance at one."),
           ("$d_k$", "0", "Too much: the weights flatten towards uniform."),
           ("Nothing", "0", "Then large $d_k$ saturates the softmax.")]
# Where each label sits against its input: beside it on a wide screen, above it on a phone.
LAYOUT = """() => [...document.querySelectorAll('form.author-form .field > label.field-label')].map(label => {
  const input = document.getElementById(label.htmlFor); const l = label.getBoundingClientRect();
  const i = input.getBoundingClientRect(); return {name: label.htmlFor, beside: l.right <= i.left && Math.abs(l.top - i.top) < 12,
  above: l.bottom <= i.top + 1, left: i.left};
})"""


@pytest.fixture
def instructor(django_user_model):
    user = django_user_model.objects.create_user(username="ines", password="s3cret-pass-word")
    user.groups.add(Group.objects.get_or_create(name="instructors")[0])
    courses_services.course_create(title="Attention 101", instructor=user)
    catalogue_services.topic_upsert(slug="scaled-dot-product", title="Scaled dot-product attention")
    return user


def check_layout(page, width: int) -> None:
    fields = page.evaluate(LAYOUT)
    assert len(fields) >= 3
    if width >= 1000:
        assert all(f["beside"] for f in fields), fields
        assert len({round(f["left"]) for f in fields}) == 1, fields  # the inputs line up
    else:
        assert all(f["above"] for f in fields), fields
    assert page.evaluate(OVERFLOW) <= 0


@pytest.mark.parametrize("width, scheme", [(1280, "light"), (375, "dark")])
def test_write_preview_and_publish_a_single_choice_question(browser, live_server, instructor, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "ines")
        page.goto(f"{live_server.url}/author/questions/new")
        assert violations(page) == []
        page.get_by_label("Single choice").check()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/author/questions/new?type=single_choice")
        page.select_option("#id_topic", label="Scaled dot-product attention")
        page.fill("#id_title", "Why divide by the square root of d_k?")
        if width >= 1000:  # on the phone the slug is left blank: it is made from the title
            page.fill("#id_slug", "why-sqrt-dk")
        page.select_option("#id_difficulty", "easy")
        page.fill("#id_prompt", "Scaled dot-product attention divides $QK^\\top$ by what?")
        for i, (text, weight, feedback) in enumerate(CHOICES):
            page.fill(f"#id_choices-{i}-text", text)
            page.fill(f"#id_choices-{i}-weight", weight)
            page.fill(f"#id_choices-{i}-feedback", feedback)
        rows = page.locator("[data-rows=choices] [data-row]")
        before = rows.count()
        page.get_by_role("button", name="Add choice").click()  # in place: nothing typed is lost
        assert rows.count() == before + 1
        assert page.evaluate("document.activeElement.name") == f"choices-{before}-text"
        assert page.input_value("#id_choices-TOTAL_FORMS") == str(before + 1)
        assert page.input_value("#id_choices-0-text") == CHOICES[0][0]
        page.fill("#id_explanation", "Dot products of $d_k$ unit-variance terms have variance $d_k$.")
        page.fill("#id_source", "Vaswani et al. (2017), Attention Is All You Need, §3.2.1")
        check_layout(page, width)

        page.get_by_role("button", name="Preview").click()
        preview = page.locator("#preview")
        preview.wait_for()
        assert preview.evaluate("el => el === document.activeElement")  # the preview takes the focus
        assert preview.locator("input[type=radio][name=response]").count() == 3  # the learner's view
        key = preview.locator(".key")
        assert key.is_visible() and key.locator("math").count() == 1  # the right choice, as a formula
        assert "Too much: the weights flatten" in preview.inner_text()
        assert page.input_value("#id_choices-2-text") == "Nothing"  # the form is still filled in
        assert page.evaluate(OVERFLOW) <= 0
        assert violations(page) == []
        assert not QuestionVersion.objects.exists()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"authoring-preview-{width}.png"), full_page=True)

        page.get_by_role("button", name="Publish").click()
        slug = "why-sqrt-dk" if width >= 1000 else "why-divide-by-the-square-root-of-d-k"
        page.wait_for_url(f"**/author/questions/{slug}/?saved=1")
        assert page.get_by_role("status").inner_text() == "Saved as version 1."
        version = QuestionVersion.objects.get()
        assert version.status == "published" and version.question.topic.slug == "scaled-dot-product"
        assert [(c["text"], str(c["weight"]), c["feedback"]) for c in version.data["choices"]] == CHOICES
        assert page.input_value("#id_choices-1-feedback") == CHOICES[1][2]  # it opens in its form

        page.goto(f"{live_server.url}/author/import")
        check_layout(page, width)
        page.screenshot(path=str(ARTIFACTS / f"authoring-import-{width}.png"), full_page=True)
        assert violations(page) == []
    finally:
        context.close()
