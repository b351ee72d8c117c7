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

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from attention_engine.grading import check_misconceptions_distinct, read_part
from attention_engine.precision import Precision
from attention_engine.variant import Grade, Part, Variant, as_array


def _round_cells(values: np.ndarray, precision: Precision) -> np.ndarray:
    """Every cell rounded as ``precision.round`` does (Python's correctly rounded ``round``).

    For a number of decimal places, ``rint(x * 10^p) / 10^p`` is the same double wherever
    ``x * 10^p`` is not within a hair of a half (the same integer, then one correctly rounded
    division); the cells near a half, or too large for that argument, are rounded by ``round``
    itself. Significant digits are rounded by ``precision.round`` cell by cell.
    """
    if precision.exact:
        return values
    if precision.significant is not None or precision.decimals is None:
        return precision.round(values)
    places = precision.decimals
    scale = 10.0**places
    scaled = values * scale
    out = np.rint(scaled) / scale
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    unsure = np.flatnonzero(near_half | ~(np.abs(scaled) < 2.0**40))
    if len(unsure):
        flat = out.reshape(-1)
        flat[unsure] = [round(v, places) for v in values.reshape(-1)[unsure].tolist()]
    return out


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
    that part at all.
    """
    n, n_typed, n_refs = next(iter(typed.values())).shape[:2] + next(iter(refs.values())).shape[1:2]
    match = np.empty((len(parts), n, n_typed, n_refs), dtype=bool)  # (part, B, typed, reference)
    finite = np.ones(n, dtype=bool)
    for j, part in enumerate(parts):
        given = typed[part.name]
        finite &= np.isfinite(given).reshape(n, -1).all(axis=-1)
        expected = refs[part.name][:, None]  # (B, 1, R, *shape)
        tol = part.tolerance
        cells = np.abs(given[:, :, None] - expected) <= tol.abs + tol.rel * np.abs(expected)  # (B, 2R, R, *shape)
        match[j] = cells.reshape(n, n_typed, n_refs, -1).all(axis=-1) & present[part.name]
    key_right = match[:, :, 0, 0].all(axis=0) & match[:, :, n_refs, 0].all(axis=0)  # (B,)
    off_key = ~match[:, :, :, 0]  # (part, B, typed): the parts each typed answer gets wrong
    named = np.all(match[:, :, :, 1:] | ~off_key[..., None], axis=0)  # (B, typed, mistake): matches every part it gets wrong
    # The mistake grading names: the first in catalogue order that matches (-1: none).
    first = np.where(named.any(axis=-1), named.argmax(axis=-1), -1)  # (B, typed)
    mistake = np.arange(n_typed) % n_refs - 1  # the mistake each typed answer is (-1: the key)
    rows = mistake >= 0
    # every mistake's answer (both forms) graded as wrong, and named as that mistake
    distinct = np.all(off_key[:, :, rows].any(axis=0) & (first[:, rows] == mistake[rows]), axis=-1)
    weighted = all(part.weight > 0 for part in parts)
    return [bool(d) if ok and weighted else None for d, ok in zip(distinct, finite & key_right, strict=True)]


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


def _as_typed(part: Part, raw: Any) -> np.ndarray | None:
    """What ``grading.read_part`` reads from ``raw`` for ``part``, or ``None`` where it would
    not read a finite array of exactly the part's shape (let grading decide those).

    Numbers and numeric arrays convert as ``parsing.parse_number`` converts each cell
    (``float``); anything else (fraction strings, lists) is read by ``read_part`` itself.
    """
    try:
        if isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf" and part.shape:
            value = raw.astype(np.float64)
        elif isinstance(raw, numbers.Real) and not isinstance(raw, bool | np.bool_) and not part.shape:
            value = np.array(float(raw))
        else:
            value, errors = read_part(part, raw)
            if errors:
                return None
    except OverflowError:  # an int beyond any float: parse_number refuses it
        return None
    return value if value.shape == part.shape else None


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
        rows = [_as_typed(part, a[name]) for a in full]
        if any(row is None for row in rows):
            return None
        given[name] = np.stack(rows)  # type: ignore[arg-type]
        expected = [variant.key(name), *(as_array(a[name]) for a in answers.values() if name in a)]
        if any(e.shape != part.shape for e in expected):
            return None
        present[name] = np.array([True, *(name in a for a in answers.values())])
        found = iter(expected)
        refs[name] = np.stack([next(found) if has else np.zeros(part.shape) for has in present[name]])[None]
        if name in rounding:
            values = [as_array(a[name]) for a in full]
            if any(v.shape != part.shape for v in values):
                return None
            exact = np.stack(values)  # (R, *shape)
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
