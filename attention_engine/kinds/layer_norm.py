r"""Layer normalisation of each token's features.

$$\mu = \frac{1}{d}\sum_i x_i, \qquad \sigma^2 = \frac{1}{d}\sum_i (x_i - \mu)^2, \qquad
  y = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta, \quad \epsilon = 10^{-5}$$

Statistics are per token (per row), over the feature axis, with the biased variance (divide by
$d$), as ``nn.LayerNorm`` does. Parts: ``mean`` and ``variance`` (one per token) and ``output``.
The variance is also graded against the learner's own mean, and the output against their own
mean and variance (error carried forward). Second route: ``torch.var_mean`` and
``F.layer_norm``.

Part weights: the output 2, the mean and the variance 1 each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.generation import bmatrix, fmt, int_matrices, int_matrix, kind_functions
from attention_engine.precision import Precision, decimals
from attention_engine.variant import Part, Step, Tolerance, Variant, agree, as_array, max_abs_diff

NAME = "layer_norm"
TITLE = "Layer normalisation"
TOPICS = ("layer-norm", "normalisation")
EPS = 1e-5

MEAN_TOL = Tolerance(rel=1e-3, abs=1e-3)
VAR_TOL = Tolerance(rel=5e-3, abs=2e-3)
OUT_TOL = Tolerance(rel=1e-2, abs=1e-2)

MISCONCEPTIONS = {
    "unbiased_variance": (
        "You divided by $d - 1$: layer norm uses the biased (population) variance, dividing by $d$, "
        "as `nn.LayerNorm` does."
    ),
    "divided_by_variance": "You divided by the variance $\\sigma^2$ instead of the standard deviation $\\sqrt{\\sigma^2 + \\epsilon}$.",
    "forgot_affine": "You stopped after normalising: the learned scale $\\gamma$ and shift $\\beta$ still apply.",
    "gamma_beta_swapped": "You swapped $\\gamma$ and $\\beta$: $\\gamma$ multiplies the normalised value, $\\beta$ is added.",
}

SIZES = {"easy": (1, 3, 3), "medium": (2, 4, 4), "hard": (3, 5, 6)}  # tokens, features, |x| max


def solve(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ddof: int = 0) -> dict[str, np.ndarray]:
    """Reference route: per-row mean and variance (``ddof`` = 1 for the unbiased one), output."""
    mean = x.mean(axis=1)  # (T,)
    var = ((x - mean[:, None]) ** 2).sum(axis=1) / (x.shape[1] - ddof)  # (T,)
    xhat = (x - mean[:, None]) / np.sqrt(var[:, None] + EPS)  # (T, d)
    return {"mean": mean, "variance": var, "output": gamma * xhat + beta, "xhat": xhat}


def _params(variant: Variant) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = variant.params
    return as_array(p["X"]), as_array(p["gamma"]), as_array(p["beta"])


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    t, d, x_max = SIZES[difficulty]
    x = int_matrix(rng, (t, d), -x_max, x_max)
    gamma, beta = (v.astype(np.float64) for v in int_matrices(rng, ((d,), (d,)), -2, 2))
    # A constant row has variance 0 and normalises to 0/sqrt(eps): nothing to learn from it.
    # gamma = 0 would erase a feature; gamma = beta would hide a swap.
    if np.any(x.std(axis=1) < 0.5) or np.any(gamma == 0) or np.all(gamma == beta) or np.all(gamma == 1):
        return None
    key = solve(x, gamma, beta)
    from attention_engine import torch_ops

    t_var, t_mean = torch_ops.var_mean(x, axis=1)
    verification = agree(
        ("numpy-float64", "torch-layer_norm"),
        [
            max_abs_diff(key["mean"], t_mean),
            max_abs_diff(key["variance"], t_var),
            max_abs_diff(key["output"], torch_ops.layer_norm(x, gamma, beta, EPS)),
            max_abs_diff(key["output"], ops.layer_norm(x, gamma, beta, EPS)),
        ],
    )
    prompt = (
        f"Apply layer normalisation (over the features of each token, $\\epsilon = 10^{{-5}}$) to the "
        f"{t} token{'s' if t > 1 else ''} (one per row)\n\n$$X = {bmatrix(x)}$$\n\n"
        f"with $\\gamma = {bmatrix(gamma)}$ and $\\beta = {bmatrix(beta)}$. Give\n\n"
        "1. the mean $\\mu$ of each token,\n"
        "2. the variance $\\sigma^2$ of each token (divide by the number of features),\n"
        "3. the output $y = \\gamma \\odot (x - \\mu)/\\sqrt{\\sigma^2 + \\epsilon} + \\beta$.\n\n"
        "Give at least 3 decimal places."
    )
    steps = (
        Step("Mean per token", f"Average each row over its {d} features.", {"mean": key["mean"]}),
        Step("Variance per token", f"Average of squared deviations, dividing by $d = {d}$ (not $d - 1$).",
             {"x - mean": x - key["mean"][:, None], "variance": key["variance"]}),
        Step("Normalise", "Subtract the mean and divide by $\\sqrt{\\sigma^2 + \\epsilon}$: each row now has mean 0 "
             "and variance (almost) 1.", {"std": np.sqrt(key["variance"] + EPS), "x_hat": key["xhat"]}),
        Step("Scale and shift", f"Multiply by $\\gamma$ and add $\\beta$ feature by feature (e.g. feature 1: "
             f"$\\gamma_1 = {fmt(gamma[0])}$, $\\beta_1 = {fmt(beta[0])}$).", {"y": key["output"]}),
    )
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"X": x.astype(int), "gamma": gamma.astype(int), "beta": beta.astype(int), "eps": EPS},
        prompt=prompt,
        parts=(
            Part("mean", "Mean of each token", (t,), 1, MEAN_TOL),
            Part("variance", "Variance of each token", (t,), 2, VAR_TOL),
            Part("output", "Output y", (t, d), 3, OUT_TOL, weight=2.0),
        ),
        answer={k: key[k] for k in ("mean", "variance", "output")},
        steps=steps,
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """What each wrong procedure gives."""
    x, gamma, beta = _params(variant)
    key = solve(x, gamma, beta)
    unbiased = solve(x, gamma, beta, ddof=1)
    centred = x - key["mean"][:, None]
    return {
        "unbiased_variance": {k: unbiased[k] for k in ("variance", "output")},
        "divided_by_variance": {"output": gamma * centred / key["variance"][:, None] + beta},
        "forgot_affine": {"output": key["xhat"]},
        "gamma_beta_swapped": {"output": beta * key["xhat"] + gamma},
    }


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Variance from the learner's mean; output from the learner's mean and variance."""
    x, gamma, beta = _params(variant)
    mean, var = learner["mean"], learner["variance"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "variance": ((x - mean[:, None]) ** 2).mean(axis=1),
            "output": gamma * (x - mean[:, None]) / np.sqrt(var[:, None] + EPS) + beta,
        }


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """What the prompt asks: at least 3 decimal places."""
    return {p.name: decimals(3) for p in variant.parts}


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
