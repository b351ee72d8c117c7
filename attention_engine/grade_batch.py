"""Grading in bulk (issue #15): ``grade_many`` gives what ``api.grade`` gives answer by answer
(the same bytes under ``json.dumps(result, sort_keys=True)``), many times faster.

One ``api.grade`` parses the variant, rebuilds the answer of every catalogued mistake and the
solution the error carried forward needs, then parses and grades the response: most of that is
the same for every answer to a variant, and most of the rest is the same for every variant of
a kind and shape. In bulk:

* **Each variant dict is parsed once**, however many answers it comes with (a regrade sends a
  variant with every try at it).
* **The single-head attention kinds** (a kind module whose ``SPEC`` is an
  ``_attention.AttentionKind``) are grouped by kind, parts and input shapes; each group is
  solved and its mistakes built as one stack ``(B, ...)`` (``_attention.solve`` and
  ``wrong_answers`` work on stacks and give the bits they give one variant at a time).
* **Answers that are plain numbers** (nested lists of ints and floats of the parts' shapes, all
  finite: what the API stores) to such a group are graded as arrays ``(N, ...)``: the cells
  against the key, against what the learner's earlier parts imply and against every mistake,
  by ``grading.cells_match`` itself, then the rules of ``grading.grade_response`` applied to
  the resulting booleans (see ``_grade_arrays``), and the messages and feedback built by the
  same helpers ``grade_response`` uses.
* **Everything else** (text to parse, a format error, a non-finite number, a part of another
  shape) goes through ``grading.grade_response`` one by one, as the kind's own ``grade`` calls
  it but with the group's precomputed mistakes and solution; the other kinds through their own
  ``grade``.

Answers are taken ``CHUNK`` at a time, so the stacks stay a few MB however many are sent, and
the cyclic garbage collector is paused while they are graded (``collector_paused``). A
variant that cannot be graded (not a full variant, an unknown kind, a broken key) raises what
``api.grade`` raises, after the answers before it are graded, as the loop did.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import itemgetter
from types import ModuleType
from typing import Any

import numpy as np

from attention_engine import registry
from attention_engine.grading import (
    carried_note,
    cells_match,
    cells_message,
    grade_feedback,
    grade_response,
    no_carry_note,
    weighted_score,
)
from attention_engine.kinds import _attention as att
from attention_engine.parsing import MAX_MATRIX_CELLS
from attention_engine.variant import Grade, Part, PartResult, Variant

# Answers per chunk: large enough that a group's numpy calls are shared by many answers, small
# enough that its stacks (mistakes x parts x answers x cells) stay a few MB.
CHUNK = 2048

_NUMBER_TYPES = frozenset((int, float))  # JSON numbers; bool (an int subclass) is not an answer


@dataclass
class _Group:
    """Variants of one attention kind with the same parts and input shapes, solved as one stack."""

    spec: att.AttentionKind
    parts: tuple[Part, ...]
    variants: list[Variant]
    masks: list[np.ndarray | None]
    inputs: list[tuple[np.ndarray, ...]]
    # set by ``solve``: the stacks over the variants
    mask: np.ndarray | None = field(init=False, default=None)
    sol: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    mistakes: dict[str, dict[str, np.ndarray]] = field(init=False, default_factory=dict)
    keys: dict[str, np.ndarray] | None = field(init=False, default=None)

    @cached_property
    def misconceptions(self) -> dict[str, str]:
        return self.spec.misconceptions

    def solve(self) -> None:
        """Every intermediate and every mistake's answer, stacked over the group's variants."""
        stacked = [np.stack(column) for column in zip(*self.inputs, strict=True)]
        self.mask = None if self.masks[0] is None else np.stack(self.masks)  # (B, T_q, T_k)
        self.sol = att.solve(*stacked, mask=self.mask)
        wrong = att.wrong_answers(self.sol, self.mask, self.spec.codes)
        # restricted to the parts the kind asks for, as ``_attention.misconception_answers`` does
        self.mistakes = {code: {n: a[n] for n in self.spec.parts if n in a} for code, a in wrong.items()}
        self.keys = self._stacked_keys()

    def _stacked_keys(self) -> dict[str, np.ndarray] | None:
        """Each part's keys ``(B, *shape)``, or ``None`` when the group's answers cannot be graded
        as arrays (a part that is not a matrix of the attention parts, a key of another shape)."""
        if not all(p.name in att.PART_SPECS and len(p.shape) == 2 and np.prod(p.shape) <= MAX_MATRIX_CELLS
                   for p in self.parts):
            return None
        try:
            keys = {p.name: np.stack([v.key(p.name) for v in self.variants]) for p in self.parts}
        except (KeyError, TypeError, ValueError):
            return None  # a broken key: grading one by one raises what ``grade`` raises
        if any(keys[p.name].shape[1:] != p.shape for p in self.parts):
            return None
        return keys

    def grade_one(self, b: int, response: Any) -> Grade:
        """``grade_response`` as the kind's ``grade`` calls it, with variant ``b``'s precomputed
        mistakes and solution."""
        sol = {name: value[b] for name, value in self.sol.items()}
        mask = None if self.mask is None else self.mask[b]
        return grade_response(
            self.variants[b],
            response,
            misconceptions=self.misconceptions,
            misconception_answers={code: {n: a[b] for n, a in answer.items()} for code, answer in self.mistakes.items()},
            carry_forward=lambda variant, learner: att.carry_forward(variant, learner, mask, sol),
        )


def grade_many(variants: Sequence[dict[str, Any]], answers: Sequence[Any]) -> list[dict[str, Any]]:
    """``[api.grade(v, a) for v, a in zip(variants, answers)]`` (the lengths are the caller's to check)."""
    results: list[dict[str, Any]] = []
    with collector_paused():
        for start in range(0, len(variants), CHUNK):
            results += _grade_chunk(variants[start:start + CHUNK], answers[start:start + CHUNK])
    return results


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while grading (or generating: ``batch.iter_variants``
    pauses it per chunk), back on after (if it was on).

    A grade dict is some 20 to 40 lists and dicts, all alive until the batch is returned; the
    collector, triggered by every few hundred of them, walks them again and again, and in a
    process with torch loaded each full collection walks a million objects: measured, that
    more than doubled the time of a batch. Grading leaves no reference cycles behind, so the
    collector has nothing to find in it; what the caller keeps is walked later, as it would be.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _grade_chunk(variant_dicts: Sequence[dict[str, Any]], answers: Sequence[Any]) -> list[dict[str, Any]]:
    """One chunk: parse its variants (once per dict), solve the attention groups, grade the plain
    answers as arrays, the rest one by one in order."""
    modules: dict[str, ModuleType] = {}
    parsed: dict[int, Variant] = {}  # id of a variant dict (alive in the caller's list) -> its Variant
    rows: list[tuple[ModuleType, Variant]] = []
    failure: Exception | None = None
    for data in variant_dicts:
        try:  # what api.grade does first, in its order; a failure is raised after the rows before it
            kind = data.get("kind", "")
            if kind not in modules:
                modules[kind] = registry.get_kind(kind)
            if id(data) not in parsed:
                parsed[id(data)] = Variant.from_dict(data)
        except Exception as exc:
            failure = exc
            break
        rows.append((modules[kind], parsed[id(data)]))

    placed = _attention_groups(rows)
    results: list[dict[str, Any] | None] = [None] * len(rows)
    by_group: dict[int, tuple[_Group, list[int]]] = {}
    for i, (_, variant) in enumerate(rows):
        where = placed.get(id(variant))
        if where is not None and where[0].keys is not None and _plain(answers[i], where[0].parts):
            by_group.setdefault(id(where[0]), (where[0], []))[1].append(i)
    for group, indices in by_group.values():
        graded = _grade_arrays(group, [placed[id(rows[i][1])][1] for i in indices], [answers[i] for i in indices])
        for i, result in zip(indices, graded, strict=True):
            results[i] = result
    for i, (module, variant) in enumerate(rows):  # the rest one by one, in order
        if results[i] is None:
            where = placed.get(id(variant))
            grade = where[0].grade_one(where[1], answers[i]) if where else module.grade(variant, answers[i])
            results[i] = grade.to_dict()
    if failure is not None:
        raise failure
    return results  # type: ignore[return-value]


def _attention_groups(rows: Sequence[tuple[ModuleType, Variant]]) -> dict[int, tuple[_Group, int]]:
    """id of each attention variant -> (its solved group, its index there). A variant whose
    inputs cannot be read, or a group that cannot be solved, is left out: its answers go through
    the kind's ``grade``, which raises what it raises."""
    groups: dict[tuple[Any, ...], _Group] = {}
    seen: set[int] = set()
    for module, variant in rows:
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, att.AttentionKind) or id(variant) in seen:
            continue
        seen.add(id(variant))
        try:
            inputs = att._inputs(spec, variant.params)
            mask = att.mask_of(spec, variant.params)
        except Exception:  # graded one by one, where the kind's grade raises it
            continue
        shape = (spec.name, variant.parts, tuple(x.shape for x in inputs), None if mask is None else mask.shape)
        group = groups.setdefault(shape, _Group(spec, variant.parts, [], [], []))
        group.variants.append(variant)
        group.inputs.append(inputs)
        group.masks.append(mask)
    placed: dict[int, tuple[_Group, int]] = {}
    for group in groups.values():
        try:
            with np.errstate(all="ignore"):
                group.solve()
        except Exception:  # as above
            continue
        for b, variant in enumerate(group.variants):
            placed[id(variant)] = (group, b)
    return placed


