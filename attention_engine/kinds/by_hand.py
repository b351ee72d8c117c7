r"""Self-attention by hand, with integer-friendly approximations (after Tom Yeh's "AI by Hand").

Tokens are **columns** here, as in the by-hand worksheets: $X$ is $d_{model} \times T$ and

$$Q = W_Q X,\quad K = W_K X,\quad V = W_V X,\quad S = K^\top Q,\quad
  \tilde S = \left\lfloor S/2 \right\rfloor,\quad E = 3^{\tilde S},\quad
  A_{ij} = \frac{E_{ij}}{\sum_{i'} E_{i'j}},\quad Z = VA$$

Column $j$ of $S$ holds query $j$'s scores against every key, so the softmax normalises each
**column**; $S$ is the paper's $QK^\top$ transposed (tokens as rows there, as columns here).
Two approximations keep it exact and pencil-friendly: $\sqrt{d_k} \approx 2$ applied as
$\lfloor x/2 \rfloor$, with $d_k = 3$ at every difficulty (so $2 \approx \sqrt 3$ is the
approximation it claims to be, and not "divide by $d_k$", a mistake other kinds name), and
$e \approx 3$. All arithmetic is then exact: the keys of
``weights`` and ``output`` are ``fractions.Fraction`` values, stored as strings like ``"27/40"``
(typed answers may be fractions or decimals within 0.001). The second route recomputes
everything in float64 numpy and must agree with the exact one.

Besides the mistakes, the catalogue names three habits that give other numbers: the paper's
row layout carried over to the output ($Z = VA^\top$), the exact $e^x$ instead of $3^x$, and
weights rounded to one decimal before $Z$ is formed.

Weights: the output $Z$ weighs 3, the weights $A$ 2, every earlier step 1.
"""

from __future__ import annotations

import functools
import json
import math
from fractions import Fraction
from typing import Any

import numpy as np

from attention_engine.generation import bmatrix, int_matrices, int_matrix, kind_functions
from attention_engine.precision import EXACT_NUMBER, Precision, decimals
from attention_engine.variant import (
    EXACT,
    Part,
    Step,
    Tolerance,
    Variant,
    agree,
    as_array,
    max_abs_diff,
    to_jsonable,
)

NAME = "by_hand"
TITLE = "Attention by hand: 3^x and floor(x/2)"
TOPICS = ("scaled-dot-product", "softmax", "self-attention", "by-hand")
FRACTION_TOL = Tolerance(rel=0.0, abs=1e-3)

MISCONCEPTIONS = {
    "row_normalised": (
        "You normalised each row. With tokens as columns, column $j$ of $K^\\top Q$ holds query $j$'s "
        "scores, so each *column* must sum to 1."
    ),
    "q_k_swapped": (
        "You computed $Q^\\top K$ instead of $K^\\top Q$; that transposes the scores, so each column "
        "would belong to a key instead of a query."
    ),
    "truncated_toward_zero": (
        "You rounded $x/2$ toward zero: $\\lfloor x/2 \\rfloor$ rounds *down*, so "
        "$\\lfloor -3/2 \\rfloor = -2$, not $-1$."
    ),
    "no_scaling": "You skipped the scaling step $\\lfloor x/2 \\rfloor$ (our stand-in for dividing by $\\sqrt{d_k}$).",
    "output_v_a_transposed": (
        "You formed $Z = VA^\\top$, the paper's row layout: here tokens are columns and column $j$ of "
        "$A$ holds query $j$'s weights, so $Z = VA$ (column $j$ of $Z$ mixes the value columns with them)."
    ),
    "exact_exp": (
        "You used $e^s$; this worksheet replaces $e^s$ by $3^s$ so the weights stay exact fractions. "
        "Your arithmetic follows the real softmax, but the question asks for the $3^s$ version."
    ),
    "weights_rounded": (
        "You rounded the weights to one decimal before computing $Z$: keep them exact (fractions), or "
        "the rounding error passes into every output entry."
    ),
}

# (d_model, tokens T, d_k, X range, W range, max |scaled|)
SIZES = {
    "easy": (3, 3, 3, (0, 2), (-1, 1), 2),
    "medium": (3, 4, 3, (-1, 2), (-1, 1), 2),
    "hard": (4, 4, 3, (-1, 2), (-1, 1), 3),
}

Matrix = list[list[Any]]


def _pow3(n: int) -> Fraction:
    return Fraction(3) ** int(n)


