"""Shared arithmetic of the attention kinds (self, pipeline, causal, padding, cross).

One solver computes every intermediate on the numpy reference route, one function checks it
against ``F.scaled_dot_product_attention``, one catalogue builds each wrong procedure's answer,
and one carry-forward rule grades later parts against the learner's own earlier parts. The
kind modules choose which parts to ask for, which mistakes apply, and write the prompt.

Mask convention: boolean, True = the query may attend to the key (see ``attention_engine.ops``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.variant import Tolerance, Variant, Verification, agree, as_array, max_abs_diff

# Matrices of scores and outputs are typed to 3 decimals; weights live in [0, 1].
SCORE_TOL = Tolerance(rel=1e-2, abs=1e-2)
WEIGHT_TOL = Tolerance(rel=1e-2, abs=5e-3)
PROJ_TOL = Tolerance(rel=1e-3, abs=1e-3)  # Q, K, V are integer matrices here

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


def verify_with_torch(sol: dict[str, np.ndarray], mask: np.ndarray | None = None) -> Verification:
    """Recompute weights and output with ``F.scaled_dot_product_attention`` and compare."""
    from attention_engine import torch_ops

    output, weights = torch_ops.scaled_dot_product_attention(sol["Q"], sol["K"], sol["V"], mask=mask)
    diffs = [max_abs_diff(sol["weights"], weights), max_abs_diff(sol["output"], output)]
    return agree(("numpy-float64", "torch-sdpa"), diffs)


def _masked_softmax(scores: np.ndarray, mask: np.ndarray | None, axis: int = -1) -> np.ndarray:
    # A learner who normalises along the wrong axis writes 0 for a column with nothing in it.
    return np.nan_to_num(ops.softmax(ops.apply_mask(scores, mask), axis=axis), nan=0.0)


def wrong_answers(
    sol: dict[str, np.ndarray], mask: np.ndarray | None, codes: Iterable[str]
) -> dict[str, dict[str, np.ndarray]]:
    """``{code: {"scores", "weights", "output"}}`` for each requested wrong procedure."""
    d_k = sol["Q"].shape[-1]
    v = sol["V"]

    def from_scores(scores: np.ndarray, m: np.ndarray | None = mask, axis: int = -1) -> dict[str, np.ndarray]:
        weights = _masked_softmax(scores, m, axis)
        return {"scores": scores, "weights": weights, "output": weights @ v}

    def from_weights(weights: np.ndarray) -> dict[str, np.ndarray]:
        return {"scores": sol["scores"], "weights": weights, "output": weights @ v}

    builders = {
        "no_scaling": lambda: from_scores(sol["raw"]),
        "scaled_by_dk": lambda: from_scores(sol["raw"] / d_k),
        "wrong_softmax_axis": lambda: from_scores(sol["scores"], axis=0),
        "kq_transposed": lambda: from_scores(sol["scores"].T),
        "mask_after_softmax": lambda: from_weights(ops.softmax(sol["scores"]) * mask),
        "no_mask": lambda: from_scores(sol["scores"], m=None),
        "wrong_triangle": lambda: from_scores(sol["scores"], m=None if mask is None else mask.T),
        "masked_queries": lambda: from_scores(
            sol["scores"], m=None if mask is None else np.broadcast_to(mask[:1].T, mask.shape)
        ),
    }
    return {code: builders[code]() for code in codes}


def carry_forward(variant: Variant, learner: dict[str, np.ndarray], mask: np.ndarray | None) -> dict[str, np.ndarray]:
    """Expected later parts given the learner's own earlier ones.

    ``scores`` from the learner's ``Q``, ``K``; ``weights`` from the learner's ``scores``;
    ``output`` from the learner's ``weights`` and ``V`` (the key's ``V`` when ``V`` is not asked).
    Parts not asked for fall back to the key's values.
    """
    names = {p.name for p in variant.parts}
    params = variant.params

    def have(name: str) -> np.ndarray | None:
        if name in learner:
            return learner[name]
        if name in variant.answer:
            return variant.key(name)
        return None

    carried: dict[str, np.ndarray] = {}
    q, k = have("Q"), have("K")
    if "scores" in names and q is not None and k is not None and q.shape[-1] == k.shape[-1]:
        carried["scores"] = ops.attention_scores(q, k)
    scores = have("scores")
    if "weights" in names and scores is not None:
        carried["weights"] = _masked_softmax(scores, mask)
    weights = have("weights")
    v = have("V")
    if v is None:
        v = np.asarray(params["X_kv" if "X_kv" in params else "X"], dtype=np.float64) @ as_array(params["W_v"])
    if "output" in names and weights is not None and weights.shape[-1] == v.shape[0]:
        carried["output"] = weights @ v
    return carried


def vetted(sol: dict[str, np.ndarray], max_raw: float, min_spread: float = 0.3, max_weight: float = 0.97) -> bool:
    """Reject draws a person cannot reasonably work with, or whose rows are degenerate.

    * raw scores within ``max_raw`` (exponentials of a handful, not of 40);
    * no all-zero row in ``Q`` or ``K`` and no all-zero column in ``V`` (a zero query gives uniform
      weights whatever the keys: nothing to learn);
    * every query's scores spread by at least ``min_spread`` (a constant row is uniform too);
    * no query puts more than ``max_weight`` on one key (a one-hot row hides the softmax);
    * no two keys identical (ties between keys make "which key wins" meaningless).
    """
    if np.max(np.abs(sol["raw"])) > max_raw:
        return False
    if np.any(np.all(sol["Q"] == 0, axis=1)) or np.any(np.all(sol["K"] == 0, axis=1)):
        return False
    if np.any(np.all(sol["V"] == 0, axis=0)):
        return False
    spread = sol["scores"].max(axis=1) - sol["scores"].min(axis=1)
    if np.any(spread < min_spread) or np.nanmax(sol["weights"]) > max_weight:
        return False
    k = sol["K"]
    return len({tuple(row) for row in k.tolist()}) == k.shape[0]


def masked_for_display(scores: np.ndarray, mask: np.ndarray | None) -> list[list[Any]]:
    """Scores with masked entries as the string ``"-inf"`` (JSON has no infinity)."""
    if mask is None:
        return scores.tolist()
    return [[float(s) if keep else "-inf" for s, keep in zip(row, mrow, strict=True)] for row, mrow in zip(scores, mask, strict=True)]
