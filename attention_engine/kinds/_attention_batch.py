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
    """Every cell rounded as ``att.STATED.round`` does (Python's correctly rounded ``round``).

    ``rint(x * 10^p) / 10^p`` is the same double wherever ``x * 10^p`` is not within a hair of
    a half (the same integer, then one correctly rounded division); the cells near a half, or
    too large for that argument, are rounded by ``round`` itself.
    """
    places = att.STATED.decimals
    scale = 10.0**places
    scaled = values * scale
    out = np.rint(scaled) / scale
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    unsure = np.flatnonzero(near_half | ~(np.abs(scaled) < 2.0**40))
    if len(unsure):
        flat = out.reshape(-1)
        flat[unsure] = [round(v, places) for v in values.reshape(-1)[unsure].tolist()]
    return out


def mistakes_distinct_each(
    parts: Sequence[Part], key: dict[str, np.ndarray], wrong: dict[str, dict[str, np.ndarray]]
) -> list[bool | None]:
    """``check_misconceptions_distinct`` for B attention variants at once, decided from the
    match table (see the module docstring); ``None`` where only grading can tell.

    ``key`` maps each part to its keys stacked ``(B, *shape)``; ``wrong`` each mistake, in
    catalogue order, to its answers stacked the same way.
    """
    refs = [key, *wrong.values()]  # reference 0 is the key, then the catalogue in order
    typed = [key, *({**key, **answer} for answer in wrong.values())]  # typed answer i is reference i's
    n_refs = len(refs)
    n = len(next(iter(key.values())))
    match = np.empty((len(parts), n, 2 * n_refs, n_refs), dtype=bool)  # (part, B, typed, reference)
    finite = np.ones(n, dtype=bool)
    for j, part in enumerate(parts):
        given = np.stack([t[part.name] for t in typed], axis=1)  # (B, R, *shape)
        given = np.concatenate([given, _round_cells(given)], axis=1)  # (B, 2R, *shape): as computed, rounded
        finite &= np.isfinite(given).reshape(n, -1).all(axis=-1)
        present = np.array([part.name in r for r in refs])
        expected = np.stack([r[part.name] if part.name in r else np.zeros_like(key[part.name]) for r in refs],
                            axis=1)[:, None]  # (B, 1, R, *shape)
        tol = part.tolerance
        cells = np.abs(given[:, :, None] - expected) <= tol.abs + tol.rel * np.abs(expected)  # (B, 2R, R, *shape)
        match[j] = cells.reshape(n, 2 * n_refs, n_refs, -1).all(axis=-1) & present
    key_right = match[:, :, 0, 0].all(axis=0) & match[:, :, n_refs, 0].all(axis=0)  # (B,)
    off_key = ~match[:, :, :, 0]  # (part, B, typed): the parts each typed answer gets wrong
    named = np.all(match[:, :, :, 1:] | ~off_key[..., None], axis=0)  # (B, typed, mistake): matches every part it gets wrong
    distinct = np.ones(n, dtype=bool)
    for i in range(1, n_refs):
        for row in (i, n_refs + i):
            # graded as wrong, and named as mistake i: it matches i and no earlier mistake
            distinct &= off_key[:, :, row].any(axis=0) & named[:, row, i - 1] & ~named[:, row, : i - 1].any(axis=-1)
    return [bool(d) if ok else None for d, ok in zip(distinct, finite & key_right, strict=True)]


def _stack(spec: att.AttentionKind, draws: Sequence[tuple[dict[str, Any], np.ndarray | None]]) -> tuple[np.ndarray, ...]:
    """The draws' inputs stacked: ``X_q (B, T_q, d_model), X_kv (B, T_k, d_kv), W_q, W_k, W_v``."""
    inputs = [att._inputs(spec, params) for params, _ in draws]
    return tuple(np.stack(column) for column in zip(*inputs, strict=True))


def _vetted_draws(spec: att.AttentionKind, seeds: Sequence[int], difficulty: str, grade: Callable[..., Grade]) -> list[Draw]:
    """For each seed, the draw ``generate`` accepts: the same generator, the same order.

    Round by round, every seed still looking draws once; the round's draws are solved and
    vetted as one stack ``(B, ...)``, their mistakes built and compared as one stack, and the
    seeds whose draw passed drop out.
    """
    s = spec.sizes[difficulty]
    rngs = [make_rng(spec.name, seed, difficulty) for seed in seeds]
    accepted: list[Draw | None] = [None] * len(seeds)
    looking = list(range(len(seeds)))
    for _ in range(MAX_ATTEMPTS):
        if not looking:
            break
        draws = [att.draw(spec, rngs[i], s) for i in looking]
        masks = None if spec.draw_mask is None else np.stack([mask for _, mask in draws])  # (B, T_q, T_k)
        sol = att.solve(*_stack(spec, draws), mask=masks)  # every value (B, ...)
        passed = np.flatnonzero(att.vetted_each(sol, s.max_raw, masks))
        if len(passed):
            sol_p = {name: value[passed] for name, value in sol.items()}
            masks_p = None if masks is None else masks[passed]
            wrong = att.wrong_answers(sol_p, masks_p, spec.codes)
            wrong = {code: {n: a[n] for n in spec.parts if n in a} for code, a in wrong.items()}
            key = {n: sol_p[n] for n in spec.parts}
            parts = att._parts(spec, {n: sol_p[n][0] for n in spec.parts})
            for b, distinct in enumerate(mistakes_distinct_each(parts, key, wrong)):
                j = passed[b]
                params, mask = draws[j]
                one = {name: value[b] for name, value in sol_p.items()}
                if distinct is None:  # only grading can tell: ask it, on the variant generate would build
                    seed = seeds[looking[j]]
                    variant = att.assemble(spec, seed, difficulty, params, mask, one, Verification((), 0.0))
                    wrong_one = {code: {n: a[b] for n, a in answer.items()} for code, answer in wrong.items()}
                    distinct = check_misconceptions_distinct(variant, grade, wrong_one, att.stated_precision(variant))
                if distinct:
                    accepted[looking[j]] = (params, mask, one)
        looking = [i for i in looking if accepted[i] is None]
    if looking:
        seed = seeds[looking[0]]
        raise GenerationError(f"{spec.name}: no acceptable variant for seed {seed} ({difficulty}) in {MAX_ATTEMPTS} draws")
    return accepted  # type: ignore[return-value]


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
        if not seeds:
            return []
        draws = _vetted_draws(spec, seeds, difficulty, grade)
        checks = verify_batch(spec, [sol for _, _, sol in draws], [mask for _, mask, _ in draws])
        return [
            att.assemble(spec, seed, difficulty, params, mask, sol, check)
            for seed, (params, mask, sol), check in zip(seeds, draws, checks, strict=True)
        ]

    return generate_batch
