"""The single-head attention kinds, many seeds at once: the same variants as ``generate``, faster.

Each seed still draws from its own generator in the order ``generate`` draws (a rejected draw
is redrawn from that seed's generator alone), and every draw is solved and vetted on the same
float64 reference route, so a seed gives the same bytes either way. Two things change:

* **Mistake vetting without grading, stacked.** ``check_misconceptions_distinct`` grades about
  ten answers per draw; ``attention_engine.vetting`` decides the same from one match table
  (the key and each mistake's answer, as computed and rounded to the 3 decimals asked, against
  the key and each mistake), here for the whole round's draws at once. What the table cannot
  tell is left to the grading check itself.
* **One torch call per chunk.** The vetted draws' ``Q, K, V`` are stacked into ``(B, T, d)``
  and checked by one ``F.scaled_dot_product_attention`` (``verify_with_torch``'s route).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from attention_engine import vetting
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


def mistakes_distinct_each(
    parts: Sequence[Part], key: dict[str, np.ndarray], wrong: dict[str, dict[str, np.ndarray]]
) -> list[bool | None]:
    """``vetting.mistakes_distinct_each`` at the precision every attention prompt states (3
    decimal places): ``check_misconceptions_distinct`` for B attention variants at once,
    ``None`` where only grading can tell."""
    return vetting.mistakes_distinct_each(parts, key, wrong, {part.name: att.STATED for part in parts})


def _stack(spec: att.AttentionKind, draws: Sequence[tuple[dict[str, Any], np.ndarray | None]]) -> tuple[np.ndarray, ...]:
    """The draws' inputs stacked: ``X_q (B, T_q, d_model), X_kv (B, T_k, d_kv), W_q, W_k, W_v``."""
    # What ``att._inputs`` gives for each draw, stacked as integers and converted once.
    names = ("X_dec", "X_enc") if spec.cross else ("X", "X")
    stacked = {name: np.stack([params[name] for params, _ in draws]).astype(np.float64)
               for name in (*names, "W_q", "W_k", "W_v")}
    return tuple(stacked[name] for name in (*names, "W_q", "W_k", "W_v"))


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
