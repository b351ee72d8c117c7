"""Grade a response against a variant: parsing, per-cell credit, error carried forward, misconceptions.

Every kind grades through ``grade_response``; a kind only supplies

* ``carry_forward(variant, learner) -> {part: expected}``: what each later part should be
  *given the learner's own earlier parts* (e.g. ``output = learner_weights @ V``), and
* ``misconception_answers(variant) -> {code: {part: value}}``: the full answer each catalogued
  wrong procedure produces, with ``MISCONCEPTIONS[code]`` the message shown to the learner.

Rules (the same for every kind):

* A cell is right when ``|given - expected| <= tol.abs + tol.rel * |expected|``.
* A part scores the fraction of its cells that are right; the variant scores the mean over parts
  weighted by ``Part.weight`` (each kind documents its weights: the final output weighs more
  than the intermediate steps).
* Format errors (missing or empty part, empty cell, text, NaN, wrong shape) never raise: the
  grade lists them in ``format_errors`` with score 0 and the caller does not count an attempt.
* Error carried forward: a later part scores the better of "against the key" and "against what
  the learner's earlier parts imply"; the part message and the feedback say when the second
  was used. Carried-forward credit is for slips, not for a conceptual mistake applied
  consistently: when the grade names a catalogued misconception, every part is graded against
  the key alone (the misconception's parts earn no carried-forward credit), so a named mistake
  scores what the parts it left right are worth, not 0.8-0.9.
* Misconception: among the parts the learner got wrong, if every one matches the answer of a
  catalogued wrong procedure (and that procedure's answer is available for each), the grade names
  it; the first match in catalogue order wins, and generators vet their variants so that no two
  catalogued procedures give the same answer (``check_misconceptions_distinct``).
* Coarse answers (``coarse``): a part the question asks for exactly but the learner typed at a
  precision of their own (a count abbreviated as ``1.05M``) is compared at that precision. It
  never scores full: consistent with the key and with no catalogued mistake, it earns
  ``COARSE_CREDIT`` and is told the question asks for the exact number; consistent with a
  catalogued mistake (whether or not also with the key) it earns 0 and the mistake is named,
  since at that precision the answer cannot show the mistake was not made. A coarse tolerance
  of ``None`` means too coarse to check at all (0, and the learner is told so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from attention_engine.parsing import (
    MatrixParseError,
    ParseError,
    parse_matrix,
    parse_number,
    parse_vector,
)
from attention_engine.precision import Precision
from attention_engine.variant import (
    EXACT,
    FormatError,
    Grade,
    Part,
    PartResult,
    Tolerance,
    Variant,
    as_array,
)

CarryForward = Callable[[Variant, dict[str, np.ndarray]], dict[str, np.ndarray]]

# Part credit for an answer right to the digits typed where the question asked for the exact value.
COARSE_CREDIT = 0.5


def is_blank(raw: Any) -> bool:
    """Nothing given for a part: absent, empty text, an empty list, or a grid of empty cells."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return True
    if isinstance(raw, list | tuple):
        return all(is_blank(cell) for cell in raw)
    return False


def blank_parts(variant: Variant, response: Any) -> set[str]:
    """The parts of ``variant`` that ``response`` leaves blank (all of them if it is no mapping)."""
    if not isinstance(response, Mapping):
        return {p.name for p in variant.parts}
    return {p.name for p in variant.parts if is_blank(response.get(p.name))}


BLANK_MESSAGE = "Left blank"


def read_part(part: Part, raw: Any) -> tuple[np.ndarray | None, list[FormatError]]:
    """Parse one part's raw response into a float64 array of the part's shape, or format errors."""
    if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw):
        return None, [FormatError(part.name, None, None, f"{part.label}: no answer given")]
    try:
        if len(part.shape) == 0:
            if isinstance(raw, list | tuple):
                return None, [FormatError(part.name, None, None, f"{part.label}: expected a single number, not a list")]
            return np.array(parse_number(raw)), []
        if len(part.shape) == 1:
            return np.array(parse_vector(raw, length=part.shape[0])), []
        return np.array(parse_matrix(raw, shape=part.shape)), []
    except ParseError as exc:
        return None, [FormatError(part.name, None, None, f"{part.label}: {exc.message} (at character {exc.position + 1})")]
    except MatrixParseError as exc:
        return None, [FormatError(part.name, e.row, e.col, f"{part.label}, {e.message}") for e in exc.errors]