def _plain(response: Any, parts: Sequence[Part]) -> bool:
    """Whether every part of ``response`` is a nested list of ints and floats of its (matrix)
    shape: what ``read_part`` reads as exactly those numbers, with no format error (given finite
    values, checked on the arrays)."""
    if type(response) is not dict:
        return False
    for part in parts:
        raw = response.get(part.name)
        rows, cols = part.shape
        if type(raw) is not list or len(raw) != rows:
            return False
        for row in raw:
            if type(row) is not list or len(row) != cols or not _NUMBER_TYPES.issuperset(map(type, row)):
                return False
    return True


def _learner_arrays(parts: Sequence[Part], responses: Sequence[dict[str, Any]]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each part's values ``(N, *shape)`` as ``read_part`` gives them, and which rows are all
    finite (``parse_number`` refuses the others, as it refuses an int beyond any float)."""
    finite = np.ones(len(responses), dtype=bool)
    learner: dict[str, np.ndarray] = {}
    for part in parts:
        try:  # the rows and cells, flattened (``_plain`` checked the shapes), in one numpy call
            cells = chain.from_iterable(chain.from_iterable(map(itemgetter(part.name), responses)))
            values = np.fromiter(cells, dtype=np.float64, count=len(responses) * part.shape[0] * part.shape[1])
            values = values.reshape(len(responses), *part.shape)
        except OverflowError:
            values = np.full((len(responses), *part.shape), np.nan)
            for i, response in enumerate(responses):
                try:
                    values[i] = np.array(response[part.name], dtype=np.float64)
                except OverflowError:
                    pass  # left NaN: not finite, graded one by one
        finite &= np.isfinite(values).reshape(len(responses), -1).all(axis=1)
        learner[part.name] = values
    return learner, finite


def _grade_arrays(group: _Group, index: list[int], responses: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """``grade_response`` for plain-number answers to ``group``'s variants ``index``, as arrays.

    The rules, as ``grade_response`` applies them to one answer, on ``(N, ...)`` booleans:

    * a part's cells match the key; where the carried-forward expectation is finite, is not
      itself the key, and matches more cells, it is used instead (``grade_part``);
    * the mistake named is the first in catalogue order that matches every part off the key
      (``detect_misconception``); naming one takes the carried-forward credit back;
    * a score of 1 names no mistake (``_grade_dict``).

    Rows with a non-finite number come back ``None`` (graded one by one: a format error).
    """
    learner, finite = _learner_arrays(group.parts, responses)
    out: list[dict[str, Any] | None] = [None] * len(responses)
    rows = np.asarray(index)[finite]  # each graded answer's variant in the group
    n = len(rows)
    if not n:
        return out
    learner = {name: values[finite] for name, values in learner.items()}
    parts = group.parts
    keys = {p.name: group.keys[p.name][rows] for p in parts}  # type: ignore[index]
    sol = {name: value[rows] for name, value in group.sol.items()}
    mask = None if group.mask is None else group.mask[rows]

    def all_cells(cells: np.ndarray) -> np.ndarray:
        return cells.reshape(n, -1).all(axis=1)

    def count(cells: np.ndarray) -> np.ndarray:
        return cells.reshape(n, -1).sum(axis=1)

    with np.errstate(all="ignore"):  # a non-finite carried value is never used (as one by one)
        carried = att.carried_parts({p.name for p in parts}, learner, mask, sol)
        ok = {p.name: cells_match(keys[p.name], learner[p.name], p.tolerance) for p in parts}
        is_key = {name: all_cells(cells) for name, cells in ok.items()}
        ok_carried: dict[str, np.ndarray] = {}
        used = {p.name: np.zeros(n, dtype=bool) for p in parts}
        for p in parts:
            expected = carried.get(p.name)
            if expected is None or expected.shape != keys[p.name].shape:
                continue
            ok_carried[p.name] = cells_match(expected, learner[p.name], p.tolerance)
            used[p.name] = (all_cells(np.isfinite(expected)) & ~all_cells(cells_match(keys[p.name], expected, p.tolerance))
                            & (count(ok_carried[p.name]) > count(ok[p.name])))
        code_of = np.full(n, -1)  # index of the mistake named, in catalogue order; -1 for none
        off_key = ~np.logical_and.reduce([is_key[p.name] for p in parts])
        for c, answer in enumerate(group.mistakes.values()):
            fits = off_key & (code_of < 0)
            for p in parts:
                value = answer.get(p.name)
                if value is not None and value.shape[1:] == p.shape:
                    fits &= is_key[p.name] | all_cells(cells_match(value[rows], learner[p.name], p.tolerance))
                else:
                    fits &= is_key[p.name]
            code_of[fits] = c
    taken_back = (code_of >= 0) & np.logical_or.reduce([used[p.name] for p in parts])
    for name, cells in ok_carried.items():
        ok[name] = np.where((used[name] & ~taken_back)[:, None, None], cells, ok[name])
    # Per part: right cells, carried forward used, carried-forward credit taken back, part is the key.
    decided = np.column_stack([code_of] + [column for p in parts for column in (
        count(ok[p.name]), used[p.name] & ~taken_back, used[p.name] & taken_back, is_key[p.name])])
    # Answers that decide alike get the same grade but for the cells: one grade dict per pattern.
    grades: dict[tuple[int, ...], dict[str, Any]] = {}
    cells = zip(*(ok[p.name].tolist() for p in parts), strict=True)  # per answer, each part's cells
    patterns = map(tuple, decided.tolist())
    for slot, b, pattern, answer_cells in zip(np.flatnonzero(finite).tolist(), rows.tolist(), patterns, cells, strict=True):
        grade = grades.get(pattern)
        if grade is None:
            grade = grades[pattern] = _grade_dict(group, group.variants[b], list(pattern))
        out[slot] = _with_cells(grade, answer_cells)
    return out


def _grade_dict(group: _Group, variant: Variant, decided: list[int]) -> dict[str, Any]:
    """The grade dict ``grade_response`` builds from a row of decisions (the mistake's index,
    then per part: right cells, carried forward, carried-forward credit taken back, part is the
    key), with its helpers; the cells are filled in per answer (``_with_cells``)."""
    code = list(group.mistakes)[decided[0]] if decided[0] >= 0 else None
    per_part = {p.name: decided[1 + 4 * j:5 + 4 * j] for j, p in enumerate(group.parts)}
    results: dict[str, PartResult] = {}
    for p in group.parts:
        right, used, taken_back, _ = per_part[p.name]
        size = p.shape[0] * p.shape[1]
        message = cells_message(right, size, False)
        if used:
            message += carried_note([q.label for q in group.parts if q.step < p.step and not per_part[q.name][3]])
        elif taken_back:
            message += no_carry_note(code)  # type: ignore[arg-type]
        results[p.name] = PartResult(
            score=right / size, correct=right == size, cells=None, expected_shape=list(p.shape), message=message,
            carried_forward=bool(used), weight=p.weight,
        )
    carried_parts = [p.label for p in sorted(group.parts, key=lambda p: p.step) if per_part[p.name][1]]
    score = weighted_score(results)
    if score >= 1.0:
        code = None
    return Grade(
        score=score,
        parts=results,
        feedback=grade_feedback(variant, results, carried_parts, code, group.misconceptions),
        misconception=code,
        misconception_message=group.misconceptions[code] if code else None,
    ).to_dict()


def _with_cells(grade: dict[str, Any], cells: Sequence[Any]) -> dict[str, Any]:
    """A fresh copy of ``grade`` with the parts' ``cells`` (in part order): no list is shared
    between two results. (Copies and item assignments: about twice as fast as ``{**d, ...}``.)"""
    parts = {}
    for (name, part), part_cells in zip(grade["parts"].items(), cells, strict=True):
        fresh = part.copy()
        fresh["cells"] = part_cells
        fresh["expected_shape"] = part["expected_shape"].copy()
        parts[name] = fresh
    result = grade.copy()
    result["parts"] = parts
    result["format_errors"] = grade["format_errors"].copy()
    return result
