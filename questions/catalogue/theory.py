"""Grade a learner's response to a theory question from the bank.

Pure Python (no Django, no torch): ``grade_theory(question, response)`` takes a question dict
in the neutral shape of ``questions/bank/FORMAT.md`` and returns::

    {"score": float in [0, 1] | None, "correct": bool | None,
     "feedback": str, "reveals": str, "format_error": str | None}

``feedback`` says what was right or wrong about the response, then what the key is when the
answer missed it (``reveals``: the sentence that gives the key away, also inside ``feedback``),
then the question's explanation. A quiz whose keys are not yet due shows ``feedback`` less
``reveals`` and the explanation.

A response of the wrong shape (a string where an index was expected, an index out of range,
an unparseable number ...) never raises: it comes back with ``format_error`` set, score 0 and
``correct`` False, so the caller can ask again without spending an attempt. Essays are not
auto-graded: score and correct are ``None``.

Scoring rules, per type:

* ``single_choice``: the picked choice's weight / 100.
* ``multiple_response``: the sum of the weights of the picked choices / 100, clamped to
  [0, 1]; wrong choices carry negative weights, so ticking everything does not pay.
* ``true_false``: 1 or 0.
* ``numeric``: among the answers within their absolute tolerance, the highest weight wins
  (the first of equals); weight / 100. Responses are read by
  ``attention_engine.parsing.parse_number`` (``1/4``, ``1.05M``, ``1,050,624``,
  ``1/sqrt(8)``).
* ``short_answer``: white space collapsed and trimmed, case folded unless ``case_sensitive``;
  ``*`` in an accepted answer matches any run of characters; highest matching weight wins.
* ``matching``: the fraction of left items matched to their right item.
* ``ordering``: the fraction of item pairs in the correct relative order, i.e.
  ``1 - inversions / (n (n - 1) / 2)`` (one minus the normalised Kendall tau distance). One
  item moved by one place costs one pair; a fully reversed list scores 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from attention_engine.parsing import parse_number
from questions.formatting import key_number

__all__ = ["grade_theory", "parse_numeric_response"]

_REL_EPS = 1e-9  # float slack on tolerance checks: 0.1 + 0.2 is within 0 of 0.3


def parse_numeric_response(response: Any) -> float:
    """A learner's number as a float (the engine's reader: fractions, sqrt, thousands separators);
    raises ``ValueError`` with a readable message."""
    return parse_number(response)


def _result(score: float | None, correct: bool | None, feedback: str,
            format_error: str | None = None, reveals: str = "") -> dict[str, Any]:
    return {"score": score, "correct": correct, "feedback": feedback, "reveals": reveals,
            "format_error": format_error}


def _format_error(message: str) -> dict[str, Any]:
    return _result(0.0, False, "", message)


def _with_explanation(question: dict, *parts: str) -> str:
    """Feedback for the pick(s), then the question's explanation: what and why."""
    text = [p.strip() for p in parts if p and p.strip()]
    explanation = str(question.get("explanation") or "").strip()
    if explanation:
        text.append(explanation)
    return "\n\n".join(text)


def _graded(question: dict, score: float, correct: bool, note: str, reveals: str = "") -> dict[str, Any]:
    """A graded response: the note on it, the key when it was missed, then the explanation."""
    return _result(score, correct, _with_explanation(question, note, reveals), reveals=reveals.strip())


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def _index(value: Any, size: int) -> int:
    """A choice index from an int or a string of digits (HTML forms post strings)."""
    if isinstance(value, bool):
        raise ValueError("Choose one of the answers (a choice number, not true or false).")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("Choose one of the answers.")
    if not 0 <= value < size:
        raise ValueError(f"There is no choice {value}: the choices are numbered 0 to {size - 1}.")
    return value


def right_choices(q: dict) -> list[int]:
    """The choices that make the key: the full-credit one of a single choice (the schema allows
    exactly one), every choice with positive weight of a multiple response."""
    if q["type"] == "single_choice":
        return [i for i, c in enumerate(q["choices"]) if c["weight"] >= 100]
    return [i for i, c in enumerate(q["choices"]) if c["weight"] > 0]


def wrong_choices(q: dict) -> list[int]:
    """Choices that earn nothing (weight 0 or below): what a hint may strike out."""
    return [i for i, c in enumerate(q["choices"]) if c["weight"] <= 0]