def read_response(variant: Variant, response: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], list[FormatError]]:
    """Parse every part of a response; unknown keys are ignored."""
    if not isinstance(response, Mapping):
        return {}, [FormatError(variant.parts[0].name, None, None, "the answer must map part names to values")]
    learner: dict[str, np.ndarray] = {}
    errors: list[FormatError] = []
    for part in variant.parts:
        value, part_errors = read_part(part, response.get(part.name))
        errors.extend(part_errors)
        if value is not None:
            learner[part.name] = value
    return learner, errors


def cells_match(expected: np.ndarray, given: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    r"""Elementwise $|g - k| \le \text{abs} + \text{rel}\,|k|$ (boolean array of the key's shape)."""
    expected = np.asarray(expected, dtype=np.float64)
    given = np.asarray(given, dtype=np.float64)
    if expected.shape != given.shape:
        return np.zeros(expected.shape, dtype=bool)
    return np.abs(given - expected) <= tolerance.abs + tolerance.rel * np.abs(expected)


def matches(expected: Any, given: Any, tolerance: Tolerance) -> bool:
    """Whether every cell of ``given`` matches ``expected``."""
    expected = as_array(expected)
    given = np.asarray(given, dtype=np.float64)
    return expected.shape == given.shape and bool(np.all(cells_match(expected, given, tolerance)))


def _cells_json(ok: np.ndarray) -> list[Any] | None:
    return None if ok.ndim == 0 else ok.tolist()


def _carried_usable(carried: np.ndarray | None, key: np.ndarray) -> bool:
    return carried is not None and carried.shape == key.shape and bool(np.all(np.isfinite(carried)))


def _earlier_labels(variant: Variant, part: Part, learner: dict[str, np.ndarray]) -> list[str]:
    return [
        p.label
        for p in variant.parts
        if p.step < part.step and p.name in learner and not matches(variant.key(p.name), learner[p.name], p.tolerance)
    ]


def cells_message(right: int, size: int, scalar: bool) -> str:
    """A part's message from how many of its ``size`` cells are right."""
    if right == size:
        return "Correct"
    if scalar:
        return "Not correct"
    return f"{right} of {size} entries correct"


def carried_note(earlier_wrong: list[str]) -> str:
    """What a part graded against the learner's own earlier parts adds to its message; names the
    earlier parts that were off the key (in the variant's part order)."""
    earlier = ", ".join(earlier_wrong) if earlier_wrong else "earlier answers"
    return f" (graded against your own {earlier}: error carried forward)"


def no_carry_note(code: str) -> str:
    """What a part that would have used carried-forward credit adds when a mistake is named."""
    return f" (no error-carried-forward credit for the named mistake, {code})"


def grade_part(variant: Variant, part: Part, given: np.ndarray, carried: np.ndarray | None, learner: dict[str, np.ndarray]) -> tuple[PartResult, bool]:
    """Grade one parsed part; returns the result and whether error-carried-forward credit was used."""
    key = variant.key(part.name)
    ok = cells_match(key, given, part.tolerance)
    used_carried = False
    if _carried_usable(carried, key) and not matches(key, carried, part.tolerance):
        ok_carried = cells_match(carried, given, part.tolerance)
        if ok_carried.mean() > ok.mean():
            ok, used_carried = ok_carried, True
    score = float(ok.mean())
    correct = bool(ok.all())
    message = cells_message(int(ok.sum()), ok.size, ok.ndim == 0)
    if used_carried:
        message += carried_note(_earlier_labels(variant, part, learner))
    result = PartResult(
        score=score, correct=correct, cells=_cells_json(ok), expected_shape=list(part.shape), message=message,
        carried_forward=used_carried,
    )
    return result, used_carried


def detect_misconception(
    variant: Variant,
    learner: dict[str, np.ndarray],
    answers: Mapping[str, Mapping[str, Any]],
    ambiguous: Mapping[str, str] | None = None,
) -> str | None:
    """The first catalogued wrong procedure whose answer matches every part the learner got wrong.

    ``ambiguous`` (part -> code) lists coarse parts consistent with the key *and* with a
    mistake: a procedure matching those too is preferred; with no wrong part, the first
    ambiguous part's mistake is named.
    """
    wrong = [p for p in variant.parts if p.name in learner and not matches(variant.key(p.name), learner[p.name], p.tolerance)]
    ambiguous = ambiguous or {}
    if not wrong:
        return next(iter(ambiguous.values()), None)
    also = [variant.part(name) for name in ambiguous]
    for candidates in ((*wrong, *also), tuple(wrong)) if also else (tuple(wrong),):
        for code, answer in answers.items():
            if all(p.name in answer and matches(answer[p.name], learner[p.name], p.tolerance) for p in candidates):
                return code
    return None


def _coarse_result(
    part: Part, result: PartResult, given: np.ndarray, answers: Mapping[str, Mapping[str, Any]]
) -> tuple[PartResult, str | None]:
    """Re-score a part typed coarser than asked (see the module docstring); returns the mistake it fits."""
    if not result.correct:
        result.message += " (the question asks for the exact number)"
        return result, None
    for code, answer in answers.items():
        if part.name in answer and matches(answer[part.name], given, part.tolerance):
            result.score, result.correct = 0.0, False
            result.message = (
                "Consistent with the right value only to the digits you gave, and just as consistent "
                "with a catalogued mistake; give the exact number, which tells them apart"
            )
            return result, code
    result.score, result.correct = COARSE_CREDIT, False
    result.message = (
        f"Right to the digits you gave, but the question asks for the exact number "
        f"({COARSE_CREDIT:g} of this part's credit)"
    )
    return result, None


def weighted_score(results: Mapping[str, PartResult]) -> float:
    r"""$\sum_p w_p s_p / \sum_p w_p$ over the parts' scores $s_p$ and weights $w_p$."""
    total = sum(r.weight for r in results.values())
    return float(sum(r.weight * r.score for r in results.values()) / total) if total else 0.0


def format_error_grade(variant: Variant, errors: list[FormatError]) -> Grade:
    """Score 0, no attempt counted: the caller shows the errors and lets the learner fix them."""
    bad = {e.part for e in errors}
    parts = {
        p.name: PartResult(
            score=0.0,
            correct=False,
            cells=None,
            expected_shape=list(p.shape),
            message="Could not read this answer" if p.name in bad else "Not graded until the other answers can be read",
            weight=p.weight,
        )
        for p in variant.parts
    }
    feedback = "Some answers could not be read; fix them and submit again (this does not count as an attempt): "
    feedback += "; ".join(e.message for e in errors)
    return Grade(score=0.0, parts=parts, feedback=feedback, format_errors=list(errors))


def grade_response(
    variant: Variant,
    response: Mapping[str, Any],
    *,
    misconceptions: Mapping[str, str],
    misconception_answers: Mapping[str, Mapping[str, Any]] | None = None,
    carry_forward: CarryForward | None = None,
    coarse: Mapping[str, Tolerance | None] | None = None,
) -> Grade:
    """Grade ``response`` (part name -> value or typed text) against ``variant``'s key.

    ``coarse`` maps parts typed at a precision of the learner's own (an abbreviated count) to
    the tolerance of that precision, or ``None`` when it is too coarse to check.
    """
    learner, errors = read_response(variant, response)
    # Parts left blank are graded as blank (no credit, said so), as long as something was given:
    # an answer with every part blank, or with a part that cannot be read, is a format error.
    blank = blank_parts(variant, response)
    if len(blank) < len(variant.parts):
        errors = [e for e in errors if e.part not in blank]
    else:
        blank = set()
    if errors:
        return format_error_grade(variant, errors)
    coarse = coarse or {}
    answers = misconception_answers or {}
    if coarse:
        variant = replace(variant, parts=tuple(
            replace(p, tolerance=coarse[p.name] or EXACT) if p.name in coarse else p for p in variant.parts
        ))
    # A blank earlier part is taken as the key when a later part is graded against the learner's own.
    given = {**{name: as_array(variant.key(name)) for name in blank}, **learner}
    carried = carry_forward(variant, given) if carry_forward else {}
    ambiguous: dict[str, str] = {}

    def grade_one(part: Part, expected_carried: np.ndarray | None) -> tuple[PartResult, bool]:
        if part.name in blank:
            return PartResult(0.0, False, None, list(part.shape), BLANK_MESSAGE, weight=part.weight), False
        result, used = grade_part(variant, part, learner[part.name], expected_carried, learner)
        if part.name in coarse and coarse[part.name] is None:
            result = PartResult(0.0, False, None, list(part.shape), (
                "Not graded: an abbreviation needs at least 3 significant figures to be checked, "
                "and the question asks for the exact number"
            ))
            used = False
        elif part.name in coarse:
            result, fits = _coarse_result(part, result, learner[part.name], answers)
            if fits:
                ambiguous[part.name] = fits
        result.weight = part.weight
        return result, used

    results: dict[str, PartResult] = {}
    carried_parts: list[str] = []
    for part in sorted(variant.parts, key=lambda p: p.step):
        results[part.name], used = grade_one(part, carried.get(part.name))
        if used:
            carried_parts.append(part.label)
    code = detect_misconception(variant, learner, answers, ambiguous)
    if code and carried_parts:
        # A named conceptual mistake earns no carried-forward credit (see the module docstring).
        for part in variant.parts:
            if results[part.name].carried_forward:
                results[part.name], _ = grade_one(part, None)
                results[part.name].message += no_carry_note(code)
        carried_parts = []
    results = {p.name: results[p.name] for p in variant.parts}  # keep the variant's part order
    score = weighted_score(results)
    if score >= 1.0:
        code = None
    feedback = grade_feedback(variant, results, carried_parts, code, misconceptions)
    return Grade(
        score=score,
        parts=results,
        feedback=feedback,
        misconception=code,
        misconception_message=misconceptions[code] if code else None,
    )


def grade_feedback(
    variant: Variant, results: Mapping[str, PartResult], carried_parts: list[str], code: str | None,
    misconceptions: Mapping[str, str],
) -> str:
    """The grade's feedback: each part's message (in the variant's order), which parts were graded
    against the learner's own earlier answers (in step order), and the named mistake."""
    if all(r.correct for r in results.values()):
        if carried_parts:
            return (
                f"{', '.join(carried_parts)} follow correctly from your earlier answers "
                "(error carried forward); the earlier slip is the only thing to fix."
            )
        return "All correct."
    lines = [f"{variant.part(name).label}: {r.message}." for name, r in results.items()]
    if carried_parts:
        lines.append(
            f"{', '.join(carried_parts)} graded against what your own earlier answers imply, "
            "so one slip is not punished twice (error carried forward)."
        )
    if code:
        lines.append(f"Likely mistake: {misconceptions[code]}")
    return " ".join(lines)


def format_error_probe(variant: Variant) -> dict[str, Any]:
    """A response that must be refused as a format error (text in the first part's first cell)."""
    first = variant.parts[0]
    if not first.shape:
        return {first.name: "not a number"}
    rows = first.shape[0]
    cols = first.shape[1] if len(first.shape) == 2 else None
    if cols is None:
        return {first.name: ["abc"] + [0] * (rows - 1)}
    return {first.name: [["abc"] + [0] * (cols - 1)] + [[0] * cols for _ in range(rows - 1)]}


def rounded(answer: Mapping[str, Any], precision: Mapping[str, Precision]) -> dict[str, Any]:
    """``answer`` with each part rounded as the prompt states (parts without a statement as given)."""
    return {
        name: precision[name].round(as_array(value)).tolist() if name in precision else value
        for name, value in answer.items()
    }


def check_misconceptions_distinct(
    variant: Variant,
    grade: Callable[[Variant, Mapping[str, Any]], Grade],
    answers: Mapping[str, Mapping[str, Any]],
    precision: Mapping[str, Precision] | None = None,
) -> bool:
    """Vetting: the key scores 1 and each catalogued wrong answer scores < 1 and is named by its code.

    With ``precision`` (what the prompt states), the same must hold for the key and for every
    wrong answer rounded to it: a learner who makes a mistake and rounds as asked is still told
    which mistake it was. Generators call this before returning a variant and redraw when it
    fails, so a question is never one where two mistakes (or a mistake and the right method)
    give the same numbers.
    """
    key = dict(variant.answer)
    rounding = {name: p for name, p in (precision or {}).items() if not p.exact}
    for typed in _as_typed(key, rounding):
        if grade(variant, typed).score != 1.0:
            return False
    for code, answer in answers.items():
        for typed in _as_typed({**key, **answer}, rounding):
            result = grade(variant, typed)
            if result.score >= 1.0 or result.misconception != code:
                return False
    return True


def _as_typed(answer: dict[str, Any], rounding: Mapping[str, Precision]) -> list[dict[str, Any]]:
    """``answer``, and ``answer`` rounded as stated when that changes any part (else it is one check)."""
    if not rounding:
        return [answer]
    typed = rounded(answer, rounding)
    if all(np.array_equal(as_array(typed[name]), as_array(answer[name])) for name in rounding if name in answer):
        return [answer]
    return [answer, typed]
