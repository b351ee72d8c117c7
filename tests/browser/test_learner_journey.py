"""Issue #5's acceptance test: one new learner's whole journey in one browser session.

Sign up through the form, practise three questions from the pages (a matrix typed cell by cell
with Tab, a wrong procedure pasted as blocks whose mistake the engine names, with its heatmap,
and a theory question from a topic run), then a short mock interview reached from the
navigation, finished and reviewed. A real Celery worker process grades every answer; the
screenshots of each stage are kept under test-artifacts/journey-*.png.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from attention_engine.kinds._attention import MISCONCEPTIONS
from attention_engine.variant import as_array
from questions.catalogue import services as catalogue_services
from questions.learning import rules as learning_rules
from questions.practice import jobs as practice_jobs
from quizsite.disclosure import item_view
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_grid import paste, softmax_rows, step_value
from tests.choices import by_id

pytestmark = [pytest.mark.browser, pytest.mark.services]

USERNAME = "grace"
PASSWORD = "an-unguessable-pass-42"
RUN_TOPIC = "softmax"  # a topic run: its first item is a theory question
MOCK_TOPIC = "positional-encodings"  # one problem kind (sinusoidal_positions) and theory


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def item_on_page(page):
    """The practice item the page shows, from its URL (/practice/items/<id>/)."""
    from questions.practice.models import PracticeItem

    item_id = int(re.search(r"/practice/items/(\d+)/", page.url).group(1))
    return PracticeItem.objects.select_related("variant", "question_version__question__topic").get(id=item_id)


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def type_with_keyboard(page, variant: dict) -> None:
    """Every part of the key typed cell by cell: Tab moves between cells, and from one part's
    last cell over its "as text" toggle to the next part's first cell."""
    parts = variant["parts"]
    first = parts[0]["name"]
    page.click(f"#part-{first}-0-0" if len(parts[0]["shape"]) == 2 else f"#part-{first}-0")
    for p, part in enumerate(parts):
        value = as_array(variant["answer"][part["name"]])
        assert value.ndim == 2, f"this journey types matrices; {part['name']} is {value.ndim}-D"
        for i, row in enumerate(value):
            for j, x in enumerate(row):
                assert focused_id(page) == f"part-{part['name']}-{i}-{j}"
                page.keyboard.type(f"{x:.6f}")
                if (i, j) != (value.shape[0] - 1, value.shape[1] - 1):
                    page.keyboard.press("Tab")
        if p < len(parts) - 1:
            page.keyboard.press("Tab")  # the "Or type the whole matrix as text" toggle
            assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
            page.keyboard.press("Tab")


def full_marks(item) -> tuple[str, object]:
    """How a learner gets full marks on this theory question: (question type, what to enter),
    read from the bank's key and laid out as the page shows the question."""

    data = item.question_version.data
    kind = data["type"]
    if kind == "single_choice":  # options are named by their ids on this item
        return kind, by_id(item, max(range(len(data["choices"])), key=lambda i: data["choices"][i]["weight"]))
    if kind == "multiple_response":
        return kind, by_id(item, [i for i, c in enumerate(data["choices"]) if c["weight"] > 0])
    if kind == "true_false":
        return kind, "true" if data["answer"] else "false"
    if kind in ("numeric", "short_answer"):
        best = max(data["answers"], key=lambda a: a["weight"])
        return kind, f"{best['value']:.12g}" if kind == "numeric" else best["text"].replace("*", "")
    if kind == "matching":
        return kind, [p["right"] for p in data["pairs"]]
    if kind == "ordering":
        shown = item_view(item)["items"]
        return kind, [str(data["items"].index(text) + 1) for text in shown]
    raise AssertionError(f"no automatic answer for a {kind} question")


def answer_theory(page, item) -> None:
    kind, answer = full_marks(item)
    if kind in ("single_choice", "true_false"):
        page.check(f'input[name="response"][value="{answer}"]')
    elif kind == "multiple_response":
        for choice in answer:
            page.check(f'input[name="response"][value="{choice}"]')
    elif kind in ("numeric", "short_answer"):
        page.fill('input[name="response"]', answer)
    elif kind == "matching":
        for i, right in enumerate(answer):
            page.select_option(f'select[name="match-{i}"]', value=right)
    else:  # ordering
        for i, position in enumerate(answer):
            page.fill(f'input[name="order-{i}"]', position)


