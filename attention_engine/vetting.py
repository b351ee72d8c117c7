r"""Mistake vetting without grading: ``check_misconceptions_distinct``'s decision from one match table.

``grading.check_misconceptions_distinct`` grades the key and each catalogued mistake's full
answer (each also rounded as the prompt states), about ten to twenty gradings per draw, and
every draw ``generation.draw_verified`` makes pays for them. For a kind graded by
``grading.grade_response`` (every kind here), given answers that are numbers of the parts'
shapes, those gradings decide from one table: for each typed answer $t$ (the key and each
mistake's answer over the key, as computed and rounded as stated) and each reference $r$ (the
key, then the mistakes in catalogue order), whether every cell of each part matches,
$|t - r| \le \text{abs} + \text{rel}\,|r|$ (``grading.cells_match``'s rule).

* The key (both forms) must match the key in every part. (A part that misses the key can still
  score through error carried forward; the table does not follow that, so it leaves such a draw
  to grading.)
* Each mistake's answer (both forms) must differ from the key in some part, and the first
  reference matching every part it gets wrong must be that mistake: that is
  ``grading.detect_misconception``. Error carried forward does not change this: a named
  mistake is graded against the key alone, so it scores below 1 exactly when some part misses
  the key (with every part's weight positive).

Whatever the table cannot show that way (a non-finite cell, a key that misses itself, a part
of the wrong shape, a weight of 0) is ``None``, and ``misconceptions_distinct`` asks
``check_misconceptions_distinct`` itself. ``tests/engine/test_vetting.py`` checks, for every
kind over many draws, that the table decides as grading does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from attention_engine.grading import check_misconceptions_distinct, read_part
from attention_engine.precision import Precision
from attention_engine.variant import Grade, Part, Variant, as_array


def _round_cells(values: np.ndarray, precision: Precision) -> np.ndarray:
    """Every cell rounded as ``precision.round`` does (Python's correctly rounded ``round`` to
    ``precision.places(x)`` places).

    With ``p`` places, ``rint(x * 10^p) / 10^p`` is the same double wherever ``10^p`` is exact
    (``0 <= p <= 22``) and ``x * 10^p`` is below ``2^30`` and not within ``1e-6`` of a half:
    the product is then off by less than ``2^-23``, so ``rint`` finds the integer of correct
    rounding, and one correctly rounded division gives the double nearest that decimal, as
    ``round`` does. The other cells, and for significant digits every cell whose magnitude is
    within a hair of a power of ten (where ``np.log10`` might disagree with ``math.log10``
    about the places), are rounded by ``round`` itself.
    """
    if precision.exact:
        return values
    values = np.asarray(values, dtype=np.float64)
    unsure = np.zeros(values.shape, dtype=bool)
    places = np.full(values.shape, -1.0 if precision.decimals is None else float(precision.decimals))
    if precision.significant is not None:
        with np.errstate(divide="ignore", invalid="ignore"):  # zero: -inf; non-finite cells: left to round
            magnitude = np.log10(np.abs(values))
            whole = np.floor(magnitude)
            unsure |= ~np.isfinite(magnitude) | (magnitude - whole < 1e-9) | (whole + 1 - magnitude < 1e-9)
        places = np.maximum(places, precision.significant - 1 - np.where(unsure, 0.0, whole))
    unsure |= (places < 0) | (places > 22)
    scale = 10.0 ** np.clip(places, 0, 22)
    scaled = values * scale
    out = np.rint(scaled) / scale
    unsure |= ~(np.abs(scaled) < 2.0**30) | (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    fix = np.flatnonzero(unsure)
    if len(fix):
        out.reshape(-1)[fix] = [round(v, precision.places(v)) for v in values.reshape(-1)[fix].tolist()]
    return out


@functools.lru_cache(maxsize=256)
def _layout(parts: tuple[Part, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each cell's tolerance (``abs``, ``rel``) and where each part's cells start, with the
    parts' cells side by side; ``None`` where the table cannot decide for these parts (an empty
    part, or a weight of 0: a wrong part that weighs nothing leaves the score at 1).

    A kind has a few part lists, so this is worked out once per list, not once per draw.
    """
    sizes = [math.prod(part.shape) for part in parts]
    if not all(sizes) or not all(part.weight > 0 for part in parts):
        return None
    tol_abs = np.repeat([part.tolerance.abs for part in parts], sizes)  # (C,): each cell its part's tolerance
    tol_rel = np.repeat([part.tolerance.rel for part in parts], sizes)
    return tol_abs, tol_rel, np.cumsum([0, *sizes[:-1]])