def integer_steps(x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray,
                  transpose_scores: bool = False, halve: str = "floor") -> dict[str, np.ndarray]:
    """Projections, scores and scaled scores: integers all the way.

    ``transpose_scores`` and ``halve`` (``"floor"`` | ``"trunc"`` | ``"none"``) reproduce the
    catalogued mistakes.
    """
    xi = x.astype(np.int64)
    q, k, v = w_q.astype(np.int64) @ xi, w_k.astype(np.int64) @ xi, w_v.astype(np.int64) @ xi  # (d_k, T)
    scores = k.T @ q  # (T, T): column j = query j
    if transpose_scores:
        scores = scores.T
    if halve == "floor":
        scaled = np.floor_divide(scores, 2)
    elif halve == "trunc":
        scaled = np.trunc(scores / 2).astype(np.int64)
    else:
        scaled = scores.copy()
    return {"Q": q, "K": k, "V": v, "scores": scores, "scaled": scaled}


def exact_route(x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray,
                transpose_scores: bool = False, halve: str = "floor", axis: int = 0) -> dict[str, Any]:
    """The worksheet in exact integer / ``Fraction`` arithmetic (``axis`` 0 = columns, the right one)."""
    route: dict[str, Any] = integer_steps(x, w_q, w_k, w_v, transpose_scores, halve)
    e = [[_pow3(s) for s in row] for row in route["scaled"].tolist()]
    t = len(e)
    if axis == 0:
        sums = [sum(e[i][j] for i in range(t)) for j in range(t)]
        weights = [[e[i][j] / sums[j] for j in range(t)] for i in range(t)]
    else:
        sums = [sum(row) for row in e]
        weights = [[e[i][j] / sums[i] for j in range(t)] for i in range(t)]
    v = route["V"].tolist()
    output = [[sum(v[r][i] * weights[i][j] for i in range(t)) for j in range(t)] for r in range(len(v))]
    route.update(exps=e, sums=sums, weights=weights, output=output)
    return route


def float_route(x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray) -> dict[str, np.ndarray]:
    """The same worksheet in float64, written independently (no Fractions, no integer types)."""
    q, k, v = w_q @ x, w_k @ x, w_v @ x
    scaled = np.floor((k.T @ q) / 2.0)
    e = 3.0 ** scaled
    weights = e / e.sum(axis=0, keepdims=True)
    return {"weights": weights, "output": v @ weights}


def _params(variant: Variant) -> tuple[np.ndarray, ...]:
    return tuple(as_array(variant.params[n]) for n in ("X", "W_q", "W_k", "W_v"))


def _answer(route: dict[str, Any]) -> dict[str, Any]:
    return {name: route[name] for name in ("Q", "K", "V", "scores", "scaled", "weights", "output")}


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    d_model, t, d_k, (x_lo, x_hi), (w_lo, w_hi), max_scaled = SIZES[difficulty]
    x = int_matrix(rng, (d_model, t), x_lo, x_hi)
    w_q, w_k, w_v = (w.astype(np.float64) for w in int_matrices(rng, ((d_k, d_model),) * 3, w_lo, w_hi))
    exact: dict[str, Any] = integer_steps(x, w_q, w_k, w_v)
    scaled = exact["scaled"]
    # Pencil-sized: 3^x stays within 3^-max..3^max. A column with one value is uniform (the
    # softmax has nothing to do); an odd negative score is needed to tell floor from truncation.
    if np.abs(scaled).max() > max_scaled or np.abs(exact["scores"]).max() > 2 * max_scaled + 1:
        return None
    if any(len(set(scaled[:, j].tolist())) < 2 for j in range(t)):
        return None
    if not np.any((exact["scores"] < 0) & (exact["scores"] % 2 == 1)):
        return None
    # Two identical keys get identical weights: a tie that teaches nothing. A zero row of V
    # makes that output row 0 whatever the weights.
    if len({tuple(c) for c in exact["K"].T.tolist()}) < t or np.any(np.all(exact["V"] == 0, axis=1)):
        return None
    exact = exact_route(x, w_q, w_k, w_v)
    floats = float_route(x, w_q, w_k, w_v)
    verification = agree(
        ("fractions-exact", "numpy-float64"),
        [max_abs_diff(np.array(exact["weights"], dtype=float), floats["weights"]),
         max_abs_diff(np.array(exact["output"], dtype=float), floats["output"])],
    )
    prompt = (
        "Work self-attention out by hand. Each **column** of $X$ is one token:\n\n"
        f"$$X = {bmatrix(x)}$$\n\n"
        f"$$W_Q = {bmatrix(w_q)}, \\quad W_K = {bmatrix(w_k)}, \\quad W_V = {bmatrix(w_v)}$$\n\n"
        "1. $Q = W_Q X$, $K = W_K X$, $V = W_V X$;\n"
        "2. the scores $S = K^\\top Q$ (column $j$ belongs to query $j$; $S$ is the transpose of the "
        "paper's $QK^\\top$, whose row $i$ belongs to query $i$ when tokens are rows);\n"
        f"3. the scaled scores $\\lfloor S/2 \\rfloor$ (our stand-in for dividing by $\\sqrt{{d_k}} = \\sqrt{{{d_k}}} "
        "\\approx 2$; round *down*);\n"
        "4. the weights: replace each entry $s$ by $3^s$ (our stand-in for $e^s$) and divide by its **column** sum;\n"
        "5. the output $Z = VA$.\n\n"
        "Weights and outputs are exact fractions: type them as fractions like `27/40` or as decimals to 3 places."
    )
    steps = (
        Step("Project", "$Q = W_QX$, $K = W_KX$, $V = W_VX$: each column is one token's query, key, value.",
             {"Q": exact["Q"], "K": exact["K"], "V": exact["V"]}),
        Step("Scores", "$S = K^\\top Q$: entry $(i, j)$ is key $i$ dotted with query $j$.", {"S": exact["scores"]}),
        Step("Scale", "$\\lfloor S/2 \\rfloor$, rounding down (so $-3 \\to -2$).", {"floor(S/2)": exact["scaled"]}),
        Step("Exponentiate with base 3", "$3^s$ for each entry; then sum each column.",
             {"3^s": exact["exps"], "column sums": exact["sums"]}),
        Step("Normalise columns", "Divide each entry by its column sum: each column of $A$ sums to 1.",
             {"A": exact["weights"]}),
        Step("Weighted values", "$Z = VA$: column $j$ mixes the value columns with query $j$'s weights.",
             {"Z": exact["output"]}),
    )
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"X": x.astype(int), "W_q": w_q.astype(int), "W_k": w_k.astype(int), "W_v": w_v.astype(int)},
        prompt=prompt,
        parts=(
            Part("Q", "Queries Q", (d_k, t), 1, EXACT),
            Part("K", "Keys K", (d_k, t), 1, EXACT),
            Part("V", "Values V", (d_k, t), 1, EXACT),
            Part("scores", "Scores K^T Q", (t, t), 2, EXACT),
            Part("scaled", "Scaled scores floor(S/2)", (t, t), 3, EXACT),
            Part("weights", "Weights A", (t, t), 4, FRACTION_TOL, weight=2.0),
            Part("output", "Output Z", (d_k, t), 5, FRACTION_TOL, weight=3.0),
        ),
        answer=_answer(exact),
        steps=steps,
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """Each wrong worksheet, computed exactly."""
    return _misconception_answers(json.dumps(to_jsonable([variant.params[n] for n in ("X", "W_q", "W_k", "W_v")])))


