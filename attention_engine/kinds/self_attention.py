r"""Self-attention weights and output from small integer matrices.

Given $X$ (rows are tokens) and $W_Q, W_K, W_V$: $Q = XW_Q$, $K = XW_K$, $V = XW_V$,
scores $S = QK^\top/\sqrt{d_k}$, weights $A = \operatorname{softmax}(S)$ along each row,
output $O = AV$. Parts: ``scores`` (step 1), ``weights`` (step 2), ``output`` (step 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from attention_engine.generation import bmatrix, draw_verified, int_matrix, reject_options
from attention_engine.grading import grade_response
from attention_engine.kinds import _attention as att
from attention_engine.variant import Grade, Part, Step, Variant, as_array

NAME = "self_attention"
TITLE = "Self-attention: scores, weights and output"
TOPICS = ("scaled-dot-product", "softmax", "self-attention")
CODES = ("no_scaling", "scaled_by_dk", "wrong_softmax_axis", "kq_transposed")
MISCONCEPTIONS = {code: att.MISCONCEPTIONS[code] for code in CODES}

# (tokens T, d_model, d_k = d_v, |X| max, |W| max, max |raw score|)
SIZES = {
    "easy": (2, 2, 2, 2, 1, 8.0),
    "medium": (3, 3, 2, 2, 1, 10.0),
    "hard": (4, 4, 3, 2, 1, 16.0),
}


def _params(variant: Variant) -> tuple[np.ndarray, ...]:
    p = variant.params
    return tuple(as_array(p[name]) for name in ("X", "W_q", "W_k", "W_v"))


def _solution(variant: Variant) -> dict[str, np.ndarray]:
    x, w_q, w_k, w_v = _params(variant)
    return att.solve(x, x, w_q, w_k, w_v)


def _prompt(x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray) -> str:
    d_k = w_q.shape[1]
    return (
        f"A sequence of {x.shape[0]} tokens has embeddings $X$ (one token per row):\n\n"
        f"$$X = {bmatrix(x)}$$\n\n"
        f"$$W_Q = {bmatrix(w_q)}, \\quad W_K = {bmatrix(w_k)}, \\quad W_V = {bmatrix(w_v)}$$\n\n"
        f"With $Q = XW_Q$, $K = XW_K$, $V = XW_V$ and $d_k = {d_k}$, compute\n\n"
        "1. the scaled scores $S = \\dfrac{QK^\\top}{\\sqrt{d_k}}$,\n"
        "2. the attention weights $A = \\operatorname{softmax}(S)$, applied to each row,\n"
        "3. the output $O = AV$.\n\n"
        "Give every entry to at least 3 decimal places."
    )


def _steps(sol: dict[str, np.ndarray], d_k: int) -> tuple[Step, ...]:
    exps = np.exp(sol["scores"] - sol["scores"].max(axis=1, keepdims=True))
    return (
        Step("Project the tokens", "$Q = XW_Q$, $K = XW_K$, $V = XW_V$: one row per token.",
             {"Q": sol["Q"], "K": sol["K"], "V": sol["V"]}),
        Step("Raw scores", "$QK^\\top$: entry $(i, j)$ is the dot product of query $i$ with key $j$.",
             {"QK^T": sol["raw"]}),
        Step("Scale", f"Divide by $\\sqrt{{d_k}} = \\sqrt{{{d_k}}} \\approx {np.sqrt(d_k):.4f}$.",
             {"S": sol["scores"]}),
        Step("Softmax along each row",
             "Subtract each row's maximum, exponentiate, divide by the row sum; every row sums to 1.",
             {"exp(S - rowmax)": exps, "A": sol["weights"]}),
        Step("Weighted sum of values", "$O = AV$: each output row mixes the value rows with that query's weights.",
             {"O": sol["output"]}),
    )


def _build(rng: np.random.Generator, difficulty: str, seed: int) -> Variant | None:
    t, d_model, d_k, x_max, w_max, max_raw = SIZES[difficulty]
    x = int_matrix(rng, (t, d_model), -x_max, x_max)
    w_q, w_k, w_v = (int_matrix(rng, (d_model, d_k), -w_max, w_max) for _ in range(3))
    sol = att.solve(x, x, w_q, w_k, w_v)
    if not att.vetted(sol, max_raw):
        return None
    verification = att.verify_with_torch(sol)
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"X": x.astype(int), "W_q": w_q.astype(int), "W_k": w_k.astype(int), "W_v": w_v.astype(int)},
        prompt=_prompt(x, w_q, w_k, w_v),
        parts=(
            Part("scores", "Scaled scores S", (t, t), 1, att.SCORE_TOL),
            Part("weights", "Attention weights A", (t, t), 2, att.WEIGHT_TOL),
            Part("output", "Output O", (t, d_k), 3, att.SCORE_TOL),
        ),
        answer={"scores": sol["scores"], "weights": sol["weights"], "output": sol["output"]},
        steps=_steps(sol, d_k),
        verification=verification,
    )


def generate(seed: int, difficulty: str = "medium", **options: Any) -> Variant:
    """A verified self-attention problem (see the module docstring for the formulas)."""
    reject_options(NAME, options)
    return draw_verified(NAME, seed, difficulty, lambda rng: _build(rng, difficulty, seed), grade, misconception_answers)


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each catalogued wrong procedure produces for this variant."""
    return att.wrong_answers(_solution(variant), None, CODES)


def grade(variant: Variant, response: Mapping[str, Any]) -> Grade:
    """Per-cell credit; ``weights`` graded against softmax of the learner's own scores and
    ``output`` against the learner's own weights times $V$ (error carried forward)."""
    return grade_response(
        variant,
        response,
        misconceptions=MISCONCEPTIONS,
        misconception_answers=misconception_answers(variant),
        carry_forward=lambda v, learner: att.carry_forward(v, learner, None),
    )