def key_answers(q: dict) -> list[dict]:
    """The full-credit answers of a numeric or short-answer question, best first as written."""
    return [a for a in q["answers"] if a["weight"] >= 100]


def theory_key(q: dict) -> dict[str, Any]:
    """The right answer of a theory question, with its explanation and source: the one place a
    key is derived (grading's reveals, quiz reviews, the staff preview and mock reviews use it)."""
    kind = q["type"]
    key: dict[str, Any] = {}
    if kind in ("single_choice", "multiple_response"):
        key["correct_choices"] = right_choices(q)
    elif kind == "true_false":
        key["answer"] = q["answer"]
    elif kind in ("numeric", "short_answer"):
        key["answers"] = [a.get("value", a.get("text")) for a in key_answers(q)]
    elif kind == "matching":
        key["pairs"] = {p["left"]: p["right"] for p in q["pairs"]}
    elif kind == "ordering":
        key["order"] = list(q["items"])
    key["explanation"] = q.get("explanation", "")
    key["source"] = q.get("source", "")
    return key


def _grade_single_choice(q: dict, response: Any) -> dict[str, Any]:
    choices = q["choices"]
    try:
        picked = _index(response, len(choices))
    except ValueError as exc:
        return _format_error(str(exc))
    choice = choices[picked]
    weight = float(choice["weight"])
    best = choices[right_choices(q)[0]]
    reveals = f"The right answer: “{best['text']}”." if weight < 100 else ""
    return _graded(q, _clamp(weight / 100), weight >= 100, choice.get("feedback", ""), reveals)


def _grade_multiple_response(q: dict, response: Any) -> dict[str, Any]:
    choices = q["choices"]
    if not isinstance(response, list | tuple | set | frozenset):
        return _format_error("Tick the answers that apply (a list of choice numbers).")
    try:
        picked = sorted({_index(r, len(choices)) for r in response})
    except ValueError as exc:
        return _format_error(str(exc))
    if len(picked) != len(response):
        return _format_error("A choice is listed more than once.")
    if not picked:
        return _format_error("Tick at least one answer.")
    right = set(right_choices(q))
    score = _clamp(sum(float(choices[i]["weight"]) for i in picked) / 100)
    notes = [f"“{choices[i]['text']}”: {choices[i]['feedback']}"
             for i in picked if choices[i].get("feedback")]
    missed = [choices[i]["text"] for i in sorted(right - set(picked))]
    reveals = ("Also true: " + "; ".join(f"“{m}”" for m in missed)) if missed else ""
    return _graded(q, score, set(picked) == right, "\n".join(notes), reveals)


def _grade_true_false(q: dict, response: Any) -> dict[str, Any]:
    if isinstance(response, str) and response.strip().lower() in ("true", "false"):
        response = response.strip().lower() == "true"
    if not isinstance(response, bool):
        return _format_error("Choose True or False.")
    correct = response == q["answer"]
    feedback = q["feedback_true"] if response else q["feedback_false"]
    return _result(1.0 if correct else 0.0, correct, _with_explanation(q, feedback))


def _best(answers: list[dict], matches: Callable[[dict], bool]) -> dict | None:
    """The matching answer with the highest weight; the first of equals."""
    best = None
    for answer in answers:
        if matches(answer) and (best is None or answer["weight"] > best["weight"]):
            best = answer
    return best


def _grade_numeric(q: dict, response: Any) -> dict[str, Any]:
    if isinstance(response, str) and not response.strip():
        return _format_error("Type a number.")
    try:
        value = parse_numeric_response(response)
    except ValueError as exc:
        return _format_error(f"Could not read a number: {exc}")

    def within(answer: dict) -> bool:
        target = float(answer["value"])
        slack = float(answer["tolerance"]) + _REL_EPS * max(1.0, abs(target))
        return abs(value - target) <= slack

    answer = _best(q["answers"], within)
    weight = float(answer["weight"]) if answer else 0.0
    reveals = ""
    if weight < 100:
        best = key_answers(q)[0]
        unit = f" {q['unit']}" if q.get("unit") else ""
        value = float(best["value"])
        reveals = f"The expected answer is {key_number(value)}{unit}."
    if answer is None:
        other = q.get("other_feedback") or "Not within tolerance of the expected answer."
        return _graded(q, 0.0, False, other, reveals)
    return _graded(q, _clamp(weight / 100), weight >= 100, answer.get("feedback", ""), reveals)


