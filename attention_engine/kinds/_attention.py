"""Shared machinery of the single-head attention kinds (self, pipeline, causal, padding, cross).

One solver computes every intermediate on the numpy reference route, one function checks it
against ``F.scaled_dot_product_attention``, one catalogue builds each wrong procedure's answer,
and one carry-forward rule grades later parts against the learner's own earlier parts. A kind
module describes itself with an ``AttentionKind`` (sizes, parts asked, mistakes that apply,
mask, prompt wording) and delegates ``generate`` / ``grade`` / ``misconception_answers`` here.

Mask convention: boolean, True = the query may attend to the key (see ``attention_engine.ops``).

Part weights (``WEIGHT_OF``), for every attention kind: the output 3, the attention weights 2,
the projections Q, K, V and the scores 1 each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from attention_engine import generation, ops
from attention_engine.generation import bmatrix, int_matrices
from attention_engine.precision import Precision, decimals
from attention_engine.variant import (
    Grade,
    Part,
    Step,
    Tolerance,
    Variant,
    Verification,
    agree,
    as_array,
    max_abs_diff,
)

# Scores and outputs are typed to 3 decimals; weights live in [0, 1]; Q, K, V are integers.
# The prompt asks for every entry to at least 3 decimal places.
STATED = decimals(3)
SCORE_TOL = Tolerance(rel=1e-2, abs=1e-2)
WEIGHT_TOL = Tolerance(rel=1e-2, abs=5e-3)
PROJ_TOL = Tolerance(rel=1e-3, abs=1e-3)

MISCONCEPTIONS: dict[str, str] = {
    "no_scaling": (
        "You used the raw scores $QK^\\top$ without dividing by $\\sqrt{d_k}$. The scaling keeps the "
        "variance of the scores near 1 so the softmax does not saturate."
    ),
    "scaled_by_dk": (
        "You divided the scores by $d_k$ instead of $\\sqrt{d_k}$. The dot product of two vectors with "
        "unit-variance entries has variance $d_k$, so its standard deviation is $\\sqrt{d_k}$."
    ),
    "wrong_softmax_axis": (
        "You applied the softmax down each column (over queries) instead of along each row (over "
        "keys). Each query's weights over the keys must sum to 1."
    ),
    "kq_transposed": (
        "You computed $KQ^\\top$ instead of $QK^\\top$: row $i$ of the scores must belong to query $i$, "
        "so the matrix you used is the transpose of the right one."
    ),
    "mask_after_softmax": (
        "You zeroed the masked weights after the softmax without renormalising, so the rows no longer "
        "sum to 1. Mask the scores (set them to $-\\infty$) before the softmax."
    ),
    "no_mask": "You ignored the mask: the masked positions must get weight exactly 0.",
    "wrong_triangle": (
        "You masked the wrong triangle: a causal mask lets query $i$ see keys $j \\le i$ (the past), "
        "not $j \\ge i$ (the future)."
    ),
    "masked_queries": (
        "You masked the padded positions as queries (rows) instead of as keys (columns): padding "
        "must not be attended to, so it is the key columns that get weight 0."
    ),
}

PART_SPECS: dict[str, tuple[str, Tolerance]] = {
    "Q": ("Queries Q", PROJ_TOL),
    "K": ("Keys K", PROJ_TOL),
    "V": ("Values V", PROJ_TOL),
    "scores": ("Scaled scores S", SCORE_TOL),
    "weights": ("Attention weights A", WEIGHT_TOL),
    "output": ("Output O", SCORE_TOL),
}
STEP_OF = {"Q": 1, "K": 1, "V": 1, "scores": 2, "weights": 3, "output": 4}
# Weights in the score: the output 3, the attention weights 2, the projections and scores 1.
WEIGHT_OF = {"Q": 1.0, "K": 1.0, "V": 1.0, "scores": 1.0, "weights": 2.0, "output": 3.0}


@dataclass(frozen=True)
class Sizes:
    """Sizes and number ranges for one difficulty. ``d_kv`` is the width of the key/value
    source (the encoder in cross-attention; ``d_model`` otherwise)."""

    t_q: int
    t_kv: int
    d_model: int
    d_k: int
    x_max: int
    w_max: int
    max_raw: float
    d_kv: int | None = None


# The masked kinds use one more token than plain self-attention: a mask on 2 tokens leaves
# almost nothing to compute.
MASKED_SIZES = {
    "easy": Sizes(t_q=3, t_kv=3, d_model=2, d_k=2, x_max=2, w_max=1, max_raw=8.0),
    "medium": Sizes(t_q=4, t_kv=4, d_model=3, d_k=2, x_max=2, w_max=1, max_raw=10.0),
    "hard": Sizes(t_q=5, t_kv=5, d_model=3, d_k=3, x_max=2, w_max=1, max_raw=12.0),
}


@dataclass(frozen=True)
class AttentionKind:
    """Everything that differs between the attention kinds.

    ``draw_mask(rng, sizes)`` returns ``(mask, extra_params)`` or ``None`` for no mask;
    ``mask_from_params(params)`` rebuilds the mask from a stored variant; ``task`` is the
    prompt paragraph after the matrices.
    """

    name: str
    parts: tuple[str, ...]
    codes: tuple[str, ...]
    sizes: Mapping[str, Sizes]
    task: Callable[[dict[str, Any]], str]
    cross: bool = False
    draw_mask: Callable[[np.random.Generator, Sizes], tuple[np.ndarray, dict[str, Any]]] | None = None
    mask_from_params: Callable[[dict[str, Any]], np.ndarray] | None = None
    causal: bool = False

    @property
    def misconceptions(self) -> dict[str, str]:
        return {code: MISCONCEPTIONS[code] for code in self.codes}


# ----------------------------------------------------------------------------- arithmetic


def solve(
    x_q: np.ndarray, x_kv: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray, mask: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    r"""Every intermediate of single-head attention on the reference route.

    $Q = X_q W_Q,\ K = X_{kv} W_K,\ V = X_{kv} W_V,\ S = QK^\top/\sqrt{d_k},\
    A = \operatorname{softmax}_{\text{row}}(\operatorname{mask}(S)),\ O = AV$
    """
    q = np.asarray(x_q, dtype=np.float64) @ np.asarray(w_q, dtype=np.float64)  # (T_q, d_k)
    k = np.asarray(x_kv, dtype=np.float64) @ np.asarray(w_k, dtype=np.float64)  # (T_k, d_k)
    v = np.asarray(x_kv, dtype=np.float64) @ np.asarray(w_v, dtype=np.float64)  # (T_k, d_v)
    raw = ops.attention_scores(q, k, scale=1.0)  # (T_q, T_k)
    scores = ops.attention_scores(q, k)  # (T_q, T_k)
    output, weights = ops.scaled_dot_product_attention(q, k, v, mask=mask)
    return {"Q": q, "K": k, "V": v, "raw": raw, "scores": scores, "weights": weights, "output": output}


def verify_with_torch(sol: dict[str, np.ndarray], mask: np.ndarray | None = None, causal: bool = False) -> Verification:
    """Recompute weights and output with ``F.scaled_dot_product_attention`` and compare.

    For a causal mask SDPA builds the mask itself (``is_causal=True``), so our mask is checked
    too, not only the arithmetic after it.
    """
    from attention_engine import torch_ops

    if causal:
        output, weights = torch_ops.scaled_dot_product_attention(sol["Q"], sol["K"], sol["V"], is_causal=True)
        route = "torch-sdpa-is_causal"
    else:
        output, weights = torch_ops.scaled_dot_product_attention(sol["Q"], sol["K"], sol["V"], mask=mask)
        route = "torch-sdpa"
    diffs = [max_abs_diff(sol["weights"], weights), max_abs_diff(sol["output"], output)]
    return agree(("numpy-float64", route), diffs)


def _masked_softmax(scores: np.ndarray, mask: np.ndarray | None, axis: int = -1) -> np.ndarray:
    # A learner normalising along the wrong axis writes 0 for a column with nothing in it.
    return np.nan_to_num(ops.softmax(ops.apply_mask(scores, mask), axis=axis), nan=0.0)


def wrong_answers(
    sol: dict[str, np.ndarray], mask: np.ndarray | None, codes: Iterable[str]
) -> dict[str, dict[str, np.ndarray]]:
    """``{code: {"scores", "weights", "output"}}`` for each requested wrong procedure.

    Like ``ops``, works on any leading batch dimensions (``sol`` and ``mask`` stacked over
    variants); "the transpose" and "down the columns" mean the last two axes.
    """
    d_k = sol["Q"].shape[-1]
    v = sol["V"]

    def from_scores(scores: np.ndarray, m: np.ndarray | None = mask, axis: int = -1) -> dict[str, np.ndarray]:
        weights = _masked_softmax(scores, m, axis)
        return {"scores": scores, "weights": weights, "output": weights @ v}

    def query_mask() -> np.ndarray | None:
        # valid keys of a padded sequence, applied to the query rows instead
        return None if mask is None else np.broadcast_to(np.swapaxes(mask[..., :1, :], -1, -2), mask.shape)

    builders = {
        "no_scaling": lambda: from_scores(sol["raw"]),
        "scaled_by_dk": lambda: from_scores(sol["raw"] / d_k),
        "wrong_softmax_axis": lambda: from_scores(sol["scores"], axis=-2),
        "kq_transposed": lambda: from_scores(np.swapaxes(sol["scores"], -1, -2)),
        "mask_after_softmax": lambda: {
            "scores": sol["scores"],
            "weights": ops.softmax(sol["scores"]) * mask,
            "output": (ops.softmax(sol["scores"]) * mask) @ v,
        },
        "no_mask": lambda: from_scores(sol["scores"], m=None),
        "wrong_triangle": lambda: from_scores(sol["scores"], m=None if mask is None else np.swapaxes(mask, -1, -2)),
        "masked_queries": lambda: from_scores(sol["scores"], m=query_mask()),
    }
    return {code: builders[code]() for code in codes}


def carry_forward(
    variant: Variant, learner: dict[str, np.ndarray], mask: np.ndarray | None, sol: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Expected later parts given the learner's own earlier ones.

    ``scores`` from the learner's ``Q``, ``K``; ``weights`` from the learner's ``scores``;
    ``output`` from the learner's ``weights`` and ``V``. A part the problem does not ask for
    is taken from the key.
    """
    return carried_parts({p.name for p in variant.parts}, learner, mask, sol)


