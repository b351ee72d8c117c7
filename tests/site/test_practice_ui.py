"""The numeric answer grid, the parse preview, per-cell marking and the worked solution."""

import json
import re

import numpy as np
import pytest
from django.http import QueryDict

from attention_engine.api import list_kinds
from attention_engine.variant import as_array
from questions.catalogue import services as catalogue_services
from questions.practice import jobs as practice_jobs
from questions.practice import services as practice_services
from quizsite.disclosure import item_view, submission_view
from quizsite.presenters import answer_from_post, answer_grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


def item_url(item) -> str:
    return f"/practice/items/{item.id}/"


def key_strings(variant: dict) -> set[str]:
    """The key's numbers as a page could print them (integers also appear in prompts: left out)."""
    found = set()
    for value in variant["answer"].values():
        for x in np.ravel(as_array(value)):
            x = float(x)
            if abs(x - round(x)) > 1e-6 and abs(x) >= 0.01:
                found |= {repr(x), f"{x:.4f}", f"{x:.3f}"}
    return found


def cells_form(variant: dict, answer: dict) -> dict[str, str]:
    """A grid form filled cell by cell (``part-<name>-<row>-<col>``) with ``answer``'s numbers."""
    form = {}
    for part in variant["parts"]:
        value = answer[part["name"]]
        for i, row in enumerate(value):
            for j, x in enumerate(row):
                form[f"part-{part['name']}-{i}-{j}"] = str(x)
    return form


