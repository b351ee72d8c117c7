r"""Why attention divides by $\sqrt{d_k}$: the variance of a dot product.

For $q, k \in \mathbb{R}^{d_k}$ with independent entries $q_i \sim \mathcal{N}(\mu_q, \sigma_q^2)$,
$k_i \sim \mathcal{N}(\mu_k, \sigma_k^2)$:

$$\mathbb{E}[q \cdot k] = d_k \mu_q \mu_k, \qquad
  \operatorname{Var}(q \cdot k) = d_k\left(\sigma_q^2 \sigma_k^2 + \sigma_q^2 \mu_k^2 + \mu_q^2 \sigma_k^2\right)$$

(the $d_k$ terms $q_i k_i$ are independent, and
$\operatorname{Var}(q_i k_i) = \mathbb{E}[q_i^2]\,\mathbb{E}[k_i^2] - \mu_q^2 \mu_k^2$), so with
zero means and unit variances $\operatorname{Var}(q \cdot k) = d_k$ and
$q \cdot k / \sqrt{d_k}$ has unit variance.

easy: unit normal entries (``var``, ``std``, ``std_scaled``).
medium: other standard deviations (``var``, ``std_scaled``, and the ``scale`` $c$ that gives
$c\,q \cdot k$ unit variance).
hard: non-zero means (``mean``, ``var``, ``var_scaled``).

Keys are exact fractions, computed twice (``fractions.Fraction`` from the formula above, and
float64 from the raw moments $\mathbb{E}[(q\cdot k)^2] - \mathbb{E}[q\cdot k]^2$), and checked
against a seeded Monte-Carlo estimate in torch on the ``ATTN_DEVICE`` device, which must fall
within six of its own standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from attention_engine.generation import kind_functions
from attention_engine.precision import Precision, significant
from attention_engine.variant import Part, Step, Tolerance, Variant, VerificationError, agree
from attention_engine.vetting import misconceptions_distinct

NAME = "variance_scaling"
TITLE = "The variance argument for scaling by 1/sqrt(d_k)"
TOPICS = ("scaled-dot-product", "variance", "scaling")

# Answers are typed as decimals or fractions; three significant figures are enough.
TOL = Tolerance(rel=5e-3, abs=1e-9)
SAMPLES = 32768
# Numbers drawn per torch call: large enough that per-call overhead does not dominate, small
# enough (8 MB in float32) that memory stays light for any d_k.
CHUNK_ELEMENTS = 2**21
STANDARD_ERRORS = 6.0

MISCONCEPTIONS: dict[str, str] = {
    "no_scaling": (
        "You left the dot product unscaled. Dividing by $\\sqrt{d_k}$ is what brings its spread "
        "back to that of a single product $q_i k_i$."
    ),
    "scaled_by_dk": (
        "You divided by $d_k$ where the scaling is $1/\\sqrt{d_k}$ (or treated it as such). Scaling by "
        "$c$ multiplies the variance by $c^2$: $1/\\sqrt{d_k}$ divides the variance by $d_k$, "
        "$1/d_k$ would divide it by $d_k^2$."
    ),
    "std_vs_variance": (
        "You mixed up the standard deviation and the variance. The variance of a sum of independent "
        "terms is the sum of their variances; the standard deviation is its square root, and "
        "scaling by $c$ multiplies the variance by $c^2$ but the standard deviation by $c$."
    ),
    "assumed_unit_variance": (
        "You assumed unit-variance entries. With $q_i$ of standard deviation $\\sigma_q$ and $k_i$ of "
        "$\\sigma_k$, each product $q_i k_i$ has variance $\\sigma_q^2 \\sigma_k^2$."
    ),
    "ignored_means": (
        "You ignored the means. With non-zero means, "
        "$\\operatorname{Var}(q_i k_i) = \\sigma_q^2\\sigma_k^2 + \\sigma_q^2\\mu_k^2 + \\mu_q^2\\sigma_k^2$, "
        "and $\\mathbb{E}[q \\cdot k] = d_k \\mu_q \\mu_k$."
    ),
    "second_moment_not_variance": (
        "You used $\\mathbb{E}[q_i^2]\\,\\mathbb{E}[k_i^2]$, the second moment of $q_i k_i$, as its "
        "variance; subtract the squared mean $(\\mu_q \\mu_k)^2$."
    ),
}

# Perfect squares where a standard deviation is asked, so that every key is a fraction.
D_K = {"easy": (16, 36, 64, 100, 144), "medium": (16, 36, 64, 144), "hard": (16, 32, 64, 128)}
SIGMAS = (Fraction(1, 2), Fraction(1), Fraction(2), Fraction(3))
MEANS = (Fraction(-1), Fraction(-1, 2), Fraction(1, 2), Fraction(1), Fraction(2))
ROUTES = ("exact-fraction", "numpy-float64-moments")


def _fraction(value: Any) -> Fraction:
    return Fraction(str(value))


def _moments(params: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
    r"""Exact mean and variance of $q \cdot k$ (the formula of the module docstring)."""
    d_k = params["d_k"]
    mu_q, mu_k, s_q, s_k = (_fraction(params[k]) for k in ("mu_q", "mu_k", "sigma_q", "sigma_k"))
    mean = d_k * mu_q * mu_k
    var = d_k * (s_q**2 * s_k**2 + s_q**2 * mu_k**2 + mu_q**2 * s_k**2)
    return mean, var


def _moments_float64(params: Mapping[str, Any]) -> tuple[float, float]:
    r"""The same from raw moments in float64: $\mathbb{E}[s^2] - \mathbb{E}[s]^2$ with
    $\mathbb{E}[s^2] = d_k\,\mathbb{E}[q^2]\mathbb{E}[k^2] + d_k(d_k - 1)(\mu_q\mu_k)^2$."""
    d_k = np.float64(params["d_k"])
    mu_q, mu_k, s_q, s_k = (
        np.float64(float(_fraction(params[k]))) for k in ("mu_q", "mu_k", "sigma_q", "sigma_k")
    )
    second_q, second_k = s_q**2 + mu_q**2, s_k**2 + mu_k**2
    mean = d_k * mu_q * mu_k
    second = d_k * second_q * second_k + d_k * (d_k - 1) * (mu_q * mu_k) ** 2
    return float(mean), float(second - mean**2)


def monte_carlo_moments(
    params: Mapping[str, Any], seed: int, samples: int = SAMPLES
) -> dict[str, float]:
    """Sample mean and variance of $q \\cdot k$ with their standard errors, on ``ATTN_DEVICE``.

    ``samples`` pairs (q, k) come from a ``torch.Generator`` seeded with ``seed`` (never the
    global RNG), in chunks so a large $d_k$ stays small in memory. The standard error of the
    variance is estimated from the samples, $\\sqrt{\\operatorname{Var}((s - \\bar s)^2)/N}$,
    because the kurtosis of $q \\cdot k$ depends on the parameters.
    """
    import torch

    from attention_engine.device import resolve_device

    device = resolve_device()
    generator = torch.Generator(device=device).manual_seed(seed)
    d_k = params["d_k"]
    mu_q, mu_k, s_q, s_k = (
        float(_fraction(params[k])) for k in ("mu_q", "mu_k", "sigma_q", "sigma_k")
    )
    dots = []
    rows = max(1, CHUNK_ELEMENTS // d_k)
    for start in range(0, samples, rows):
        n = min(rows, samples - start)
        # float32 is ~4x faster than float64 on a CPU; its rounding (1e-6 relative after d_k
        # terms) is far below the sampling error (1e-2). The moments are taken in float64.
        q = torch.randn(n, d_k, generator=generator, device=device).mul_(s_q).add_(mu_q)  # (N, d_k)
        k = torch.randn(n, d_k, generator=generator, device=device).mul_(s_k).add_(mu_k)  # (N, d_k)
        dots.append(torch.linalg.vecdot(q, k).double())  # (N,)
    s = torch.cat(dots)
    mean = s.mean()
    centred_sq = (s - mean) ** 2
    return {
        "mean": float(mean),
        "mean_se": float(s.std() / math.sqrt(samples)),
        "var": float(centred_sq.sum() / (samples - 1)),
        "var_se": float(centred_sq.std() / math.sqrt(samples)),
    }


def _check_monte_carlo(params: Mapping[str, Any], seed: int, mean: Fraction, var: Fraction) -> str:
    """Raise unless the Monte-Carlo estimates fall within ``STANDARD_ERRORS`` of the exact moments.

    Only the outcome enters the variant (as a route name), never the estimate: the draws differ
    between CPU and CUDA, the variant must not.
    """
    mc = monte_carlo_moments(params, seed)
    if (
        abs(mc["mean"] - float(mean)) > STANDARD_ERRORS * mc["mean_se"] + 1e-12
        or abs(mc["var"] - float(var)) > STANDARD_ERRORS * mc["var_se"]
    ):
        raise VerificationError(
            f"Monte-Carlo moments {mc} disagree with exact mean {mean}, variance {var}"
        )
    return f"torch-monte-carlo(samples={SAMPLES}, seed={seed}, within {STANDARD_ERRORS:g} SE)"


def _config(rng: np.random.Generator, difficulty: str) -> dict[str, Any]:
    config = {
        "d_k": int(rng.choice(D_K[difficulty])),
        "mu_q": "0", "mu_k": "0", "sigma_q": "1", "sigma_k": "1",
    }  # fmt: skip
    if difficulty != "easy":
        config["sigma_q"], config["sigma_k"] = (
            str(SIGMAS[i]) for i in rng.integers(len(SIGMAS), size=2)
        )
    if difficulty == "hard":
        config["mu_q"], config["mu_k"] = (str(MEANS[i]) for i in rng.integers(len(MEANS), size=2))
    return config


def _answers(
    params: Mapping[str, Any], difficulty: str, mean: Fraction, var: Fraction
) -> dict[str, Fraction]:
    d_k = params["d_k"]
    if difficulty == "easy":
        std = Fraction(math.isqrt(d_k))  # d_k is a perfect square here
        return {"var": var, "std": std, "std_scaled": std / math.isqrt(d_k)}
    if difficulty == "medium":
        std_scaled = _fraction(params["sigma_q"]) * _fraction(params["sigma_k"])
        return {"var": var, "std_scaled": std_scaled, "scale": 1 / (math.isqrt(d_k) * std_scaled)}
    return {"mean": mean, "var": var, "var_scaled": var / d_k}


def _parts(difficulty: str) -> tuple[Part, ...]:
    if difficulty == "easy":
        return (
            Part("var", "Var(q·k)", (), 1, TOL),
            Part("std", "Standard deviation of q·k", (), 2, TOL),
            Part("std_scaled", "Standard deviation of q·k/√d_k", (), 2, TOL),
        )
    if difficulty == "medium":
        return (
            Part("var", "Var(q·k)", (), 1, TOL),
            Part("std_scaled", "Standard deviation of q·k/√d_k", (), 2, TOL),
            Part("scale", "Scale c giving unit variance", (), 2, TOL),
        )
    return (
        Part("mean", "E[q·k]", (), 1, TOL),
        Part("var", "Var(q·k)", (), 1, TOL),
        Part("var_scaled", "Var(q·k/√d_k)", (), 2, TOL),
    )


def _prompt(params: Mapping[str, Any], difficulty: str) -> str:
    d_k = params["d_k"]
    if difficulty == "easy":
        return (
            f"A query $q$ and a key $k$ in $\\mathbb{{R}}^{{d_k}}$, $d_k = {d_k}$, have independent "
            "entries, each drawn from the standard normal $\\mathcal{N}(0, 1)$.\n\n"
            "1. What is $\\operatorname{Var}(q \\cdot k)$?\n"
            "2. What is the standard deviation of $q \\cdot k$?\n"
            "3. Scaled dot-product attention uses $q \\cdot k / \\sqrt{d_k}$. What is its standard "
            "deviation?"
        )
    s_q, s_k = params["sigma_q"], params["sigma_k"]
    if difficulty == "medium":
        return (
            f"A query $q$ and a key $k$ in $\\mathbb{{R}}^{{d_k}}$, $d_k = {d_k}$, have independent, "
            f"zero-mean normal entries: each $q_i$ has standard deviation $\\sigma_q = {s_q}$ and each "
            f"$k_i$ has $\\sigma_k = {s_k}$.\n\n"
            "1. What is $\\operatorname{Var}(q \\cdot k)$?\n"
            "2. What is the standard deviation of the scaled score $q \\cdot k / \\sqrt{d_k}$?\n"
            "3. Which scale $c > 0$ gives $c\\,(q \\cdot k)$ variance exactly 1?\n\n"
            "Fractions such as `1/8` are fine."
        )
    return (
        f"A query $q$ and a key $k$ in $\\mathbb{{R}}^{{d_k}}$, $d_k = {d_k}$, have independent normal "
        f"entries: $q_i \\sim \\mathcal{{N}}(\\mu_q, \\sigma_q^2)$ with $\\mu_q = {params['mu_q']}$, "
        f"$\\sigma_q = {s_q}$, and $k_i \\sim \\mathcal{{N}}(\\mu_k, \\sigma_k^2)$ with "
        f"$\\mu_k = {params['mu_k']}$, $\\sigma_k = {s_k}$ (say, activations that have drifted "
        "away from zero mean).\n\n"
        "1. What is $\\mathbb{E}[q \\cdot k]$?\n"
        "2. What is $\\operatorname{Var}(q \\cdot k)$?\n"
        "3. What is $\\operatorname{Var}(q \\cdot k / \\sqrt{d_k})$?\n\n"
        "Fractions such as `1/8` are fine."
    )


def _steps(params: Mapping[str, Any], answer: Mapping[str, Fraction]) -> tuple[Step, ...]:
    d_k = params["d_k"]
    mu_q, mu_k, s_q, s_k = (_fraction(params[k]) for k in ("mu_q", "mu_k", "sigma_q", "sigma_k"))
    term = s_q**2 * s_k**2 + s_q**2 * mu_k**2 + mu_q**2 * s_k**2
    steps = [
        Step(
            "One product",
            "$\\operatorname{Var}(q_i k_i) = \\mathbb{E}[q_i^2]\\mathbb{E}[k_i^2] - (\\mu_q\\mu_k)^2 "
            "= \\sigma_q^2\\sigma_k^2 + \\sigma_q^2\\mu_k^2 + \\mu_q^2\\sigma_k^2$.",
            {"var_one_product": term, "mean_one_product": mu_q * mu_k},
        ),
        Step(
            "Sum of d_k independent products",
            f"Variances add: $\\operatorname{{Var}}(q \\cdot k) = d_k \\cdot {term} = {d_k * term}$; "
            f"means add too: $\\mathbb{{E}}[q \\cdot k] = {d_k * mu_q * mu_k}$.",
            {"var": d_k * term, "mean": d_k * mu_q * mu_k},
        ),
        Step(
            "Scaling",
            "Multiplying by $c$ multiplies the variance by $c^2$: dividing by $\\sqrt{d_k}$ divides "
            f"the variance by $d_k = {d_k}$ and the standard deviation by $\\sqrt{{d_k}}$.",
            dict(answer),
        ),
    ]
    return tuple(steps)


def _variant(rng: np.random.Generator, seed: int, difficulty: str) -> Variant:
    """One draw's variant, its key checked by the two exact routes (not yet by sampling)."""
    params = _config(rng, difficulty)
    mean, var = _moments(params)
    mean64, var64 = _moments_float64(params)
    answer = _answers(params, difficulty, mean, var)
    diffs = [abs(float(mean) - mean64), abs(float(var) - var64) / max(1.0, float(var))]
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params=params,
        prompt=_prompt(params, difficulty),
        parts=_parts(difficulty),
        answer={k: str(v) for k, v in answer.items()},
        steps=_steps(params, answer),
        verification=agree(ROUTES, diffs),
    )


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    variant = _variant(rng, seed, difficulty)
    mc_seed = int(rng.integers(2**62))
    # Vet before sampling: the Monte-Carlo run is the slow part, so a draw that will be
    # rejected anyway (two mistakes giving the same numbers, also when rounded as stated)
    # must not pay for it. (``draw_verified`` then vets it again, from the match table.)
    if not misconceptions_distinct(variant, grade, misconception_answers(variant), stated_precision(variant)):
        return None
    mean, var = _moments(variant.params)
    monte_carlo = _check_monte_carlo(variant.params, mc_seed, mean, var)
    checked = variant.verification
    return replace(variant, verification=replace(checked, routes=(*checked.routes, monte_carlo)))


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The full answer each applicable wrong procedure produces for this variant."""
    params, difficulty = variant.params, variant.difficulty
    d_k = params["d_k"]
    root = math.sqrt(d_k)
    mean, var = _moments(params)
    s_q, s_k = _fraction(params["sigma_q"]), _fraction(params["sigma_k"])
    sigma = float(s_q * s_k)
    if difficulty == "easy":
        return {
            "no_scaling": {"std_scaled": root},
            "scaled_by_dk": {"std_scaled": 1 / root},
            "std_vs_variance": {"var": root, "std": float(d_k)},
        }
    if difficulty == "medium":
        return {
            "no_scaling": {"std_scaled": root * sigma},
            "scaled_by_dk": {"std_scaled": sigma / root, "scale": 1 / (d_k * sigma)},
            "std_vs_variance": {"var": d_k * sigma, "std_scaled": sigma**2},
            "assumed_unit_variance": {"var": float(d_k), "std_scaled": 1.0, "scale": 1 / root},
        }
    mu_q, mu_k = _fraction(params["mu_q"]), _fraction(params["mu_k"])
    second_moment = d_k * (s_q**2 + mu_q**2) * (s_k**2 + mu_k**2)
    return {
        "no_scaling": {"var_scaled": float(var)},
        "scaled_by_dk": {"var_scaled": float(var) / d_k**2},
        "std_vs_variance": {"var_scaled": float(var) / root},
        "ignored_means": {"mean": 0.0, "var": d_k * sigma**2, "var_scaled": sigma**2},
        "second_moment_not_variance": {
            "var": float(second_moment),
            "var_scaled": float(second_moment) / d_k,
        },
    }


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Later parts from the learner's own variance: scaling divides it by $d_k$."""
    d_k = variant.params["d_k"]
    if "var" not in learner or float(learner["var"]) <= 0:
        return {}
    var = float(learner["var"])
    if variant.difficulty == "easy":
        return {"std": np.asarray(math.sqrt(var)), "std_scaled": np.asarray(math.sqrt(var / d_k))}
    if variant.difficulty == "medium":
        return {
            "std_scaled": np.asarray(math.sqrt(var / d_k)),
            "scale": np.asarray(1 / math.sqrt(var)),
        }
    return {"var_scaled": np.asarray(var / d_k)}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """Fractions or decimals; three significant figures are what the tolerance accepts."""
    return {p.name: significant(3) for p in variant.parts}


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