def carried_parts(
    asked: set[str], learner: dict[str, np.ndarray], mask: np.ndarray | None, sol: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``carry_forward`` for the parts ``asked``; on one variant or on stacks ``(N, ...)`` of them
    (``attention_engine.grade_batch``): the value rows are counted on ``V``'s second-last axis."""

    def have(name: str) -> np.ndarray:
        return learner[name] if name in learner else sol[name]

    carried: dict[str, np.ndarray] = {}
    q, k = have("Q"), have("K")
    if "scores" in asked and q.shape[-1] == k.shape[-1]:
        carried["scores"] = ops.attention_scores(q, k)
    if "weights" in asked:
        carried["weights"] = _masked_softmax(have("scores"), mask)
    weights, v = have("weights"), have("V")
    if "output" in asked and weights.shape[-1] == v.shape[-2]:
        carried["output"] = weights @ v
    return carried


def vetted(
    sol: dict[str, np.ndarray],
    max_raw: float,
    mask: np.ndarray | None = None,
    min_spread: float = 0.3,
    max_weight: float = 0.97,
) -> bool:
    """Reject draws a person cannot reasonably work with, or whose rows are degenerate.

    * raw scores within ``max_raw`` (exponentials of a handful, not of 40);
    * no all-zero row in ``Q`` or ``K`` and no all-zero column in ``V`` (a zero query gives uniform
      weights whatever the keys: nothing to learn);
    * over the keys each query may see (when it sees two or more): scores spread by at least
      ``min_spread`` (a constant row is uniform too) and no weight above ``max_weight`` (a
      one-hot row hides the softmax);
    * no two keys identical (ties between keys make "which key wins" meaningless).
    """
    return bool(vetted_each(sol, max_raw, mask, min_spread, max_weight))


def vetted_each(
    sol: dict[str, np.ndarray],
    max_raw: float,
    mask: np.ndarray | None = None,
    min_spread: float = 0.3,
    max_weight: float = 0.97,
) -> np.ndarray:
    """``vetted`` for solutions stacked over leading batch dimensions: a boolean per solution."""
    q, k, v = sol["Q"], sol["K"], sol["V"]  # (..., T_q, d_k), (..., T_k, d_k), (..., T_k, d_v)
    ok = np.max(np.abs(sol["raw"]), axis=(-2, -1)) <= max_raw
    ok &= ~np.any(np.all(q == 0, axis=-1), axis=-1) & ~np.any(np.all(k == 0, axis=-1), axis=-1)
    ok &= ~np.any(np.all(v == 0, axis=-2), axis=-1)
    scores, weights = sol["scores"], sol["weights"]  # (..., T_q, T_k)
    keep = np.ones(scores.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask, dtype=bool), scores.shape)
    spread = np.max(np.where(keep, scores, -np.inf), axis=-1) - np.min(np.where(keep, scores, np.inf), axis=-1)
    peak = np.max(np.where(keep, weights, -np.inf), axis=-1)  # (..., T_q)
    flat = (spread < min_spread) | (peak > max_weight)
    ok &= ~np.any((keep.sum(axis=-1) >= 2) & flat, axis=-1)
    same_key = np.all(k[..., :, None, :] == k[..., None, :, :], axis=-1)  # (..., T_k, T_k)
    return ok & ~np.any(np.triu(same_key, 1), axis=(-2, -1))


