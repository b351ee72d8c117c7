"""What of a question, an answer and its key may leave the server, and when: the one module that decides.

Before answering, a learner gets the question without its key (`item_view`: the engine's public
view of a variant, a theory question without weights, feedback or key, its options shuffled).
After grading, `submission_view` adds the result and, where the page allows it, the worked
solution and the key heatmap; a quiz answer goes through `quiz_result_view`, which holds marks,
feedback and keys back until `questions.courses.rules.feedback_visible` says they are due;
`key_view` and `theory_key_lines` show a key (the domain's `catalogue.theory.theory_key`) only
where a caller has that visibility. Pages and the API both present through here; no other
module of `quizsite` reads a key (tests/architecture checks it).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from attention_engine import api as engine
from attention_engine.code import get_code_kind
from attention_engine.grading import read_response
from attention_engine.variant import Variant as EngineVariant
from attention_engine.variant import as_array
from questions.catalogue.theory import theory_key
from questions.formatting import format_number
from questions.keyed import choice_ids, keyed_seed
from questions.practice import selectors as practice_selectors
from questions.practice.models import PracticeItem, Submission
from questions.practice.rules import PRACTICE_THEORY_TRIES, kind_titles
from quizsite.rendering import verbatim

from .presenters import value_table

# Kinds whose answer includes attention weights (the part named "weights"), with what the
# weights' rows and columns are: by_hand normalises K^T Q by columns, so its rows are keys.
ATTENTION_MAPS: dict[str, tuple[str, str]] = {
    "self_attention": ("query", "key"),
    "qkv_pipeline": ("query", "key"),
    "causal_mask": ("query", "key"),
    "padding_mask": ("query", "key"),
    "cross_attention": ("decoder query", "encoder key"),
    "by_hand": ("key", "query"),
}


def numeric_item_view(item: PracticeItem) -> dict[str, Any]:
    """The public part of a numeric item: prompt, params and the parts to answer, never the key."""
    public = engine.public(item.variant.data)
    return {
        "id": item.id,
        "type": "numeric",
        "kind": public["kind"],
        "kind_title": kind_titles().get(public["kind"], public["kind"]),
        "difficulty": public["difficulty"],
        "prompt": public["prompt"],
        "params": public["params"],
        "parts": public["parts"],
    }


def _code_example(test: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """A visible example test: its inputs (in the signature's `order`: stored JSON may not keep
    it) and expected results as the engine stores them (each array ``{"array", "shape",
    "dtype"}``), and their shapes, for the page's one-line summary."""
    def shape(value: Any) -> str:
        if isinstance(value, dict) and "shape" in value:
            dtype = "bool" if "bool" in value else test["dtype"] if value.get("dtype") == "float64" else value["dtype"]
            return f"{dtype} {tuple(value['shape'])}"
        return repr(value)

    inputs = {name: test["inputs"][name] for name in order if name in test["inputs"]}
    return {**test, "inputs": inputs, "input_shapes": [{"name": k, "shape": shape(v)} for k, v in inputs.items()],
            "expected_shapes": [shape(v) for v in test.get("expected", [])]}


def code_item_view(item: PracticeItem) -> dict[str, Any]:
    """The public part of a code exercise: the task, the signature, starter code and the visible
    examples (with their expected results); the hidden tests by name only, never the solution."""
    public = engine.public(item.variant.data)
    order = get_code_kind(public["kind"]).parameters()
    return {
        "id": item.id,
        "type": "code",
        "kind": public["kind"],
        "kind_title": kind_titles().get(public["kind"], public["kind"]),
        "difficulty": public["difficulty"],
        "prompt": public["prompt"],
        "framework": public["framework"],
        "entry_point": public["entry_point"],
        "signature": public["signature"],
        "starter_code": public["starter_code"],
        "returns": public["returns"],
        "examples": [_code_example(t, order) for t in public["examples"]],
        "hidden_tests": public["hidden_tests"],
    }


