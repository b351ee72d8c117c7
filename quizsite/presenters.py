
"""What learners may see of items and submissions. The single place that strips keys."""

import functools
import random
import re
from collections.abc import Mapping
from typing import Any

from attention_engine import api as engine
from attention_engine.grading import read_response
from attention_engine.parsing import ParseError, parse_number
from attention_engine.variant import Variant as EngineVariant
from attention_engine.variant import as_array
from questions.formatting import format_number
from questions.practice import rules as practice_rules
from questions.practice.models import PracticeItem, Submission
from quizsite.rendering import verbatim


@functools.cache
def kind_titles() -> dict[str, str]:
    """Each problem kind's name -> its title, as the engine lists them."""
    return practice_rules.kind_titles()


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


def item_view(item: PracticeItem) -> dict[str, Any]:
    """Either kind of item, as its learner sees it before answering."""
    if item.is_numeric:
        return numeric_item_view(item)
    version = item.question_version
    view = theory_question_view(version.data, shuffle_seed=item.id)
    topic = version.question.topic
    view.update({"id": item.id, "type": "theory", "topic": topic.slug, "topic_title": topic.title,
                 "version": version.number})
    return view


def theory_response_from_post(view: dict[str, Any], post) -> Any:
    """A theory form's fields as the response `grade_theory` reads (its checks name what is off).

    Nothing posted is dropped: a value that is not a choice number reaches the grader, which
    refuses it as a format error instead of grading what is left.
    """
    kind = view["question_type"]
    if kind == "single_choice":
        value = post.get("response", "")
        return int(value) if value.isdecimal() else value
    if kind == "multiple_response":
        return [int(v) if v.isdecimal() else v for v in post.getlist("response")]
    if kind == "true_false":
        return {"true": True, "false": False}.get(post.get("response", ""), post.get("response", ""))
    if kind == "matching":
        return {left: post.get(f"match-{i}") or None for i, left in enumerate(view["lefts"])}
    if kind == "ordering":
        positions = [post.get(f"order-{i}", "").strip() for i in range(len(view["items"]))]
        if sorted(positions) != sorted(str(n) for n in range(1, len(positions) + 1)):
            return positions  # not each of 1..n once: the grader reports it as a format error
        ranked = sorted(zip((int(p) for p in positions), view["items"], strict=True))
        return [text for _, text in ranked]
    return post.get("response", "")


def theory_form_values(view: dict[str, Any], answer: Any) -> dict[str, Any]:
    """A theory question's fields, filled with the learner's answer (refused or graded) read back.

    ``answer`` is ``{"response": ...}`` as `theory_response_from_post` made it, or as an API
    client sent it; whatever does not fit the question is left blank. Returns ``choices``
    (text, checked), ``matches`` (left, selected right), ``positions`` (item, typed position)
    and ``text`` (true/false, a typed answer).
    """
    response = answer.get("response") if isinstance(answer, Mapping) else None
    kind = view["question_type"]
    picked = [p for p in (response if isinstance(response, list) else [response])
              if isinstance(p, int) and not isinstance(p, bool)]
    chosen = response if isinstance(response, Mapping) else {}
    items = view.get("items") or []
    positions = [""] * len(items)
    if isinstance(response, list) and sorted(map(str, response)) == sorted(items):
        positions = [str(response.index(item) + 1) for item in items]  # the items in the learner's order
    elif isinstance(response, list) and len(response) == len(items):
        positions = [str(p) for p in response]  # positions as typed, refused
    if isinstance(response, bool):
        text = "true" if response else "false"
    else:
        text = response if isinstance(response, str) and kind != "ordering" else ""
    return {
        "choices": [
            {"text": c, "checked": i in picked} for i, c in enumerate(view.get("choices") or [])
        ],
        "matches": [{"left": left, "selected": chosen.get(left)} for left in view.get("lefts") or []],
        "positions": [{"item": item, "position": p} for item, p in zip(items, positions, strict=True)],
        "text": text,
    }