@functools.lru_cache(maxsize=256)
def _misconception_answers(params_json: str) -> dict[str, dict[str, Any]]:
    # Cached because grading and vetting ask for them many times per variant, and the exact
    # arithmetic is the slow part; the key is the variant's inputs, so a hit is always right.
    x, w_q, w_k, w_v = (as_array(m) for m in json.loads(params_json))
    later = ("scores", "scaled", "weights", "output")

    def wrong(**kwargs: Any) -> dict[str, Any]:
        route = exact_route(x, w_q, w_k, w_v, **kwargs)
        return {n: route[n] for n in later}

    right = exact_route(x, w_q, w_k, w_v)
    v = np.array(right["V"], dtype=np.float64)
    weights = np.array(right["weights"], dtype=np.float64)
    e = np.exp(np.array(right["scaled"], dtype=np.float64))
    e_weights = e / e.sum(axis=0, keepdims=True)
    # Rounded as people round by hand, halves up (1/4 -> 0.3), exactly on the fractions: np.round
    # takes halves to the even digit, so a learner's 0.3 for 1/4 matched no named procedure.
    rounded = np.array([[math.floor(Fraction(w) * 10 + Fraction(1, 2)) / 10 for w in row]
                        for row in right["weights"]], dtype=np.float64)
    return {
        "row_normalised": wrong(axis=1),
        "q_k_swapped": wrong(transpose_scores=True),
        "truncated_toward_zero": wrong(halve="trunc"),
        "no_scaling": wrong(halve="none"),
        "output_v_a_transposed": {"output": v @ weights.T},
        "exact_exp": {"weights": e_weights, "output": v @ e_weights},
        "weights_rounded": {"weights": rounded, "output": v @ rounded},
    }


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """Integers exactly; weights and outputs as fractions or to 3 decimal places."""
    return {p.name: decimals(3) if p.name in ("weights", "output") else EXACT_NUMBER for p in variant.parts}


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each step from the learner's own previous step (float arithmetic is enough to compare)."""
    scores = learner["K"].T @ learner["Q"] if learner["K"].shape[0] == learner["Q"].shape[0] else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = 3.0 ** np.clip(learner["scaled"], -30, 30)
        weights = e / e.sum(axis=0, keepdims=True)
    carried = {"scaled": np.floor(learner["scores"] / 2.0), "weights": weights}
    if scores is not None:
        carried["scores"] = scores
    if learner["V"].shape[1] == learner["weights"].shape[0]:
        carried["output"] = learner["V"] @ learner["weights"]
    return carried


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