def wait_for_grade(page):
    """The score shown in place by the page's poller, without a reload or a navigation."""
    page.wait_for_url("**/?submission=*")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    score = page.wait_for_selector("#result [data-score]", timeout=60_000)
    assert navigations == [], "the result appeared without navigating"
    return score


def plain_text_of(markdown: str) -> list[str]:
    """The words of a catalogue message outside its $...$ mathematics, which renders as MathML."""
    return [" ".join(chunk.split()) for chunk in markdown.split("$")[::2] if chunk.strip(" .,")]


def test_a_new_learner_signs_up_practises_and_takes_a_mock_interview(numeric_kinds_only, page, live_server, worker_process):
    from questions.learning.models import MockInterview
    from questions.practice.models import Submission

    catalogue_services.bank_load(path=Path("questions/bank"))
    # Stock for the two self-attention problems and the mock's numeric question, so no page
    # waits for the worker to make one; the worker refills the stock as items are claimed.
    practice_jobs.variants_generate(kind="self_attention", difficulty="easy", count=2)
    practice_jobs.variants_generate(kind="sinusoidal_positions", difficulty=learning_rules.NUMERIC_DIFFICULTY, count=1)
    worker_process.start()
    base = live_server.url

    # 1. Sign up from the home page, through the form; land on the dashboard, logged in.
    page.goto(f"{base}/")
    shot(page, "01-home-visitor")
    page.get_by_role("link", name="Sign up", exact=True).click()
    page.wait_for_url(f"{base}/accounts/signup/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shot(page, "02-signup-form")
    page.click('main button[type="submit"]')
    page.wait_for_url(f"{base}/")
    assert page.inner_text("header .who") == USERNAME
    assert page.is_visible("#reviews-heading")
    assert page.is_visible(f'input[data-topic="{RUN_TOPIC}"]')
    shot(page, "03-dashboard-new-learner")

    # 2a. A self-attention problem from its Start button, every matrix typed with the keyboard.
    page.select_option('form:has(button[data-kind="self_attention"]) select[name="difficulty"]', "easy")
    page.click('button[data-kind="self_attention"]')
    page.wait_for_selector(".prompt math")
    typed_item = item_on_page(page)
    assert typed_item.variant.kind == "self_attention"
    type_with_keyboard(page, typed_item.variant.data)
    shot(page, "04-typed-with-tab")
    page.click("text=Submit answer")
    score = wait_for_grade(page)
    assert score.get_attribute("data-score") == "1.0"
    assert page.locator("#result .verdict").inner_text() == "Correct."
    shot(page, "05-typed-result-correct")

    # 2b. Another one like it; blocks pasted into the grids, computed without the 1/sqrt(d_k)
    # scaling (the variant's own raw scores), so the engine names that mistake.
    page.click('button[data-action="another-like-this"]')
    page.wait_for_selector(".prompt math")
    pasted_item = item_on_page(page)
    assert pasted_item.id != typed_item.id
    variant = pasted_item.variant.data
    raw = step_value(variant, "QK^T")
    weights = softmax_rows(raw)
    output = weights @ step_value(variant, "V")
    assert not np.allclose(raw, as_array(variant["answer"]["scores"]), atol=1e-2), "d_k = 1: no mistake"
    paste(page, "#part-scores-0-0", "\n".join("\t".join(f"{v:.6f}" for v in row) for row in raw))
    paste(page, "#part-weights-0-0", "\n".join(" ".join(f"{v:.6f}" for v in row) for row in weights))
    paste(page, "#part-output-0-0", json.dumps(np.round(output, 6).tolist()))
    last = f"{weights.shape[0] - 1}-{weights.shape[1] - 1}"
    assert page.input_value(f"#part-scores-{last}") == f"{raw[-1][-1]:.6f}"
    assert page.input_value(f"#part-weights-{last}") == f"{weights[-1][-1]:.6f}"
    assert float(page.input_value(f"#part-output-{last}")) == pytest.approx(output[-1][-1], abs=1e-6)
    assert "Filled" in page.inner_text("fieldset[data-part=output] .grid-status")
    shot(page, "06-pasted-blocks")
    page.click("text=Submit answer")
    score = wait_for_grade(page)
    assert float(score.get_attribute("data-score")) < 1
    result = page.locator("#result")
    mistake = " ".join(result.locator(".mistake").inner_text().split())
    for words in plain_text_of(MISCONCEPTIONS["no_scaling"]):
        assert words in mistake
    heatmaps = result.locator('svg[role="img"]')
    assert heatmaps.count() >= 1
    title_id = heatmaps.first.get_attribute("aria-labelledby").split()[0]
    assert heatmaps.first.locator(f'[id="{title_id}"]').text_content().strip()
    table = result.locator("details.heatmap-table").first
    table.locator("summary").click()
    assert table.locator("table.matrix").is_visible()
    assert table.locator("tbody tr").count() == weights.shape[0]
    shot(page, "07-named-mistake-and-heatmap")

    # 2c. A theory question from a run over a topic chosen on the dashboard.
    page.click("text=Back home")
    page.wait_for_url(f"{base}/")
    page.check(f'input[data-topic="{RUN_TOPIC}"]')
    page.click('button[data-action="start-run"]')
    page.wait_for_selector("form.answer .theory")
    theory_item = item_on_page(page)
    assert theory_item.question_version.question.topic.slug == RUN_TOPIC
    assert theory_item.question_version.question.topic.title in page.inner_text("h1")
    answer_theory(page, theory_item)
    shot(page, "08-theory-question")
    page.click("text=Submit answer")
    score = wait_for_grade(page)
    assert score.get_attribute("data-score") == "1.0"
    shot(page, "09-theory-result")

    # 3. The shortest mock interview, from the navigation; one answer, finished, reviewed.
    page.locator('nav[aria-label="Main"]').get_by_role("link", name="Mock interview").click()
    page.wait_for_url(f"{base}/mock/")
    shortest = min(learning_rules.PRESETS, key=lambda p: (p.minutes, p.questions))
    page.click("text=Clear all")
    page.check(f'input[name="topic"][value="{MOCK_TOPIC}"]')
    page.check(f'input[name="preset"][value="{shortest.key}"]')
    shot(page, "10-mock-start")
    page.click("text=Start the interview")
    page.wait_for_selector("#mock-timer")
    mock = MockInterview.objects.get()
    assert mock.question_count == shortest.questions
    entries = list(mock.entries.select_related("item__question_version").order_by("position"))
    answered = next(e for e in entries if not e.item.is_numeric)
    page.click(f'.mock-nav a[href="?q={answered.position}"]')
    page.wait_for_selector(f'.mock-nav a[href="?q={answered.position}"][aria-current="step"]')
    answer_theory(page, answered.item)
    page.click("text=Save answer")
    page.wait_for_selector(f"text=Answer to question {answered.position} saved.")
    assert page.locator("[data-score]").count() == 0, "no score during the interview"
    shot(page, "11-mock-answered")
    page.click("text=Finish now…")
    page.wait_for_selector(f"text=You have answered 1 of {mock.question_count} questions")
    page.click("text=Finish and see the review")
    page.wait_for_url(f"{base}/mock/{mock.id}/review")
    # The review fills in as the worker grades the answer.
    page.wait_for_selector(f'.mock-row[data-position="{answered.position}"][data-outcome="right"]', timeout=60_000)
    rows = page.locator(".mock-row")
    assert rows.count() == mock.question_count
    outcomes = [rows.nth(i).get_attribute("data-outcome") for i in range(rows.count())]
    assert sorted(outcomes) == sorted(["right"] + ["unanswered"] * (mock.question_count - 1))
    assert page.locator('.mock-review[data-pending="0"]').count() == 1, "every answer graded"
    assert page.locator("[data-mock-score]").inner_text() == f"{round(100 / mock.question_count)}%"
    shot(page, "12-mock-review")

    # Every answer was graded by the worker process, once.
    submissions = Submission.objects.filter(learner__username=USERNAME)
    assert submissions.count() == 4
    assert all(s.graded_at is not None for s in submissions)
    graded = re.findall(r"Task questions\.tasks\.grade_submission\[[^\]]+\] succeeded", worker_process.output())
    assert len(graded) == 4, worker_process.output()[-3000:]