def cell_field(part_name: str, row: int, col: int, shape: list[int]) -> str:
    """The form field of one grid cell: ``part-<name>-<col>`` (vector), ``part-<name>-<row>-<col>``."""
    return f"part-{part_name}-{col}" if len(shape) == 1 else f"part-{part_name}-{row}-{col}"


def _grid_shape(shape: list[int]) -> tuple[int, int]:
    return (1, int(shape[0])) if len(shape) == 1 else (int(shape[0]), int(shape[1]))


def numeric_part_from_post(part: dict[str, Any], post) -> Any:
    """One numeric part of a posted form, as the engine's reader takes it.

    A scalar is the text of ``part-<name>``. A vector or matrix is read from its grid cells
    (a list, or a list of rows, of typed texts) when any cell was posted; a grid left entirely
    blank is ``""`` (one "no answer given" message, not one per cell). Without cell fields the
    whole part may come as text in ``part-<name>`` ("1 2; 3 4"), as forms and clients did before
    the grid.
    """
    name, shape = part["name"], list(part["shape"])
    if not shape:
        return post.get(f"part-{name}", "")
    rows, cols = _grid_shape(shape)
    fields = [[cell_field(name, i, j, shape) for j in range(cols)] for i in range(rows)]
    if not any(f in post for row in fields for f in row):
        return post.get(f"part-{name}", "")
    cells = [[post.get(f, "").strip() for f in row] for row in fields]
    if not any(c for row in cells for c in row):
        return ""
    return cells[0] if len(shape) == 1 else cells


def answer_from_post(view: dict[str, Any], post) -> dict[str, Any]:
    """A posted answer form as the services take it: part -> typed value, or {"response": ...}."""
    if view["type"] == "numeric":
        return {p["name"]: numeric_part_from_post(p, post) for p in view["parts"]}
    return {"response": theory_response_from_post(view, post)}