def masked_for_display(scores: np.ndarray, mask: np.ndarray | None) -> list[list[Any]]:
    """Scores with masked entries as the string ``"-inf"`` (JSON has no infinity)."""
    if mask is None:
        return scores.tolist()
    return [
        [float(s) if keep else "-inf" for s, keep in zip(row, mrow, strict=True)]
        for row, mrow in zip(scores, mask, strict=True)
    ]


# ----------------------------------------------------------------------------- kind plumbing


def _inputs(spec: AttentionKind, params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    if spec.cross:
        x_q, x_kv = as_array(params["X_dec"]), as_array(params["X_enc"])
    else:
        x_q = x_kv = as_array(params["X"])
    return x_q, x_kv, as_array(params["W_q"]), as_array(params["W_k"]), as_array(params["W_v"])


def mask_of(spec: AttentionKind, params: Mapping[str, Any]) -> np.ndarray | None:
    return None if spec.mask_from_params is None else spec.mask_from_params(dict(params))


def solution(spec: AttentionKind, variant: Variant) -> dict[str, np.ndarray]:
    return solve(*_inputs(spec, variant.params), mask=mask_of(spec, variant.params))


def _prompt(spec: AttentionKind, params: dict[str, Any]) -> str:
    w = f"$$W_Q = {bmatrix(params['W_q'])}, \\quad W_K = {bmatrix(params['W_k'])}, \\quad W_V = {bmatrix(params['W_v'])}$$"
    if spec.cross:
        x = (
            f"A decoder sequence of {len(params['X_dec'])} tokens attends to an encoder sequence of "
            f"{len(params['X_enc'])} tokens (one token per row):\n\n"
            f"$$X_{{dec}} = {bmatrix(params['X_dec'])}, \\quad X_{{enc}} = {bmatrix(params['X_enc'])}$$"
        )
    else:
        x = f"A sequence of {len(params['X'])} tokens has embeddings $X$ (one token per row):\n\n$$X = {bmatrix(params['X'])}$$"
    return f"{x}\n\n{w}\n\n{spec.task(params)}\n\nGive every entry to at least 3 decimal places."


def _steps(spec: AttentionKind, sol: dict[str, np.ndarray], mask: np.ndarray | None) -> tuple[Step, ...]:
    d_k = sol["Q"].shape[1]
    source = "X_{enc}" if spec.cross else "X"
    query_source = "X_{dec}" if spec.cross else "X"
    masked = ops.apply_mask(sol["scores"], mask)
    exps = np.nan_to_num(np.exp(masked - masked.max(axis=1, keepdims=True)), nan=0.0)
    steps = [
        Step("Project the tokens", f"$Q = {query_source}W_Q$, $K = {source}W_K$, $V = {source}W_V$: one row per token.",
             {"Q": sol["Q"], "K": sol["K"], "V": sol["V"]}),
        Step("Raw scores", "$QK^\\top$: entry $(i, j)$ is the dot product of query $i$ with key $j$.",
             {"QK^T": sol["raw"]}),
        Step("Scale", f"Divide by $\\sqrt{{d_k}} = \\sqrt{{{d_k}}} \\approx {np.sqrt(d_k):.4f}$.", {"S": sol["scores"]}),
    ]
    if mask is not None:
        steps.append(Step("Mask", "Set every score a query may not see to $-\\infty$ *before* the softmax, so its "
                          "weight becomes $e^{-\\infty} = 0$.",
                          {"mask (1 = may attend)": mask.astype(int), "masked S": masked_for_display(sol["scores"], mask)}))
    steps += [
        Step("Softmax along each row",
             "Subtract each row's maximum, exponentiate, divide by the row sum; every row sums to 1.",
             {"exp(S - rowmax)": exps, "A": sol["weights"]}),
        Step("Weighted sum of values", "$O = AV$: each output row mixes the value rows with that query's weights.",
             {"O": sol["output"]}),
    ]
    return tuple(steps)


def _parts(spec: AttentionKind, sol: dict[str, np.ndarray]) -> tuple[Part, ...]:
    first = min(STEP_OF[n] for n in spec.parts)
    return tuple(
        Part(n, PART_SPECS[n][0], tuple(sol[n].shape), STEP_OF[n] - first + 1, PART_SPECS[n][1], WEIGHT_OF[n])
        for n in spec.parts
    )


def draw(spec: AttentionKind, rng: np.random.Generator, s: Sizes) -> tuple[dict[str, Any], np.ndarray | None]:
    """One draw of the inputs (and mask) from ``rng``: ``(params, mask)``."""
    d_kv = s.d_kv or s.d_model
    params: dict[str, Any] = {}
    # Tokens, then the three weight matrices, each group in one call (see ``int_matrices``).
    if spec.cross:
        params["X_dec"], params["X_enc"] = int_matrices(rng, ((s.t_q, s.d_model), (s.t_kv, d_kv)), -s.x_max, s.x_max)
    else:
        (params["X"],) = int_matrices(rng, ((s.t_q, s.d_model),), -s.x_max, s.x_max)
    params["W_q"], params["W_k"], params["W_v"] = int_matrices(
        rng, ((s.d_model, s.d_k), (d_kv, s.d_k), (d_kv, s.d_k)), -s.w_max, s.w_max
    )
    mask = None
    if spec.draw_mask is not None:
        mask, extra = spec.draw_mask(rng, s)
        params.update(extra)
    return params, mask


def assemble(
    spec: AttentionKind, seed: int, difficulty: str, params: dict[str, Any], mask: np.ndarray | None,
    sol: dict[str, np.ndarray], verification: Verification,
) -> Variant:
    """The variant of a vetted draw whose key the torch route has confirmed."""
    return Variant(
        kind=spec.name,
        seed=seed,
        difficulty=difficulty,
        params=params,
        prompt=_prompt(spec, params),
        parts=_parts(spec, sol),
        answer={n: sol[n] for n in spec.parts},
        steps=_steps(spec, sol, mask),
        verification=verification,
    )


def _build(spec: AttentionKind, rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    s = spec.sizes[difficulty]
    params, mask = draw(spec, rng, s)
    sol = solve(*_inputs(spec, params), mask=mask)
    if not vetted(sol, s.max_raw, mask):
        return None
    return assemble(spec, seed, difficulty, params, mask, sol, verify_with_torch(sol, mask, causal=spec.causal))


def misconception_answers(spec: AttentionKind, variant: Variant) -> dict[str, dict[str, Any]]:
    """Each applicable wrong procedure's answer, restricted to the parts the kind asks for."""
    wrong = wrong_answers(solution(spec, variant), mask_of(spec, variant.params), spec.codes)
    return {code: {n: a[n] for n in spec.parts if n in a} for code, a in wrong.items()}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """What the prompt asks: every entry to at least 3 decimal places."""
    return {p.name: STATED for p in variant.parts}


def _carry_forward(spec: AttentionKind, variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return carry_forward(variant, learner, mask_of(spec, variant.params), solution(spec, variant))


def kind_functions(
    spec: AttentionKind,
) -> tuple[Callable[..., Variant], Callable[[Variant, Mapping[str, Any]], Grade], Callable[[Variant], dict[str, dict[str, Any]]]]:
    """The ``generate``, ``grade`` and ``misconception_answers`` of a kind module built on ``spec``."""

    def answers(variant: Variant) -> dict[str, dict[str, Any]]:
        """The full answer each catalogued wrong procedure produces for this variant."""
        return misconception_answers(spec, variant)

    generate, grade = generation.kind_functions(
        spec.name,
        lambda rng, seed, difficulty: _build(spec, rng, seed, difficulty),
        answers,
        spec.misconceptions,
        carry_forward=lambda v, learner: _carry_forward(spec, v, learner),
        precision=stated_precision,
    )
    return generate, grade, answers
