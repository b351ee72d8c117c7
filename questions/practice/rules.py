"""Pure checks on what a learner sends: a known kind, a readable answer (no torch, no database)."""

from __future__ import annotations

import functools
import json
from typing import Any

from attention_engine import api as engine
from attention_engine.code import answer_problem
from attention_engine.grading import blank_parts, read_response
from attention_engine.variant import Variant as EngineVariant
from questions.catalogue.theory import grade_theory
from questions.errors import ServiceError
from questions.keyed import choice_ids

CHOICE_TYPES = ("single_choice", "multiple_response")


@functools.cache
def kinds() -> tuple[dict[str, Any], ...]:
    """The engine's problem kinds (`attention_engine.api.list_kinds`), read once per process: the
    one place the domain and the site get them from."""
    return tuple(engine.list_kinds())


def answer_type(kind: str) -> str:
    """``numeric`` or ``code`` (answered with code, run on the code worker), for a known kind."""
    return kinds_by_name()[kind]["answer_type"]


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


PRACTICE_THEORY_TRIES = 2  # wrong tries at a theory question in practice before its key is shown


def practice_key_due(*, purpose: str, scores: list[float | None], key_shown: bool) -> bool:
    """Whether a practice or review theory question's key (the right option, the explanation) may
    be shown after these graded tries: once right, once the learner asked, or once they have used
    their `PRACTICE_THEORY_TRIES`; until then a wrong answer only says "try again". Quizzes and
    mock interviews have policies of their own (`courses.rules.feedback_visible`, the review)."""
    if purpose not in ("practice", "review"):
        return True
    return key_shown or any(s is not None and s >= 1.0 for s in scores) or len(scores) >= PRACTICE_THEORY_TRIES


def nul_errors(answer: Any) -> list[dict[str, Any]]:
    """A NUL character in any text of an answer: refused (PostgreSQL's jsonb cannot store one).
    The walk is bounded: a body is at most a few MiB and its JSON nesting is capped when read."""
    stack = [answer]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found = "\x00" in value
        elif isinstance(value, dict):
            found = any(isinstance(k, str) and "\x00" in k for k in value)
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            found = False
            stack.extend(value)
        else:
            found = False
        if found:
            return [{"part": "response", "row": None, "col": None,
                     "message": "The answer holds a NUL character; remove it."}]
    return []


def answer_format_errors(*, variant: dict[str, Any], answer: Any) -> list[dict[str, Any]]:
    """What makes an answer unreadable, cell by cell (the engine's own reader; no torch)."""
    extra = _unknown_parts(answer, {p["name"] for p in variant["parts"]})
    if extra:
        return extra
    engine_variant = EngineVariant.from_dict(variant)
    _, errors = read_response(engine_variant, answer)
    blank = blank_parts(engine_variant, answer)
    if len(blank) < len(engine_variant.parts):  # blank parts are graded as blank, not refused
        errors = [e for e in errors if e.part not in blank]
    return [error.to_dict() for error in errors]


def code_format_errors(*, answer: Any) -> list[dict[str, Any]]:
    """Why a code answer (``{"code": "..."}``) cannot be run, in the engine's error shape (the
    engine's own rule, `attention_engine.code.answer_problem`)."""
    extra = [{"part": str(name), "row": None, "col": None, "message": f"This question has no part “{name}”."}
             for name in sorted(set(map(str, answer)) - {"code"})] if isinstance(answer, dict) else []
    problem = extra or answer_problem(answer)
    if isinstance(problem, str):
        return [{"part": "code", "row": None, "col": None, "message": problem}]
    return problem or []


def response_by_index(*, question: dict[str, Any], response: Any, item_id: int) -> Any:
    """A response as `grade_theory` reads it: the options of a choice question are named by their
    ids on this item (`questions.keyed.choice_ids`, shuffled per learner), the grader counts them
    by the author's order. Anything that is not one of the item's ids is passed on unchanged
    (answers stored before ids were given held the author's numbers)."""
    if question.get("type") not in CHOICE_TYPES:
        return response
    index = {cid: i for i, cid in enumerate(choice_ids(item_id, len(question["choices"])))}
    if isinstance(response, list):
        return [index.get(r, r) if isinstance(r, str) else r for r in response]
    return index.get(response, response) if isinstance(response, str) else response


def grade_item_response(*, question: dict[str, Any], response: Any, item_id: int) -> dict[str, Any]:
    """`grade_theory` for a response given on one item (its choice ids read back)."""
    return grade_theory(question, response_by_index(question=question, response=response, item_id=item_id))


def _error(message: str) -> list[dict[str, Any]]:
    return [{"part": "response", "row": None, "col": None, "message": message}]


def theory_format_errors(*, question: dict[str, Any], answer: Any, item_id: int) -> list[dict[str, Any]]:
    """Why a theory answer (``{"response": ...}``) cannot be read, in the engine's error shape.

    A choice is named by its id on this item: a number (a position) is refused, since the
    options are shown in an order of their own to each learner."""
    if not isinstance(answer, dict) or "response" not in answer:
        return _error("No answer given.")
    extra = _unknown_parts(answer, {"response"})
    if extra:
        return extra
    response = answer["response"]
    if question.get("type") in CHOICE_TYPES:
        ids = set(choice_ids(item_id, len(question["choices"])))
        named = response if isinstance(response, list) else [response]
        if not all(isinstance(r, str) and r in ids for r in named):
            return _error("Choose among the options of this question, each named by its id "
                          "(the `id` given with every choice).")
    problem = grade_item_response(question=question, response=response, item_id=item_id).get("format_error")
    return _error(problem) if problem else []



def item_format_errors(item: Any, answer: Any) -> list[dict[str, Any]]:
    """Why an answer to this item (a `PracticeItem`, its variant or question version loaded)
    cannot be read: the check for numeric problems, code or theory questions, NUL first."""
    errors = nul_errors(answer)
    if errors:
        return errors
    if item.is_code:
        return code_format_errors(answer=answer)
    if item.is_numeric:
        return answer_format_errors(variant=item.variant.data, answer=answer)
    return theory_format_errors(question=item.question_version.data, answer=answer, item_id=item.id)


def item_part_names(item: Any) -> set[str]:
    """The keys an answer to this item may have: its parts, ``code`` or ``response``."""
    if item.is_code:
        return {"code"}
    if item.is_numeric:
        return {p["name"] for p in item.variant.data["parts"]}
    return {"response"}


def draft_shape_errors(item: Any, answer: Any) -> list[dict[str, Any]]:
    """Why a draft cannot be kept: not an object, a part the item does not have, too long, a NUL.
    A draft is what was typed so far, so it is not read as an answer (blank or half-typed cells
    are fine): only its shape is checked."""
    if not isinstance(answer, dict):
        return _error("A draft is an object of parts, as an answer is.")
    return _unknown_parts(answer, item_part_names(item)) or nul_errors(answer)


def is_empty_answer(answer: Any) -> bool:
    """Nothing typed: every text in the answer is blank (a draft of cleared cells)."""
    stack, seen = [answer], 0
    while stack and seen < 10_000:  # drafts are bounded (MAX_ANSWER_CHARS); so is this walk
        value = stack.pop()
        seen += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif value is not None and str(value).strip():
            return False
    return True