def errors_by_part(errors: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Format errors (the engine's ``{part, row, col, message}``) grouped by part, for the grid."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for error in errors:
        grouped.setdefault(error["part"], []).append(error)
    return grouped


def _typed_cells(typed: Any, rows: int, cols: int) -> tuple[list[list[str]] | None, str | None]:
    """What the learner typed, laid out on the grid; or ``(None, raw text)`` when it does not fit.

    Typed text (from a client that sent the whole part as text) is split the simple way: rows
    by newlines or ``;``, entries by tabs or commas if the row has any, else by whitespace.
    """
    if typed is None or typed == "":
        return None, None
    if isinstance(typed, str):
        text = typed.strip().strip("[]")
        lines = [r for r in re.split(r"[;\n]", text) if r.strip()]
        split = [
            [c.strip() for c in re.split(r"[,\t]", r)] if re.search(r"[,\t]", r) else r.split() for r in lines
        ]
        if rows == 1 and len(split) == cols and all(len(r) == 1 for r in split):
            split = [[r[0] for r in split]]  # a vector typed as a column
        if len(split) == rows and all(len(r) == cols for r in split):
            return split, None
        return None, typed
    if isinstance(typed, list | tuple):
        value = [list(typed)] if rows == 1 and not any(isinstance(v, list | tuple) for v in typed) else typed
        if len(value) == rows and all(isinstance(r, list | tuple) and len(r) == cols for r in value):
            return [["" if c is None else str(c) for c in r] for r in value], None
        return None, str(typed)
    return None, str(typed)


_CELL_PLACE = re.compile(r"^.*?\b(?:row \d+(?:, column \d+)?|column \d+): ")


def _at_cell(message: str) -> str:
    """An engine message shown under its own cell: "Scores S, row 2, column 1: unknown name"
    -> "unknown name" (the cell's label already says where it is)."""
    return _CELL_PLACE.sub("", message, count=1)


def answer_grid(view: dict[str, Any], typed: Mapping[str, Any] | None, errors: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The answer inputs of a numeric item: one input per cell, sized to each part's shape.

    ``typed`` is part -> what was typed (kept after a refused submission); ``errors`` is
    part -> one error or a list of errors (``errors_by_part``); errors with a row/column are
    shown at their cell, the others at the part.
    """
    typed = typed or {}
    errors = errors or {}
    grid = []
    for part in view["parts"]:
        name, label, shape = part["name"], part["label"], list(part["shape"])
        part_errors = errors.get(name) or []
        if isinstance(part_errors, Mapping):
            part_errors = [part_errors]
        entry: dict[str, Any] = {"name": name, "label": label, "shape": shape, "raw": None}
        cell_errors: dict[tuple[int, int], str] = {}
        messages = []
        for e in part_errors:
            row = e.get("row")
            col = e.get("col")
            if len(shape) == 1 and col is not None:
                cell_errors[(0, col)] = e["message"]
            elif len(shape) == 2 and row is not None and col is not None:
                cell_errors[(row, col)] = e["message"]
            else:
                messages.append(e["message"])
        entry["error"] = " ".join(messages) or None
        entry["invalid"] = bool(part_errors)
        if not shape:
            entry.update(kind="scalar", shape_text="a number", field=f"part-{name}")
            value = typed.get(name)
            entry["value"] = "" if value is None else str(value)
            grid.append(entry)
            continue
        rows, cols = _grid_shape(shape)
        cells, raw = _typed_cells(typed.get(name), rows, cols)
        entry["raw"] = raw
        if raw is not None or any(i >= rows or j >= cols for i, j in cell_errors):
            # The errors are about text that does not fit the grid: show them with the text.
            messages += list(cell_errors.values())
            cell_errors = {}
            entry["error"] = " ".join(messages) or None
        entry["kind"] = "vector" if len(shape) == 1 else "matrix"
        entry["shape_text"] = f"vector of {cols}" if len(shape) == 1 else f"{rows}\u00d7{cols} matrix"
        entry["cols"] = cols
        entry["rows"] = [
            [
                {
                    "field": cell_field(name, i, j, shape),
                    "label": f"{label}, entry {j + 1}" if len(shape) == 1 else f"{label}, row {i + 1}, column {j + 1}",
                    "value": cells[i][j] if cells else "",
                    "error": _at_cell(cell_errors[(i, j)]) if (i, j) in cell_errors else None,
                    "row": i,
                    "col": j,
                }
                for j in range(cols)
            ]
            for i in range(rows)
        ]
        grid.append(entry)
    return grid


def _table(value: Any) -> dict[str, Any]:
    """A step value as rows of printed cells: a scalar, a vector (one row) or a matrix."""
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return {"shape": "matrix", "rows": [[format_number(c) for c in r] for r in value]}
    if isinstance(value, list):
        return {"shape": "vector", "rows": [[format_number(c) for c in value]]}
    return {"shape": "scalar", "rows": [[format_number(value)]]}


def parse_preview(*, variant: dict[str, Any], answer: Any) -> dict[str, Any]:
    """What the engine reads from a typed answer, part by part, with every unreadable cell.

    Nothing is stored and nothing of the key is used: only the parts' names and shapes.
    """
    engine_variant = EngineVariant.from_dict(variant)
    answer = answer if isinstance(answer, Mapping) else {}
    values, errors = read_response(engine_variant, answer)
    parts = {}
    for part in engine_variant.parts:
        value = values.get(part.name)
        parts[part.name] = {
            "values": None if value is None else value.tolist(),
            "display": None if value is None else _table(value.tolist())["rows"],
            "errors": [e.to_dict() for e in errors if e.part == part.name],
            "cells": _cell_previews(answer.get(part.name)),
        }
    return {"ok": not errors, "parts": parts}


def _cell_preview(raw: Any) -> dict[str, Any]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {"value": None, "display": None, "error": None}
    try:
        value = parse_number(raw)
    except (ParseError, TypeError) as exc:
        return {"value": None, "display": None, "error": getattr(exc, "message", "not a number")}
    return {"value": value, "display": format_number(value), "error": None}


def _cell_previews(raw: Any) -> list[list[dict[str, Any]]] | None:
    """Each grid cell read on its own, so a half-filled grid already shows what its cells say."""
    if not isinstance(raw, list | tuple) or len(raw) > MAX_PREVIEW_CELLS:
        return None
    rows = raw if raw and all(isinstance(r, list | tuple) for r in raw) else [raw]
    if sum(len(r) for r in rows) > MAX_PREVIEW_CELLS:
        return None
    return [[_cell_preview(c) for c in row] for row in rows]


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
WEIGHTS_PART = "weights"
MAX_PREVIEW_CELLS = 1024


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
                    {"name": value_caption(name), **_table(values[name])}
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
    for part in variant["parts"]:
        name = part["name"]
        result = parts.get(name)
        value = learner.get(name)
        if result is None or value is None:
            continue
        if isinstance(value, list) and value and isinstance(value[0], list):
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
        "created_at": submission.created_at.isoformat(),
        "graded_at": submission.graded_at.isoformat() if submission.graded_at else None,
    }
    result = submission.result or {}
    if submission.status != Submission.Status.PENDING:
        parts = result.get("parts", {})
        item = submission.item
        if item.is_numeric:
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


def theory_question_view(data: dict[str, Any], *, shuffle_seed: int = 0) -> dict[str, Any]:
    """A theory question as a learner sees it before answering: no weights, feedback or key.

    Matching answers and ordering items are shuffled (deterministically per seed) so their order
    gives nothing away.
    """
    rng = random.Random(shuffle_seed)
    view: dict[str, Any] = {
        "slug": data["slug"],
        "type": data["type"],
        "question_type": data["type"],
        "title": data["title"],
        "prompt": data["prompt"],
        "difficulty": data["difficulty"],
        "hint_count": len(data.get("hints") or []),
    }
    kind = data["type"]
    if kind in ("single_choice", "multiple_response"):
        view["choices"] = [c["text"] for c in data["choices"]]
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


# --- Stored answers as text -------------------------------------------------------------------


def answer_lines(view: dict[str, Any], answer: Any) -> list[str]:
    """A stored theory answer in the words of its question (Markdown, one line per choice); a
    typed answer as typed (escaped HTML, never read as Markdown or LaTeX)."""
    response = answer.get("response") if isinstance(answer, dict) else None
    kind = view.get("question_type")
    choices = view.get("choices") or []
    if kind == "single_choice" and isinstance(response, int) and 0 <= response < len(choices):
        return [choices[response]]
    if kind == "multiple_response" and isinstance(response, list):
        return [choices[i] for i in response if isinstance(i, int) and 0 <= i < len(choices)] or ["(none chosen)"]
    if kind == "true_false" and isinstance(response, bool):
        return ["True" if response else "False"]
    if kind == "matching" and isinstance(response, dict):
        return [f"{left} → {right or '—'}" for left, right in response.items()]
    if kind == "ordering" and isinstance(response, list):
        return [f"{n}. {text}" for n, text in enumerate(response, start=1)]
    return [verbatim(str(response))] if response not in (None, "") else []  # typed: shown as typed


def typed_text(value: Any) -> str:
    if isinstance(value, list):
        if any(isinstance(v, list) for v in value):
            return "\n".join(typed_text(v) for v in value)
        return " ".join("" if v is None else str(v) for v in value)
    return "" if value is None else str(value)


def numeric_answer_lines(view: dict[str, Any], answer: Any) -> list[tuple[str, str]]:
    """A stored numeric answer as (part label, typed text), rows of a grid on separate lines."""
    answer = answer if isinstance(answer, dict) else {}
    return [(p["label"], typed_text(answer.get(p["name"]))) for p in view.get("parts", [])]