def tests_passed(tests: list[dict[str, Any]]) -> int:
    return sum(bool(t.get("passed")) for t in tests)


def code_run_view(run: dict[str, Any]) -> dict[str, Any]:
    """The examples run on a learner's code ("Run examples"), as pages and the API show it."""
    return {**run, "tests_passed": tests_passed(run.get("tests", []))}


def item_view(item: PracticeItem) -> dict[str, Any]:
    """Any kind of item, as its learner sees it before answering."""
    if item.is_code:
        return code_item_view(item)
    if item.is_numeric:
        return numeric_item_view(item)
    version = item.question_version
    view = theory_question_view(version.data, item_id=item.id)
    topic = version.question.topic
    view.update({"id": item.id, "type": "theory", "topic": topic.slug, "topic_title": topic.title})
    return view


WEIGHTS_PART = "weights"


def _mention_order(text: str, names: list[str]) -> list[str]:
    """``names`` in the order the step's text first mentions them (unmentioned ones last).

    PostgreSQL's jsonb does not keep a stored object's key order, so "Q, K, V" may come back
    as "K, Q, V"; the text ("$Q = XW_Q$, $K = XW_K$, ...") still has the author's order.
    """
    def first(name: str) -> int:
        found = re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", text)
        return found.start() if found else len(text)

    return sorted(names, key=first)


_WORDS = re.compile(r"[a-z]{2,}(?:_[a-z]{2,})+")


def value_caption(name: str) -> str:
    """A step value's name as a caption: ``bytes_per_token_per_layer`` -> "Bytes per token per
    layer"; symbols (``W_Q``, ``QK^T``, ``d_head``) stay as they are."""
    return name.replace("_", " ").capitalize() if _WORDS.fullmatch(name) else name


