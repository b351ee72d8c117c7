"""Pure checks on what a learner sends: a known kind, a readable answer (no torch, no database)."""

from __future__ import annotations

import json
from typing import Any

from attention_engine import api as engine
from attention_engine.grading import read_response
from attention_engine.variant import Variant as EngineVariant
from questions.catalogue.theory import grade_theory
from questions.errors import ServiceError


def check_kind(kind: str, difficulty: str) -> None:
    kinds = {k["name"]: k for k in engine.list_kinds()}
    if kind not in kinds:
        raise ServiceError(f"Unknown problem kind {kind!r}. Known kinds: {', '.join(sorted(kinds))}.")
    if difficulty not in kinds[kind]["difficulties"]:
        raise ServiceError(
            f"Unknown difficulty {difficulty!r} for {kind}: use one of "
            f"{', '.join(kinds[kind]['difficulties'])}."
        )


MAX_ANSWER_CHARS = 20_000  # an answer's JSON; the largest grid (8 x 8 cells of expressions) is far below


def _unknown_parts(answer: Any, known: set[str]) -> list[dict[str, Any]]:
    """Errors for parts the question does not have, and for an answer too long to be one."""
    if not isinstance(answer, dict):
        return []
    errors = [
        {"part": str(name), "row": None, "col": None, "message": f"This question has no part “{name}”."}
        for name in sorted(set(map(str, answer)) - known)
    ]
    if len(json.dumps(answer, default=str)) > MAX_ANSWER_CHARS:
        errors.append({"part": "response", "row": None, "col": None,
                       "message": f"The answer is longer than {MAX_ANSWER_CHARS:,} characters."})
    return errors


def answer_format_errors(*, variant: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """What makes an answer unreadable, cell by cell (the engine's own reader; no torch)."""
    extra = _unknown_parts(answer, {p["name"] for p in variant["parts"]})
    if extra:
        return extra
    _, errors = read_response(EngineVariant.from_dict(variant), answer)
    return [error.to_dict() for error in errors]


def theory_format_errors(*, question: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """Why a theory answer (``{"response": ...}``) cannot be read, in the engine's error shape."""
    if not isinstance(answer, dict) or "response" not in answer:
        return [{"part": "response", "row": None, "col": None, "message": "No answer given."}]
    extra = _unknown_parts(answer, {"response"})
    if extra:
        return extra
    problem = grade_theory(question, answer["response"]).get("format_error")
    return [{"part": "response", "row": None, "col": None, "message": problem}] if problem else []