def _decide(
    parts: Sequence[Part],
    typed: Mapping[str, np.ndarray],
    refs: Mapping[str, np.ndarray],
    present: Mapping[str, np.ndarray],
) -> list[bool | None]:
    """The table's decision for B draws (see the module docstring); ``None`` where it cannot tell.

    Per part: ``typed`` ``(B, 2R, *shape)`` the R typed answers as computed then as rounded
    (typed answer i is reference i's), ``refs`` ``(B, R, *shape)`` the references (0 the key,
    then the mistakes in catalogue order), ``present`` ``(R,)`` whether each reference gives
    that part at all. The parts' cells are laid side by side, so the whole table is a handful
    of array operations however many parts there are.
    """
    layout = _layout(tuple(parts))
    if layout is None:
        return [None] * len(next(iter(typed.values())))
    tol_abs, tol_rel, starts = layout
    given = np.concatenate([typed[p.name].reshape(*typed[p.name].shape[:2], -1) for p in parts], axis=-1)  # (B, 2R, C)
    expected = np.concatenate([refs[p.name].reshape(*refs[p.name].shape[:2], -1) for p in parts], axis=-1)  # (B, R, C)
    n, n_typed, n_refs = given.shape[0], given.shape[1], expected.shape[1]
    expected = expected[:, None]  # (B, 1, R, C)
    cells = np.abs(given[:, :, None] - expected) <= tol_abs + tol_rel * np.abs(expected)  # (B, 2R, R, C)
    # (B, 2R, R, part): every cell of the part matches, and the reference gives the part at all
    match = np.logical_and.reduceat(cells, starts, axis=-1) & np.stack([present[p.name] for p in parts], axis=-1)
    finite = np.isfinite(given).reshape(n, -1).all(axis=-1)
    key_right = match[:, 0, 0].all(axis=-1) & match[:, n_refs, 0].all(axis=-1)  # (B,)
    off_key = ~match[:, :, 0]  # (B, typed, part): the parts each typed answer gets wrong
    named = np.all(match[:, :, 1:] | ~off_key[:, :, None], axis=-1)  # (B, typed, mistake): matches every part it gets wrong
    # The mistake grading names: the first in catalogue order that matches (-1: none).
    first = np.where(named.any(axis=-1), named.argmax(axis=-1), -1)  # (B, typed)
    mistake = np.arange(n_typed) % n_refs - 1  # the mistake each typed answer is (-1: the key)
    rows = mistake >= 0
    # every mistake's answer (both forms) graded as wrong, and named as that mistake
    distinct = np.all(off_key[:, rows].any(axis=-1) & (first[:, rows] == mistake[rows]), axis=-1)
    return [bool(d) if ok else None for d, ok in zip(distinct, finite & key_right, strict=True)]


def mistakes_distinct_each(
    parts: Sequence[Part],
    key: Mapping[str, np.ndarray],
    wrong: Mapping[str, Mapping[str, np.ndarray]],
    precision: Mapping[str, Precision],
) -> list[bool | None]:
    """``check_misconceptions_distinct`` for B variants of one kind and shape at once, decided
    from the match table; ``None`` where only grading can tell.

    ``key`` maps each part to its keys stacked ``(B, *shape)`` as float64; ``wrong`` each
    mistake, in catalogue order, to its answers stacked the same way; ``precision`` is what the
    prompt states for each part (rounded forms are checked too, as grading does).
    """
    refs = [key, *wrong.values()]  # reference 0 is the key, then the catalogue in order
    answers = [key, *({**key, **answer} for answer in wrong.values())]  # typed answer i is reference i's
    typed, stacked, present = {}, {}, {}
    for part in parts:
        given = np.stack([a[part.name] for a in answers], axis=1)  # (B, R, *shape)
        stated = precision.get(part.name)
        rounded = given if stated is None else _round_cells(given, stated)
        typed[part.name] = np.concatenate([given, rounded], axis=1)  # (B, 2R, *shape): as computed, rounded
        present[part.name] = np.array([part.name in r for r in refs])
        stacked[part.name] = np.stack(
            [r[part.name] if part.name in r else np.zeros_like(key[part.name]) for r in refs], axis=1
        )  # (B, R, *shape)
    return _decide(parts, typed, stacked, present)