def worked_solution(variant: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of the variant's solution with its intermediate values, printed."""
    steps = []
    for step in variant.get("steps", []):
        values = step.get("values", {})
        steps.append(
            {
                "title": step["title"],
                "text": step["text"],
                "values": [
                    {"name": value_caption(name), **value_table(values[name])}
                    for name in _mention_order(step["text"], list(values))
                ],
            }
        )
    return steps


def _mask(variant: dict[str, Any]) -> list[list[bool]] | None:
    """Where a mask forced the weight to 0 (the masked kinds show the mask as a step value)."""
    for step in variant.get("steps", []):
        for name, value in step.get("values", {}).items():
            if name.startswith("mask"):
                return [[not bool(v) for v in row] for row in value]
    return None


def attention_maps(variant: dict[str, Any], learner: dict[str, Any]) -> list[dict[str, Any]]:
    """The weights to draw as heatmaps: the learner's (when given) beside the correct ones."""
    axes = ATTENTION_MAPS.get(variant["kind"])
    if axes is None or WEIGHTS_PART not in variant["answer"]:
        return []
    key = as_array(variant["answer"][WEIGHTS_PART]).tolist()
    row_axis, col_axis = axes
    rows = [f"{row_axis} {i + 1}" for i in range(len(key))]
    cols = [f"{col_axis} {j + 1}" for j in range(len(key[0]))]
    common = {"row_labels": rows, "col_labels": cols, "masked": _mask(variant),
              "row_axis": row_axis, "col_axis": col_axis}
    mask = common["masked"]

    def drawn(map_id: str, title: str, matrix: list[list[float]]) -> dict[str, Any]:
        table = [
            {"label": rows[i], "cells": [{"value": f"{v:.3f}", "masked": bool(mask and mask[i][j])} for j, v in enumerate(row)]}
            for i, row in enumerate(matrix)
        ]
        return {"id": map_id, "title": title, "matrix": matrix, "table": table, **common}

    maps = []
    mine = learner.get(WEIGHTS_PART)
    if mine is not None and len(mine) == len(key) and all(len(r) == len(cols) for r in mine):
        maps.append(drawn("mine", "Your attention weights", mine))
    maps.append(drawn("key", "Correct attention weights", key))
    return maps


def answer_cells(variant: dict[str, Any], learner: dict[str, Any], parts: dict[str, Any]) -> list[dict[str, Any]]:
    """The learner's own numbers, part by part, each cell marked right or wrong by the grade."""
    shown = []
    total_weight = sum(float(p.get("weight", 1.0)) for p in variant["parts"]) or 1.0
    for part in variant["parts"]:
        name = part["name"]
        result = parts.get(name)
        value = learner.get(name)
        if result is None:
            continue
        if value is None:  # left blank: graded as blank, and said so
            rows, marks = [], []
        elif isinstance(value, list) and value and isinstance(value[0], list):
            rows, marks = value, result.get("cells") or []
        elif isinstance(value, list):
            rows, marks = [value], [result.get("cells") or []]
        else:
            rows, marks = [[value]], [[result.get("correct", False)]]
        shown.append(
            {
                "name": name,
                "label": part["label"],
                "score": result.get("score"),
                # The engine's weight of this part: the final output counts more than a step.
                "weight": float(part.get("weight", 1.0)),
                "share": round(100 * float(part.get("weight", 1.0)) / total_weight),
                "message": result.get("message", ""),
                "rows": [
                    [{"value": format_number(v), "ok": bool(marks[i][j]) if i < len(marks) and j < len(marks[i]) else False}
                     for j, v in enumerate(row)]
                    for i, row in enumerate(rows)
                ],
            }
        )
    return shown


def _learner_values(variant: dict[str, Any], answer: Any) -> dict[str, Any]:
    values, _ = read_response(EngineVariant.from_dict(variant), answer if isinstance(answer, Mapping) else {})
    return {name: value.tolist() for name, value in values.items()}


def submission_view(submission: Submission, *, with_solution: bool = True) -> dict[str, Any]:
    """A submission as its learner sees it: the result only once it is graded.

    A graded numeric submission also carries the learner's numbers marked cell by cell, which
    parts were graded with error carried forward and, with ``with_solution`` (pages whose rules
    may show a score but not yet the key pass False), the worked solution and the attention
    weights to draw. Nothing of the key is in the view before grading.
    """
    view: dict[str, Any] = {
        "id": submission.id,
        "item": submission.item_id,
        "status": submission.status,
        "score": submission.score,
        # Sent from the learner's draft when the quiz or mock interview ended (`jobs.drafts_submit`).
        "from_draft": submission.from_draft,
        "created_at": submission.created_at.isoformat(),
        "graded_at": submission.graded_at.isoformat() if submission.graded_at else None,
    }
    result = submission.result or {}
    if submission.status != Submission.Status.PENDING:
        parts = result.get("parts", {})
        item = submission.item
        if item.is_code:
            view["tests"] = [{k: t.get(k) for k in ("name", "description", "passed", "message", "hidden")}
                             for t in result.get("tests", [])]
            view["tests_passed"] = tests_passed(view["tests"])
            view["error"] = result.get("error")
            view["code"] = submission.answer.get("code", "") if isinstance(submission.answer, Mapping) else ""
            if with_solution and submission.status == Submission.Status.GRADED:
                view["solution_code"] = item.variant.data["answer"]["code"]
        elif item.is_numeric:
            # In the order the problem asks them (stored JSON may not keep key order).
            order = [p["name"] for p in item.variant.data["parts"]]
            parts = {name: parts[name] for name in order if name in parts}
            if submission.status == Submission.Status.GRADED:
                variant = item.variant.data
                learner = _learner_values(variant, submission.answer)
                view["answer_cells"] = answer_cells(variant, learner, parts)
                view["carried_forward"] = [
                    {"label": p["label"], "message": parts[p["name"]]["message"]}
                    for p in variant["parts"]
                    if (parts.get(p["name"]) or {}).get("carried_forward")
                ]
                if with_solution:
                    view["worked_solution"] = worked_solution(variant)
                    view["attention_maps"] = attention_maps(variant, learner)
        else:
            # The theory grader's feedback already ends with the explanation; add its source.
            view["source"] = item.question_version.data["source"]
        view.update(
            {
                "parts": parts,
                "feedback": result.get("feedback", ""),
                "misconception": result.get("misconception"),
                "misconception_message": result.get("misconception_message"),
                "format_errors": result.get("format_errors", [])
                + ([{"part": "response", "message": result["format_error"]}] if result.get("format_error") else []),
            }
        )
    return view


def theory_question_view(data: dict[str, Any], *, item_id: int | None = None) -> dict[str, Any]:
    """A theory question as a learner sees it before answering: no weights, feedback or key, and
    neither its slug (it may spell the answer) nor its version.

    The item's options come in an order of their own (choices, matching answers, ordering
    items), drawn from a keyed seed (`questions.keyed`) nobody can replay, and each choice is
    named by an id of this item (`questions.keyed.choice_ids`), never by its position. Without
    an item (an author's preview) the order is the author's.
    """
    rng = random.Random(keyed_seed("theory-options", item_id) if item_id is not None else 0)
    view: dict[str, Any] = {
        "type": data["type"],
        "question_type": data["type"],
        "title": data["title"],
        "prompt": data["prompt"],
        "difficulty": data["difficulty"],
        "hint_count": len(data.get("hints") or []),
    }
    kind = data["type"]
    if kind in ("single_choice", "multiple_response"):
        ids = choice_ids("preview" if item_id is None else item_id, len(data["choices"]))
        choices = [{"id": cid, "text": c["text"]} for cid, c in zip(ids, data["choices"], strict=True)]
        if item_id is not None:
            random.Random(keyed_seed("theory-choices", item_id)).shuffle(choices)
        view["choices"] = choices
    elif kind == "matching":
        rights = [p["right"] for p in data["pairs"]] + list(data.get("distractors") or [])
        rng.shuffle(rights)
        view["lefts"] = [p["left"] for p in data["pairs"]]
        view["rights"] = rights
    elif kind == "ordering":
        items = list(data["items"])
        for _ in range(10):  # a shuffle that happens to give the right order is drawn again
            rng.shuffle(items)
            if items != data["items"]:
                break
        view["items"] = items
    elif kind == "numeric":
        view["unit"] = data.get("unit")
    return view


def quiz_result_view(submission: Submission, *, keys: bool) -> dict[str, Any]:
    """A graded quiz answer as its learner may see it now (pages and API alike).

    Feedback may be due before keys (immediate feedback): the worked solution, the attention
    maps, and the parts of a theory question's feedback that give the answer away (the key
    when it was missed, `reveals`, and the explanation the grader appends) wait for `keys`.
    """
    view = submission_view(submission, with_solution=keys)
    version = submission.item.question_version
    if keys or version is None:
        return view
    explanation = str(version.data.get("explanation") or "").strip()
    feedback = view.get("feedback", "")
    if explanation and feedback.endswith(explanation):
        feedback = feedback[: -len(explanation)].rstrip()
    reveals = (submission.result or {}).get("reveals") or ""
    if reveals and feedback.endswith(reveals):
        feedback = feedback[: -len(reveals)].rstrip()
    view["feedback"] = feedback
    return view


def practice_submission_view(submission: Submission) -> dict[str, Any]:
    """`practice_result_view` with the key due as the item's tries say (practice and review)."""
    return practice_result_view(submission, key_due=practice_selectors.key_due(submission.item))


def practice_result_view(submission: Submission, *, key_due: bool) -> dict[str, Any]:
    """A practice or review answer as its learner sees it (pages and API alike). A theory answer
    that missed, while the key is not due yet (`questions.practice.selectors.key_due`), says
    "try again": no right answer, no explanation, only the options chosen marked wrong; once due,
    the whole feedback, and the chosen options marked right or wrong."""
    if submission.status == Submission.Status.PENDING:
        return submission_view(submission)
    view = quiz_result_view(submission, keys=key_due)
    if submission.item.is_numeric or submission.status != Submission.Status.GRADED:
        return view
    view["choice_marks"] = choice_marks(submission, with_right=key_due)
    if not key_due and (submission.score or 0) < 1:
        view["try_again"] = True
        view["tries_allowed"] = PRACTICE_THEORY_TRIES
    return view


def choice_marks(submission: Submission, *, with_right: bool) -> dict[str, str]:
    """A choice question's options the answer chose, by their id on the item: "wrong" (weight 0
    or less) or, with `with_right`, "right"."""
    item = submission.item
    data = item.question_version.data
    if data.get("type") not in ("single_choice", "multiple_response"):
        return {}
    ids = choice_ids(item.id, len(data["choices"]))
    response = (submission.answer or {}).get("response") if isinstance(submission.answer, Mapping) else None
    chosen = response if isinstance(response, list) else [response]
    marks = {}
    for cid, choice in zip(ids, data["choices"], strict=True):
        if cid in chosen:
            if float(choice.get("weight", 0)) <= 0:
                marks[cid] = "wrong"
            elif with_right:
                marks[cid] = "right"
    return marks


def asked_key(item: PracticeItem) -> dict[str, Any]:
    """The key a learner asked for on a practice item ("Show the answer"; the caller checked the
    item is theirs and recorded the asking)."""
    return item_key(item)


def theory_key_lines(data: dict[str, Any]) -> list[str]:
    """The right answer of a theory question in its own words (Markdown), one line each; typed
    answers and patterns verbatim."""
    key = theory_key(data)
    kind = data["type"]
    if kind in ("single_choice", "multiple_response"):
        return [data["choices"][i]["text"] for i in key["correct_choices"]]
    if kind == "true_false":
        return ["True" if key["answer"] else "False"]
    if kind in ("numeric", "short_answer"):  # numbers and accepted patterns (`*` = any text), as typed
        unit = f" {data['unit']}" if data.get("unit") else ""
        return [verbatim(f"{a}{unit}") for a in key["answers"]]
    if kind == "matching":
        return [f"{left} → {right}" for left, right in key["pairs"].items()]
    if kind == "ordering":
        return [f"{n}. {text}" for n, text in enumerate(key["order"], start=1)]
    return []


def key_view(item, *, anchor: str, version=None) -> dict[str, Any]:
    """An item's key for a review page (`_key.html`): a numeric problem's worked solution, or a
    theory question's right answer, explanation and source (of `version`, else the item's)."""
    if item.is_code:
        return {"solution_code": item.variant.data["answer"]["code"], "solution_id": anchor}
    if item.is_numeric:
        return {"solution": {"id": anchor, "worked_solution": worked_solution(item.variant.data)}}
    data = (version or item.question_version).data
    return {"key_lines": theory_key_lines(data), "explanation": data.get("explanation", ""),
            "source": data.get("source", "")}


def item_key(item: PracticeItem) -> dict[str, Any]:
    """An item's key as the API gives it once keys are due: a variant's answer and worked steps,
    or a theory question's key with its explanation and source; a code exercise's model solution."""
    if item.is_code:
        return {"solution": item.variant.data["answer"]["code"]}
    if item.is_numeric:
        return {"answer": item.variant.data["answer"], "steps": item.variant.data["steps"]}
    data = item.question_version.data
    key = theory_key(data)
    if "correct_choices" in key:  # named as the learner's options are: by this item's ids
        ids = choice_ids(item.id, len(data["choices"]))
        key["correct_choices"] = [ids[i] for i in key["correct_choices"]]
    return key