def softmax_rows(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def step_value(variant: dict, name: str) -> np.ndarray:
    for step in variant["steps"]:
        if name in step["values"]:
            return as_array(step["values"][name])
    raise KeyError(name)


def grade(client, item, form, capture) -> str:
    with capture(execute=True):
        response = client.post(item_url(item), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"]).content.decode()


# --- the grid ---------------------------------------------------------------------------------


def test_grid_has_one_labelled_input_per_cell_and_no_key(logged_in, numeric_item):
    variant = numeric_item.variant.data
    page = logged_in.get(item_url(numeric_item)).content.decode()
    for part in variant["parts"]:
        rows, cols = part["shape"]
        for i in range(rows):
            for j in range(cols):
                field = f"part-{part['name']}-{i}-{j}"
                tag = re.search(rf'<input id="{field}"[^>]*>', page).group(0)
                assert f'name="{field}"' in tag and 'inputmode="text"' in tag
                assert f'aria-label="{part["label"]}, row {i + 1}, column {j + 1}"' in tag
                assert f'aria-describedby="{field}-msg"' in tag
        assert page.count(f'name="part-{part["name"]}-') == rows * cols
    assert "grid.js" in page and f'data-preview-url="/practice/items/{numeric_item.id}/preview"' in page
    for number in key_strings(variant):
        assert number not in page, f"key number {number} in the page before grading"


def test_answer_from_post_reads_cells_vectors_scalars_and_the_text_fallback():
    view = {
        "type": "numeric",
        "parts": [
            {"name": "m", "label": "M", "shape": [2, 2]},
            {"name": "v", "label": "V", "shape": [3]},
            {"name": "s", "label": "S", "shape": []},
            {"name": "blank", "label": "B", "shape": [1, 2]},
            {"name": "typed", "label": "T", "shape": [2, 2]},
        ],
    }
    post = QueryDict(mutable=True)
    post.update({"part-m-0-0": "1/sqrt(2)", "part-m-0-1": " 0.5 ", "part-m-1-0": "", "part-m-1-1": "exp(2)/(1+exp(2))"})
    post.update({"part-v-0": "1", "part-v-1": "2", "part-v-2": "3", "part-v-9": "ignored", "part-s": "1.05M"})
    post.update({"part-blank-0-0": " ", "part-blank-0-1": "", "part-typed": "1 2; 3 4"})
    assert answer_from_post(view, post) == {
        "m": [["1/sqrt(2)", "0.5"], ["", "exp(2)/(1+exp(2))"]],
        "v": ["1", "2", "3"],
        "s": "1.05M",
        "blank": "",  # one "no answer given", not a message per cell
        "typed": "1 2; 3 4",
    }


def test_cells_with_fractions_and_expressions_are_graded_from_the_grid(logged_in, numeric_item, django_capture_on_commit_callbacks):
    from questions.practice.models import Submission

    variant = numeric_item.variant.data
    form = cells_form(variant, variant["answer"])
    first = variant["parts"][0]["name"]
    value = float(as_array(variant["answer"][first])[0][0])
    form[f"part-{first}-0-0"] = f"({value!r}*sqrt(2))/sqrt(2)"  # an expression the engine evaluates
    page = grade(logged_in, numeric_item, form, django_capture_on_commit_callbacks)
    submission = Submission.objects.get()
    assert submission.answer[first][0][0] == f"({value!r}*sqrt(2))/sqrt(2)"
    assert submission.score == 1.0
    assert 'data-score="1.0"' in page and "Correct." in page
    # The grid shows what the learner typed after the redirect.
    assert f'value="({value!r}*sqrt(2))/sqrt(2)"' in page


def test_a_bad_cell_is_marked_at_the_cell_and_costs_nothing(logged_in, numeric_item):
    from questions.practice.models import Submission

    variant = numeric_item.variant.data
    form = cells_form(variant, variant["answer"])
    name = variant["parts"][1]["name"]
    form[f"part-{name}-1-0"] = "0.5 banana"
    response = logged_in.post(item_url(numeric_item), form)
    assert response.status_code == 400
    page = response.content.decode()
    tag = re.search(rf'<input id="part-{name}-1-0"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and 'value="0.5 banana"' in tag
    message = re.search(rf'<span class="cell-msg" id="part-{name}-1-0-msg">([^<]*)</span>', page).group(1)
    assert message.strip() and "row 2" not in message  # the reason only: the cell's label says where
    assert re.search(r'aria-label="[^"]*, row 2, column 1"', tag)
    # Only that cell is marked.
    assert page.count('aria-invalid="true"') == 1
    assert not Submission.objects.exists()


def test_text_that_does_not_fit_the_grid_is_kept_with_its_error(numeric_item):
    view = item_view(numeric_item)
    part = view["parts"][0]
    grid = answer_grid(view, {part["name"]: "1 2 three"}, {part["name"]: [
        {"part": part["name"], "row": 0, "col": 2, "message": "row 1, column 3: unknown name"}]})
    entry = grid[0]
    assert entry["raw"] == "1 2 three" and "column 3" in entry["error"]
    assert all(cell["value"] == "" and cell["error"] is None for row in entry["rows"] for cell in row)
    fitting = answer_grid(view, {part["name"]: "1, 2\n3, 1/4"}, {})[0]
    assert [[c["value"] for c in row] for row in fitting["rows"]] == [["1", "2"], ["3", "1/4"]]


# --- the preview ------------------------------------------------------------------------------


def preview(client, item, answer, **extra):
    return client.post(f"/practice/items/{item.id}/preview", json.dumps({"answer": answer}),
                       content_type="application/json", **extra)


def test_preview_reads_cells_and_reports_bad_ones_without_storing(logged_in, numeric_item):
    from questions.practice.models import Submission

    variant = numeric_item.variant.data
    parts = variant["parts"]
    answer = {
        parts[0]["name"]: [["1/sqrt(2)", "exp(2)/(1+exp(2))"], ["1/4", ""]],
        parts[1]["name"]: [["1", "two"], ["3", "4"]],
    }
    response = preview(logged_in, numeric_item, answer)
    assert response.status_code == 200
    body = response.json()
    first = body["parts"][parts[0]["name"]]
    assert first["cells"][0][0]["value"] == pytest.approx(2 ** -0.5)
    assert first["cells"][0][1]["value"] == pytest.approx(np.exp(2) / (1 + np.exp(2)))
    assert first["cells"][0][0]["display"] == "0.7071"
    assert first["cells"][1][1] == {"value": None, "display": None, "error": None}  # empty: nothing yet
    second = body["parts"][parts[1]["name"]]
    assert second["values"] is None
    assert [(e["row"], e["col"]) for e in second["errors"]] == [(0, 1)]
    assert "unknown name 'two'" in second["cells"][0][1]["error"]
    assert body["parts"][parts[2]["name"]]["errors"][0]["message"].endswith("no answer given")
    assert body["ok"] is False
    complete = {p["name"]: [["1", "2"], ["3", "4"]] for p in parts}
    done = preview(logged_in, numeric_item, complete).json()
    assert done["ok"] is True and done["parts"][parts[0]["name"]]["values"] == [[1.0, 2.0], [3.0, 4.0]]
    assert not Submission.objects.exists()
    for number in key_strings(variant):  # (the first answer typed 1/sqrt(2), which a key may hold)
        assert number not in json.dumps(done)


def test_preview_is_for_the_owner_only(client, numeric_item, other_learner):
    client.force_login(other_learner)
    assert preview(client, numeric_item, {"scores": "1 2; 3 4"}).status_code == 404


def test_preview_needs_login_and_csrf(client, learner, numeric_item):
    from django.test import Client

    assert preview(client, numeric_item, {}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert preview(strict, numeric_item, {}).status_code == 403


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"answer": "1 2"}', b"{}", b"\xff\xfe"])
def test_preview_refuses_a_bad_body_with_a_400(logged_in, numeric_item, body):
    response = logged_in.post(f"/practice/items/{numeric_item.id}/preview", body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_preview_of_a_theory_item_is_a_400(logged_in, learner):
    from pathlib import Path

    from questions.catalogue.models import QuestionVersion
    from questions.practice.models import PracticeItem

    catalogue_services.bank_load(path=Path("questions/bank"))
    version = QuestionVersion.objects.filter(status="published").first()
    item = PracticeItem.objects.create(learner=learner, question_version=version)
    assert preview(logged_in, item, {}).status_code == 400


# --- after grading ----------------------------------------------------------------------------


def test_worked_solution_only_once_graded(logged_in, numeric_item):

    variant = numeric_item.variant.data
    answer = {p["name"]: "1/2 1/4; 3 4" for p in variant["parts"]}  # not the key: the page shows what was typed
    created = practice_services.submission_create(learner=numeric_item.learner, item=numeric_item, answer=answer)
    pending = created.submission
    pending.refresh_from_db()
    view = submission_view(pending)
    assert "worked_solution" not in view and "attention_maps" not in view and "answer_cells" not in view
    page = logged_in.get(f"{item_url(numeric_item)}?submission={pending.id}").content.decode()
    assert "Worked solution" not in page
    for number in key_strings(variant):
        assert number not in page
    assert logged_in.get(f"/practice/submissions/{pending.id}/result").status_code == 202

    practice_jobs.submission_grade(submission_id=pending.id)
    pending.refresh_from_db()
    view = submission_view(pending)
    assert [s["title"] for s in view["worked_solution"]] == [s["title"] for s in variant["steps"]]
    scale = next(s for s in view["worked_solution"] if "S" in {v["name"] for v in s["values"]})
    s_value = next(v for v in scale["values"] if v["name"] == "S")
    assert s_value["rows"][0][0] == f"{as_array(variant['answer']['scores'])[0][0]:.4f}".rstrip("0").rstrip(".")
    assert "worked_solution" not in submission_view(pending, with_solution=False)
    fragment = logged_in.get(f"/practice/submissions/{pending.id}/result").content.decode()
    assert "Worked solution" in fragment
    for step in variant["steps"]:
        assert step["title"] in fragment


def test_cells_are_marked_right_and_wrong(logged_in, numeric_item, django_capture_on_commit_callbacks):
    from questions.practice.models import Submission

    variant = numeric_item.variant.data
    answer = {name: as_array(value).tolist() for name, value in variant["answer"].items()}
    answer["output"][1][0] += 5.0  # one wrong cell in the last step
    page = grade(logged_in, numeric_item, cells_form(variant, answer), django_capture_on_commit_callbacks)
    view = submission_view(Submission.objects.get())
    marks = {a["name"]: [[c["ok"] for c in row] for row in a["rows"]] for a in view["answer_cells"]}
    assert marks["output"] == [[True, True], [False, True]]
    assert marks["scores"] == [[True, True], [True, True]]
    assert page.count('<td class="bad">') == 1
    assert "Partly correct" in page


def test_error_carried_forward_is_said(logged_in, numeric_item, django_capture_on_commit_callbacks):
    variant = numeric_item.variant.data
    scores = as_array(variant["answer"]["scores"]).copy()
    scores[0][1] += 1.0  # a slip in the first step ...
    weights = softmax_rows(scores)  # ... carried correctly through the next two
    output = weights @ step_value(variant, "V")
    answer = {"scores": scores.tolist(), "weights": weights.tolist(), "output": output.tolist()}
    page = grade(logged_in, numeric_item, cells_form(variant, answer), django_capture_on_commit_callbacks)
    # The weights always follow from the slipped scores; the output may match the key outright.
    assert "Error carried forward:</strong> Attention weights A" in page
    assert "graded against your own earlier answers, so one slip is not punished twice" in page
    assert "graded against your own Scaled scores S" in page  # each part's own note says which answer


def test_no_scaling_is_named_and_the_weights_are_drawn(logged_in, numeric_item, django_capture_on_commit_callbacks):
    variant = numeric_item.variant.data
    raw = step_value(variant, "QK^T")  # the scores without dividing by sqrt(d_k)
    weights = softmax_rows(raw)
    answer = {"scores": raw.tolist(), "weights": weights.tolist(), "output": (weights @ step_value(variant, "V")).tolist()}
    page = grade(logged_in, numeric_item, cells_form(variant, answer), django_capture_on_commit_callbacks)
    assert "Mistake spotted:" in page and "without dividing by" in page
    assert page.count('role="img"') == 2  # the learner's weights and the correct ones
    assert "Your attention weights" in page and "Correct attention weights" in page
    assert '<th scope="col">key 1</th>' in page and '<th scope="row">query 2</th>' in page
    assert f"{weights[0][0]:.3f}" in page  # the learner's own weight, in the SVG and the table


@pytest.mark.parametrize("kind", [k["name"] for k in list_kinds() if k["answer_type"] == "numeric"])
def test_every_kind_is_answered_through_its_grid_and_shows_its_solution(logged_in, learner, kind, django_capture_on_commit_callbacks):
    from questions.practice.models import Submission

    item = practice_services.practice_item_create_numeric(learner=learner, kind=kind, difficulty="easy")
    variant = item.variant.data
    page = logged_in.get(item_url(item)).content.decode()
    form = {}
    for part in variant["parts"]:
        key = variant["answer"][part["name"]]
        if not part["shape"]:
            form[f"part-{part['name']}"] = str(key)
        elif len(part["shape"]) == 1:
            form.update({f"part-{part['name']}-{j}": str(x) for j, x in enumerate(key)})
        else:
            form.update({f"part-{part['name']}-{i}-{j}": str(x) for i, row in enumerate(key) for j, x in enumerate(row)})
    for field in form:
        assert f'name="{field}"' in page
    assert page.count('class="cell-input"') == len(form)
    page = grade(logged_in, item, form, django_capture_on_commit_callbacks)
    assert Submission.objects.get().score == 1.0
    assert "Worked solution" in page and page.count("<h4>") == len(variant["steps"])
    weighted = ("self_attention", "qkv_pipeline", "causal_mask", "padding_mask", "cross_attention", "by_hand")
    assert ('role="img"' in page) == (kind in weighted)  # the kinds whose answer has attention weights


def test_worked_solution_prints_values_in_the_order_the_text_names_them():
    from quizsite.disclosure import worked_solution

    # jsonb hands keys back sorted its own way: "K" before "Q".
    step = {"title": "Project", "text": "$Q = XW_Q$, $K = XW_K$, $V = XW_V$.",
            "values": {"K": [[1, 2]], "Q": [[0.5, "3/7"]], "V": [["-inf", 1e-05]], "extra": 7}}
    (shown,) = worked_solution({"steps": [step]})
    assert [v["name"] for v in shown["values"]] == ["Q", "K", "V", "extra"]
    assert shown["values"][1]["rows"] == [["1", "2"]]
    assert shown["values"][0]["rows"] == [["0.5", "3/7"]]
    assert shown["values"][2]["rows"] == [["\u2212\u221e", "0.00001"]]
    assert shown["values"][3] == {"name": "extra", "shape": "scalar", "rows": [["7"]]}


@pytest.mark.parametrize(
    "name, caption",
    [("bytes_per_token_per_layer", "Bytes per token per layer"), ("inner_width", "Inner width"),
     ("W_Q", "W_Q"), ("QK^T", "QK^T"), ("d_head", "d_head"), ("x_hat", "x_hat"), ("omega", "omega")],
)
def test_worded_value_names_become_captions_and_symbols_stay(name, caption):
    from quizsite.disclosure import value_caption

    assert value_caption(name) == caption


@pytest.mark.parametrize(
    "value, printed",
    [(0.0003, "0.0003"), (-0.00031234, "-0.0003123"), (0.5, "0.5"), (0.123456, "0.1235"), (2.0, "2"),
     (4096, "4,096"), (3e-7, "3.000e-07"), (123456789.5, "1.235e+08")],
)
def test_numbers_are_printed_as_a_person_writes_them(value, printed):
    from questions.formatting import format_number

    assert format_number(value) == printed


def test_each_part_shows_its_weight_in_the_score(logged_in, numeric_item, django_capture_on_commit_callbacks):
    """Parts weigh what the engine says (the output more than a step), and the result says so."""
    variant = numeric_item.variant.data
    page = grade(logged_in, numeric_item, cells_form(variant, variant["answer"]), django_capture_on_commit_callbacks)
    weights = {p["name"]: float(p["weight"]) for p in variant["parts"]}
    assert len(set(weights.values())) > 1  # an attention kind: its output weighs more than its scores
    total = sum(weights.values())
    shown = re.findall(r'data-part-weight="([\d.]+)">\(counts for (\d+)% of the score\)', page)
    assert [float(w) for w, _ in shown] == list(weights.values())
    assert [int(s) for _, s in shown] == [round(100 * w / total) for w in weights.values()]


def test_a_part_left_blank_is_graded_as_blank_not_refused(logged_in, learner, django_capture_on_commit_callbacks):
    """Issue #13: one blank part made the whole answer "could not be read"; now the parts given
    earn their credit and the result says which part was left blank."""
    from questions.practice.models import Submission

    item = practice_services.practice_item_create_numeric(learner=learner, kind="self_attention", difficulty="easy")
    key = item.variant.data["answer"]
    form = {f"part-{name}-{i}-{j}": f"{x:.6f}" for name in ("scores", "weights")
            for i, row in enumerate(key[name]) for j, x in enumerate(row)}
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(item_url(item), form)
    assert response.status_code == 302
    submission = Submission.objects.get(item=item)
    assert submission.status == "graded" and 0 < submission.score < 1
    assert submission.result["parts"]["output"]["message"] == "Left blank"
    page = logged_in.get(response["Location"]).content.decode()
    assert "Left blank" in page and "could not be read" not in page