def _normalise(text: str, case_sensitive: bool) -> str:
    text = " ".join(text.split())
    return text if case_sensitive else text.casefold()


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether `text` is `pattern` with each ``*`` standing for any run of characters (nothing else
    is special). Linear in practice: the literal pieces are found left to right with ``str.find``;
    taking the leftmost place of each is always right when ``*`` is the only wildcard, so nothing
    is ever retried (a regular expression of ``.*`` pieces backtracked for seconds on
    ``*a*a*a*a*a*a*a*a*b`` against 60 characters)."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return text == pattern
    first, *middle, last = pieces
    if len(first) + len(last) > len(text) or not text.startswith(first) or not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def _grade_short_answer(q: dict, response: Any) -> dict[str, Any]:
    if not isinstance(response, str):
        return _format_error("Type the answer as text.")
    case_sensitive = bool(q.get("case_sensitive", False))
    given = _normalise(response, case_sensitive)
    if not given:
        return _format_error("Type an answer.")
    answer = _best(q["answers"], lambda a: wildcard_match(_normalise(a["text"], case_sensitive), given))
    weight = float(answer["weight"]) if answer else 0.0
    best = key_answers(q)[0]
    reveals = f"An accepted answer: “{best['text']}”." if weight < 100 else ""
    if answer is None:
        return _graded(q, 0.0, False, "Not one of the accepted answers.", reveals)
    return _graded(q, _clamp(weight / 100), weight >= 100, answer.get("feedback", ""), reveals)


def _grade_matching(q: dict, response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        return _format_error("Match each item to an answer (a mapping from item to answer).")
    key = theory_key(q)["pairs"]
    offered = set(key.values()) | set(q.get("distractors") or [])
    for left, right in response.items():
        if left not in key:
            return _format_error(f"“{left}” is not one of the items to match.")
        if right is not None and (not isinstance(right, str) or right not in offered):
            return _format_error(f"“{right}” is not one of the offered answers.")
    wrong = [left for left in key if response.get(left) != key[left]]
    score = (len(key) - len(wrong)) / len(key)
    note = f"{len(key) - len(wrong)} of {len(key)} matched correctly."
    if wrong:  # which ones are wrong is feedback; what they should match is the key
        note += " Not right: " + "; ".join(f"“{left}”" for left in wrong) + "."
    reveals = ("Right matches: " + "; ".join(f"“{left}” → “{key[left]}”" for left in wrong) + ".") if wrong else ""
    return _graded(q, score, not wrong, note, reveals)


def _grade_ordering(q: dict, response: Any) -> dict[str, Any]:
    items = list(q["items"])
    if not isinstance(response, list | tuple) or not all(isinstance(r, str) for r in response):
        return _format_error("Put the steps in order (a list of their texts).")
    if sorted(response) != sorted(items):
        return _format_error(f"Give each step a different position from 1 to {len(items)}.")
    rank = {item: i for i, item in enumerate(items)}
    ranks = [rank[r] for r in response]
    n = len(ranks)
    pairs = n * (n - 1) // 2
    in_order = sum(1 for i in range(n) for j in range(i + 1, n) if ranks[i] < ranks[j])
    score = in_order / pairs if pairs else 1.0
    note = f"{in_order} of {pairs} pairs of steps are in the right relative order."
    reveals = ("The right order: " + " → ".join(items) + ".") if in_order != pairs else ""
    return _graded(q, score, in_order == pairs, note, reveals)


def _grade_essay(q: dict, response: Any) -> dict[str, Any]:
    if not isinstance(response, str):
        return _format_error("Type the answer as text.")
    return _result(None, None, "An essay is graded by a person; it has no automatic score.")


_GRADERS: dict[str, Callable[[dict, Any], dict[str, Any]]] = {
    "single_choice": _grade_single_choice,
    "multiple_response": _grade_multiple_response,
    "true_false": _grade_true_false,
    "numeric": _grade_numeric,
    "short_answer": _grade_short_answer,
    "matching": _grade_matching,
    "ordering": _grade_ordering,
    "essay": _grade_essay,
}


def grade_theory(question: dict, response: Any) -> dict[str, Any]:
    """Grade ``response`` to a bank question (see the module docstring for the rules).

    Raises ``ValueError`` only for a question of unknown type (a bank bug, caught by the
    schema); a malformed *response* is reported in ``format_error``.
    """
    kind = question.get("type")
    grader = _GRADERS.get(kind)
    if grader is None:
        raise ValueError(f"unknown question type {kind!r}")
    return grader(question, response)
