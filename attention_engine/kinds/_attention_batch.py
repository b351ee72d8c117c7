"""The single-head attention kinds, many seeds at once: the same variants as ``generate``, faster.

Each seed still draws from its own generator in the order ``generate`` draws (a rejected draw
is redrawn from that seed's generator alone), and every draw is solved and vetted on the same
float64 reference route, so a seed gives the same bytes either way. Two things change:

* **Mistake vetting without grading.** ``check_misconceptions_distinct`` grades about ten
  answers per draw. For these kinds grading decides it from one table: for each typed answer
  $t$ (the key and each mistake's answer, as computed and rounded to the 3 decimals asked) and
  each reference $r$ (the key, then the mistakes in catalogue order), whether every cell of
  each part matches, $|t - r| \\le \\text{abs} + \\text{rel}\\,|r|$. The key (both forms) must
  match the key in every part; each mistake's answer (both forms) must differ from the key in
  some part, and the first reference matching all those parts must be that mistake. A table
  that says anything else, or a non-finite cell, is left to the grading check itself.
* **One torch call per chunk.** The vetted draws' ``Q, K, V`` are stacked into ``(B, T, d)``
  and checked by one ``F.scaled_dot_product_attention`` (``verify_with_torch``'s route).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from attention_engine.generation import MAX_ATTEMPTS
from attention_engine.grading import check_misconceptions_distinct
from attention_engine.kinds import _attention as att
from attention_engine.variant import (
    GenerationError,
    Grade,
    Part,
    Variant,
    Verification,
    agree,
    make_rng,
    max_abs_diff,
)

Draw = tuple[dict[str, Any], np.ndarray | None, dict[str, np.ndarray]]  # params, mask, solution


def _round_cells(values: np.ndarray) -> np.ndarray:
    """Every cell rounded as ``att.STATED.round`` does (Python's correctly rounded ``round``)."""
    places = att.STATED.decimals
    return np.array([round(v, places) for v in values.ravel().tolist()]).reshape(values.shape)


def mistakes_distinct(
    parts: Sequence[Part], key: dict[str, np.ndarray], wrong: dict[str, dict[str, np.ndarray]]
) -> bool | None:
    """``check_misconceptions_distinct`` for an attention variant, decided from the match table
    (see the module docstring); ``None`` when only grading can tell."""
    refs = [key, *wrong.values()]  # reference 0 is the key, then the catalogue in order
    typed = [key, *({**key, **answer} for answer in wrong.values())]  # typed answer i is reference i's
    n_refs = len(refs)
    match = np.empty((len(parts), 2 * n_refs, n_refs), dtype=bool)  # (part, typed, reference)
    for j, part in enumerate(parts):
        given = np.stack([np.asarray(t[part.name], dtype=np.float64) for t in typed])  # (R, *shape)
        given = np.concatenate([given, _round_cells(given)])  # (2R, *shape): as computed, rounded
        if not np.all(np.isfinite(given)):
            return None
        present = np.array([part.name in r for r in refs])
        expected = np.stack([np.asarray(r[part.name], dtype=np.float64) if part.name in r
                             else np.zeros(given.shape[1:]) for r in refs])  # (R, *shape)
        tol = part.tolerance
        cells = np.abs(given[:, None] - expected[None]) <= tol.abs + tol.rel * np.abs(expected[None])
        match[j] = cells.reshape(*cells.shape[:2], -1).all(axis=-1) & present[None]  # (2R, R)
    if not (match[:, 0, 0].all() and match[:, n_refs, 0].all()):
        return None  # the key itself would not grade as right: let grading say what happens
    for i in range(1, n_refs):
        for row in (i, n_refs + i):
            off_key = ~match[:, row, 0]  # the parts this answer gets wrong
            if not off_key.any():
                return False  # the mistake's answer grades as right
            named = match[off_key, row, 1:].all(axis=0)  # (R - 1,) mistakes matching every one
            if not named[i - 1] or named[: i - 1].any():
                return False  # named as another (earlier) mistake
    return True


def _vetted_draw(spec: att.AttentionKind, seed: int, difficulty: str, grade: Callable[..., Grade]) -> Draw:
    """The draw ``generate`` accepts for this seed: the same generator, the same order."""
    s = spec.sizes[difficulty]
    rng = make_rng(spec.name, seed, difficulty)
    for _ in range(MAX_ATTEMPTS):
        params, mask = att.draw(spec, rng, s)
        sol = att.solve(*att._inputs(spec, params), mask=mask)
        if not att.vetted(sol, s.max_raw, mask):
            continue
        parts = att._parts(spec, sol)
        key = {n: sol[n] for n in spec.parts}
        wrong = att.wrong_answers(sol, att.mask_of(spec, params), spec.codes)
        wrong = {code: {n: a[n] for n in spec.parts if n in a} for code, a in wrong.items()}
        distinct = mistakes_distinct(parts, key, wrong)
        if distinct is None:  # only grading can tell: ask it, on the variant generate would build
            variant = att.assemble(spec, seed, difficulty, params, mask, sol, Verification((), 0.0))
            distinct = check_misconceptions_distinct(variant, grade, wrong, att.stated_precision(variant))
        if distinct:
            return params, mask, sol
    raise GenerationError(f"{spec.name}: no acceptable variant for seed {seed} ({difficulty}) in {MAX_ATTEMPTS} draws")


def verify_batch(spec: att.AttentionKind, sols: Sequence[dict[str, np.ndarray]],
                 masks: Sequence[np.ndarray | None]) -> list[Verification]:
    """``verify_with_torch`` for many solutions of one shape, in one torch call."""
    from attention_engine import torch_ops

    q = np.stack([s["Q"] for s in sols])  # (B, T_q, d_k)
    k = np.stack([s["K"] for s in sols])  # (B, T_k, d_k)
    v = np.stack([s["V"] for s in sols])  # (B, T_k, d_v)
    if spec.causal:
        output, weights = torch_ops.scaled_dot_product_attention(q, k, v, is_causal=True)
        route = "torch-sdpa-is_causal"
    else:
        mask = None if masks[0] is None else np.stack(masks)  # (B, T_q, T_k)
        output, weights = torch_ops.scaled_dot_product_attention(q, k, v, mask=mask)
        route = "torch-sdpa"
    return [
        agree(("numpy-float64", route), [max_abs_diff(s["weights"], weights[b]), max_abs_diff(s["output"], output[b])])
        for b, s in enumerate(sols)
    ]


def batch_function(spec: att.AttentionKind, grade: Callable[..., Grade]) -> Callable[[Sequence[int], str], list[Variant]]:
    """The ``generate_batch(seeds, difficulty)`` of a kind module built on ``spec``: the variants
    ``generate`` gives for each seed, in order."""

    def generate_batch(seeds: Sequence[int], difficulty: str) -> list[Variant]:
        draws = [_vetted_draw(spec, seed, difficulty, grade) for seed in seeds]
        if not draws:
            return []
        checks = verify_batch(spec, [sol for _, _, sol in draws], [mask for _, mask, _ in draws])
        return [
            att.assemble(spec, seed, difficulty, params, mask, sol, check)
            for seed, (params, mask, sol), check in zip(seeds, draws, checks, strict=True)
        ]

    return generate_batch