# Cell types ``parsing.parse_number`` reads as ``float(cell)``, as ``as_array`` converts them.
_PLAIN = (int, float, Fraction, np.float64, np.int64)


def _plain(raw: Any, ndim: int) -> bool:
    """Whether grading reads ``raw`` (for a part of ``ndim`` dimensions) cell by cell as
    ``float(cell)``: numbers, numeric arrays, or lists (of lists) of numbers, nothing else."""
    if ndim == 0:
        return type(raw) in _PLAIN
    if isinstance(raw, np.ndarray):
        return raw.dtype.kind in "iuf"
    if type(raw) not in (list, tuple):
        return False
    if ndim == 1:
        return all(type(cell) in _PLAIN for cell in raw)
    return all(type(row) in (list, tuple) and all(type(cell) in _PLAIN for cell in row) for row in raw)


def _as_typed(part: Part, raw: Any, value: np.ndarray) -> np.ndarray | None:
    """What ``grading.read_part`` reads from ``raw`` for ``part`` (``value`` is ``as_array(raw)``),
    or ``None`` where it would not read exactly the part's shape (let grading decide those).

    Plain numbers (``_plain``) read as ``value``, cell by cell the same ``float``; anything else
    (fraction strings, a column typed for a vector) is read by ``read_part`` itself.
    """
    if value.shape == part.shape and _plain(raw, len(part.shape)):
        return value
    read, errors = read_part(part, raw)
    return None if errors or read is None or read.shape != part.shape else read


def mistakes_distinct(
    variant: Variant, answers: Mapping[str, Mapping[str, Any]], precision: Mapping[str, Precision] | None
) -> bool | None:
    """``check_misconceptions_distinct(variant, grade, answers, precision)`` for one variant of
    a kind graded by ``grade_response``, from the match table; ``None`` where only grading can
    tell.

    As in grading, each typed answer is read as ``read_part`` reads it, and its rounded form
    (``grading.rounded``: each stated part of ``as_array(value)`` rounded) is checked as well
    only where rounding changes some part; elsewhere the row repeats the typed answer.
    """
    key = variant.answer
    full = [key, *({**key, **answer} for answer in answers.values())]  # typed answer i is reference i's
    rounding = {name: p for name, p in (precision or {}).items() if not p.exact}
    given: dict[str, np.ndarray] = {}
    rounded: dict[str, np.ndarray] = {}
    changed = np.zeros(len(full), dtype=bool)  # whether rounding changes typed answer i anywhere
    refs, present = {}, {}
    for part in variant.parts:
        name = part.name
        # as_array of each full answer's part: reference i where mistake i gives the part
        values = [variant.key(name), *(as_array(a[name]) if name in a else variant.key(name) for a in answers.values())]
        if any(v.shape != part.shape for v in values):
            return None
        rows = [_as_typed(part, a[name], v) for a, v in zip(full, values, strict=True)]
        if any(row is None for row in rows):
            return None
        given[name] = np.stack(rows)  # type: ignore[arg-type]
        exact = np.stack(values)  # (R, *shape)
        refs[name] = exact[None]
        present[name] = np.array([True, *(name in a for a in answers.values())])
        if name in rounding:
            rounded[name] = _round_cells(exact, rounding[name])
            changed |= ~(rounded[name] == exact).reshape(len(full), -1).all(axis=-1)
    typed = {
        # (1, 2R, *shape): as typed, then rounded where rounding changes that answer (else again as typed)
        name: np.concatenate([rows, np.where(changed.reshape(-1, *[1] * (rows.ndim - 1)), rounded[name], rows)
                              if name in rounded else rows])[None]
        for name, rows in given.items()
    }
    return _decide(variant.parts, typed, refs, present)[0]


def misconceptions_distinct(
    variant: Variant,
    grade: Callable[[Variant, Mapping[str, Any]], Grade],
    answers: Mapping[str, Mapping[str, Any]],
    precision: Mapping[str, Precision] | None = None,
) -> bool:
    """``check_misconceptions_distinct``'s answer: from the table where it tells, else by grading.

    ``grade`` must be the kind's ``grade_response`` grading (as ``generation.kind_functions``
    builds it); it is called only where the table cannot tell.
    """
    decided = mistakes_distinct(variant, answers, precision)
    if decided is None:
        return check_misconceptions_distinct(variant, grade, answers, precision)
    return decided
