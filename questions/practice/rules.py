"""Pure checks on what a learner sends: a known kind, a readable answer (no torch, no database)."""

from __future__ import annotations

import functools
import json
from typing import Any

from attention_engine import api as engine
from attention_engine.grading import read_response
from attention_engine.variant import Variant as EngineVariant
from questions.catalogue.theory import grade_theory
from questions.errors import ServiceError


@functools.cache
def kinds() -> tuple[dict[str, Any], ...]:
    """The engine's problem kinds (`attention_engine.api.list_kinds`), read once per process: the
    one place the domain and the site get them from."""
    return tuple(engine.list_kinds())


def kinds_by_name() -> dict[str, dict[str, Any]]:
    return {k["name"]: k for k in kinds()}


@functools.cache
def kind_titles() -> dict[str, str]:
    """Kind name -> its title, for every page and list that names a kind (read-only: shared)."""
    return {k["name"]: k["title"] for k in kinds()}


def kinds_by_topic() -> dict[str, list[str]]:
    """Topic slug -> the kinds that belong to it, in the engine's order."""
    by_topic: dict[str, list[str]] = {}
    for kind in kinds():
        for slug in kind["topics"]:
            by_topic.setdefault(slug, []).append(kind["name"])
    return by_topic


def kinds_for_topics(topic_slugs: list[str]) -> list[str]:
    """Problem kinds that belong to any of the topics (the rule topic practice and mocks use)."""
    wanted = set(topic_slugs)
    return [k["name"] for k in kinds() if wanted & set(k["topics"])]


def check_kind(kind: str, difficulty: str) -> None:
    """Refuse an unknown kind, or a difficulty the kind does not have (ServiceError, 400)."""
    kinds = kinds_by_name()
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

