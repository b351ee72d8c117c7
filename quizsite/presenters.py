
"""The answer side of the pages: reading a posted answer (theory fields, numeric grids), the
grid and the parse preview as typed, stored answers as text. Nothing here reads a
key: what of a question or a key may be shown is `quizsite.disclosure`."""

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from attention_engine.grading import read_response
from attention_engine.parsing import ParseError, parse_number
from attention_engine.variant import Variant as EngineVariant
from questions.formatting import format_number
from questions.keyed import choice_ids
from quizsite.rendering import verbatim

MAX_POSTED_DIGITS = 9  # ids, positions, rungs and counts: 10^9 is far beyond any of them


def posted_int(raw: str | None) -> int | None:
    """A number a form or a query string names (an id, a position, a rung), or None when it is
    not one: ASCII digits only, at most MAX_POSTED_DIGITS of them (a 5,000-digit number was a 500:
    Python refuses to read integers of more than 4,300 digits)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_POSTED_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def wait_seconds(raw: str | None) -> int:
    """A long poll's `?wait=N`: whole seconds, at most LONG_POLL_SECONDS (a longer wait is cut to
    it, so a client need not know the setting); not a whole number: ValueError."""
    if raw in (None, ""):
        return 0
    seconds = posted_int(raw)
    if seconds is None or seconds < 0:
        raise ValueError("wait must be a whole number of seconds.")
    return min(seconds, settings.LONG_POLL_SECONDS)


def theory_response_from_post(view: dict[str, Any], post) -> Any:
    """A theory form's fields as the response `grade_theory` reads (its checks name what is off).

    Nothing posted is dropped: a value that is not a choice number reaches the grader, which
    refuses it as a format error instead of grading what is left.
    """
    kind = view["question_type"]
    if kind == "single_choice":
        return post.get("response", "")  # the chosen option's id
    if kind == "multiple_response":
        return post.getlist("response")
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


def chosen_ids(view: dict[str, Any], response: Any) -> list[str]:
    """The ids of the options a stored choice response names, in its order. Answers stored
    before options had ids named them by the author's number; those are read through the item's
    ids (`questions.keyed.choice_ids`)."""
    choices = view.get("choices") or []
    if not choices:
        return []
    by_author = choice_ids("preview" if view.get("id") is None else view["id"], len(choices))
    picked = []
    for value in response if isinstance(response, list) else [response]:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
            picked.append(by_author[value])
        elif isinstance(value, str):
            picked.append(value)
    return picked


def theory_form_values(view: dict[str, Any], answer: Any) -> dict[str, Any]:
    """A theory question's fields, filled with the learner's answer (refused or graded) read back.

    ``answer`` is ``{"response": ...}`` as `theory_response_from_post` made it, or as an API
    client sent it; whatever does not fit the question is left blank. Returns ``choices``
    (text, checked), ``matches`` (left, selected right), ``positions`` (item, typed position)
    and ``text`` (true/false, a typed answer).
    """
    response = answer.get("response") if isinstance(answer, Mapping) else None
    kind = view["question_type"]
    picked = chosen_ids(view, response)
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
        "choices": [{**c, "checked": c["id"] in picked} for c in view.get("choices") or []],
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


def code_from_post(post) -> dict[str, str]:
    """A code answer from a form: the textarea's text, its line ends made "\\n" (a form posts
    CRLF)."""
    return {"code": post.get("code", "").replace("\r\n", "\n").replace("\r", "\n")}


def answer_from_post(view: dict[str, Any], post) -> dict[str, Any]:
    """A posted answer form as the services take it: part -> typed value, or {"response": ...}."""
    if view["type"] == "numeric":
        return {p["name"]: numeric_part_from_post(p, post) for p in view["parts"]}
    if view["type"] == "code":
        return code_from_post(post)
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


def value_table(value: Any) -> dict[str, Any]:
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
            "display": None if value is None else value_table(value.tolist())["rows"],
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


MAX_PREVIEW_CELLS = 1024


# --- Stored answers as text -------------------------------------------------------------------


def answer_lines(view: dict[str, Any], answer: Any) -> list[str]:
    """A stored theory answer in the words of its question (Markdown, one line per choice); a
    typed answer as typed (escaped HTML, never read as Markdown or LaTeX)."""
    response = answer.get("response") if isinstance(answer, dict) else None
    kind = view.get("question_type")
    if kind in ("single_choice", "multiple_response"):
        texts = {c["id"]: c["text"] for c in view.get("choices") or []}
        lines = [texts[cid] for cid in chosen_ids(view, response) if cid in texts]
        if lines or kind == "multiple_response":
            return lines or ["(none chosen)"]
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
