"""The draw-vet-verify loop every kind's ``generate`` runs, and prompt rendering helpers.

A kind writes ``build(rng) -> Variant | None``: draw numbers from ``rng``, return ``None`` to
reject a draw (ties, degenerate rows, unfriendly magnitudes), otherwise compute the key on the
reference route, check it against the second route with ``variant.agree`` (which raises
``VerificationError`` on disagreement: that is a bug, never silently redrawn) and return the
variant. ``draw_verified`` then also rejects draws where the key does not grade 1 or where two
catalogued mistakes cannot be told apart (decided from one match table where it can, see
``attention_engine.vetting``), and redraws from the same generator, so the result is still a
pure function of (kind, seed, difficulty).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from attention_engine.grading import CarryForward, grade_response
from attention_engine.precision import Precision
from attention_engine.variant import (
    GenerationError,
    Grade,
    Variant,
    check_difficulty,
    check_seed,
    make_rng,
)
from attention_engine.vetting import misconceptions_distinct

Build = Callable[[np.random.Generator, int, str], "Variant | None"]
Answers = Callable[[Variant], Mapping[str, Mapping[str, Any]]]
StatedPrecision = Callable[[Variant], Mapping[str, Precision]]

MAX_ATTEMPTS = 2000


def reject_options(kind: str, options: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """``ValueError`` for options a kind does not understand (a typo must not pass silently)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        allowed_text = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"kind {kind!r} does not take option(s) {', '.join(unknown)} (allowed: {allowed_text})")


def draw_verified(
    kind: str,
    seed: int,
    difficulty: str,
    build: Callable[[np.random.Generator], Variant | None],
    grade: Callable[[Variant, Mapping[str, Any]], Grade],
    misconception_answers: Callable[[Variant], Mapping[str, Mapping[str, Any]]],
    attempts: int = MAX_ATTEMPTS,
    precision: StatedPrecision | None = None,
) -> Variant:
    """Draw until ``build`` returns a variant whose key and mistakes grade as they should
    (also when rounded to the precision the prompt states, given ``precision``).

    ``grade`` is the kind's ``grading.grade_response`` grading: the match table stands in for
    it wherever it decides the same (``vetting.misconceptions_distinct``).
    """
    rng = make_rng(kind, check_seed(seed), check_difficulty(difficulty))
    for _ in range(attempts):
        variant = build(rng)
        if variant is not None and misconceptions_distinct(
            variant, grade, misconception_answers(variant), precision(variant) if precision else None
        ):
            return variant
    raise GenerationError(f"{kind}: no acceptable variant for seed {seed} ({difficulty}) in {attempts} draws")


def kind_functions(
    kind: str,
    build: Build,
    misconception_answers: Answers,
    misconceptions: Mapping[str, str],
    carry_forward: CarryForward | None = None,
    precision: StatedPrecision | None = None,
) -> tuple[Callable[..., Variant], Callable[[Variant, Mapping[str, Any]], Grade]]:
    """The ``generate`` and ``grade`` of a kind module, from its parts.

    ``build(rng, seed, difficulty)`` is one draw (see the module docstring); the kind takes no
    options. ``precision(variant)`` is what the prompt states for each part (the kind's
    ``stated_precision``); vetting then also rounds the key and the mistakes to it. A kind
    module then reads ``generate, grade = kind_functions(NAME, ...)``.
    """

    def grading(answers_of: Answers) -> Callable[[Variant, Mapping[str, Any]], Grade]:
        def grade(variant: Variant, response: Mapping[str, Any]) -> Grade:
            """Per-cell credit, format errors, misconception naming and error carried forward."""
            return grade_response(
                variant,
                response,
                misconceptions=misconceptions,
                misconception_answers=answers_of(variant),
                carry_forward=carry_forward,
            )

        return grade

    grade = grading(misconception_answers)

    def generate(seed: int, difficulty: str = "medium", **options: Any) -> Variant:
        """A verified variant: same (seed, difficulty, engine version) -> same variant."""
        reject_options(kind, options)
        last: list[Any] = [None, None]  # (variant, its mistakes' answers): vetting grades one variant ~10 times

        def answers_of(variant: Variant) -> Mapping[str, Mapping[str, Any]]:
            if last[0] is not variant:
                last[:] = [variant, misconception_answers(variant)]
            return last[1]

        return draw_verified(
            kind, seed, difficulty, lambda rng: build(rng, seed, difficulty), grading(answers_of), answers_of,
            precision=precision,
        )

    return generate, grade


def fmt(x: Any, digits: int = 4) -> str:
    """A number for a prompt: integers without a point, fractions as ``p/q``, else ``digits``."""
    if isinstance(x, Fraction):
        return str(x)
    value = float(x)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}f}".rstrip("0")


def bmatrix(m: Any, digits: int = 4) -> str:
    r"""LaTeX ``\begin{bmatrix}...\end{bmatrix}`` of a vector (one row) or a matrix."""
    if isinstance(m, np.ndarray) and _whole(m):
        # Whole numbers (most prompts' inputs): ``fmt`` writes each as ``str`` writes the int.
        rows = np.atleast_2d(m).astype(np.int64).tolist()
        return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(map(str, row)) for row in rows) + r" \end{bmatrix}"
    rows = np.atleast_2d(np.asarray(m, dtype=object))
    body = r" \\ ".join(" & ".join(fmt(x, digits) for x in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def _whole(m: np.ndarray) -> bool:
    """Whether every cell is an integer (or a float equal to one) below ``fmt``'s 1e15."""
    if m.dtype.kind not in "iuf":
        return False
    if not m.size:
        return True
    if m.dtype.kind == "f" and not (np.isfinite(m).all() and (m == np.trunc(m)).all()):
        return False
    return bool(np.abs(m).max() < 1e15)


def int_matrix(rng: np.random.Generator, shape: tuple[int, ...], low: int, high: int) -> np.ndarray:
    """Integers drawn uniformly from ``[low, high]`` (inclusive), as float64 for the arithmetic."""
    return rng.integers(low, high + 1, size=shape).astype(np.float64)


def int_matrices(rng: np.random.Generator, shapes: tuple[tuple[int, ...], ...], low: int, high: int) -> list[np.ndarray]:
    """Consecutive integer matrices from ``[low, high]`` (int64), drawn in one call.

    The generator hands out the same numbers, in the same order, as one ``int_matrix`` call per
    shape (bounded integers are drawn one by one from the bit stream, nothing is buffered per
    call; ``tests/engine/test_batch.py`` checks it), so a kind may draw this way without
    changing a variant; one call costs a fraction of several.
    """
    sizes = [math.prod(shape) for shape in shapes]
    flat = rng.integers(low, high + 1, size=sum(sizes))
    matrices, start = [], 0
    for shape, size in zip(shapes, sizes, strict=True):
        matrices.append(flat[start:start + size].reshape(shape))
        start += size
    return matrices


def distinct_within(values: np.ndarray, gap: float) -> bool:
    """True when all values (flattened) differ pairwise by at least ``gap``."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    return bool(np.all(np.diff(v) >= gap))
