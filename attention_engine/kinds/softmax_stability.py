r"""Softmax with temperature, computed stably, and its log-sum-exp.

$$p_i = \frac{e^{(z_i - m)/\tau}}{\sum_j e^{(z_j - m)/\tau}}, \quad m = \max_j z_j, \qquad
  \operatorname{LSE}_\tau(z) = \log \sum_j e^{z_j/\tau} = \frac{m}{\tau} + \log \sum_j e^{(z_j - m)/\tau}$$

On medium and hard the logits are in the hundreds or thousands, so $e^{z_i}$ overflows float64
($e^{710} = \infty$): the max-subtraction is not an optimisation but the only way to get an
answer. Parts: ``shifted`` $= (z - m)/\tau$, ``probabilities``, ``logsumexp``. Probabilities are
also graded against the learner's own shifted values, and the LSE against $m/\tau$ plus the
learner's own sum (error carried forward). Second route: ``torch.softmax`` and
``torch.logsumexp`` on the unshifted $z/\tau$.

Precision: the prompt asks for at least 4 significant digits, and for the log-sum-exp also at
least 1 decimal place: at $m/\tau$ in the thousands, 4 significant digits alone would round
away the whole second term $\log\sum_j e^{(z_j - m)/\tau} \in (0, \log n]$, and "the LSE is
about the max" (``lse_max_only``) would pass. The LSE's tolerance is half a unit in the last
digit so asked (``precision.Precision.tolerance``): 107.7 is right for 107.7466, 107.6 is not.
Variants where a catalogued mistake lands within that tolerance of the key are redrawn.

Part weights: the two results (probabilities, log-sum-exp) 2 each, the shifted logits 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.generation import bmatrix, fmt, kind_functions
from attention_engine.precision import Precision, significant
from attention_engine.variant import Part, Step, Tolerance, Variant, agree, as_array, max_abs_diff

NAME = "softmax_stability"
TITLE = "Softmax stability: max-subtraction, temperature, log-sum-exp"
TOPICS = ("softmax", "numerical-stability", "temperature")

SHIFT_TOL = Tolerance(rel=1e-3, abs=1e-3)
PROB_TOL = Tolerance(rel=1e-2, abs=5e-3)
# What the prompt states; the LSE's tolerance is derived from it per variant.
DIGITS = significant(4)
LSE_PRECISION = Precision(significant=4, decimals=1)

MISCONCEPTIONS = {
    "temperature_multiplied": "You multiplied by the temperature: logits are *divided* by $\\tau$ (a high temperature flattens the distribution).",
    "no_temperature": "You ignored the temperature $\\tau$: divide the logits by it before the softmax.",
    "shift_by_min": (
        "You subtracted the minimum: the probabilities come out the same (softmax ignores any shift), "
        "but only subtracting the *maximum* guarantees every exponent is $\\le 0$, so nothing overflows."
    ),
    "lse_forgot_max": "Your log-sum-exp forgot to add back $m/\\tau$ after summing the shifted exponentials.",
    "lse_max_only": (
        "You gave only $m/\\tau$, the largest scaled logit: the log-sum-exp is $m/\\tau + "
        "\\log\\sum_j e^{(z_j - m)/\\tau}$, and the second term (between 0 and $\\log n$) is what "
        "the question asks you to compute."
    ),
}

# n logits, offset range (the big common part), spread of the small parts, temperatures
SIZES = {
    "easy": (3, (0, 0), 3, (2.0, 0.5)),
    "medium": (4, (200, 990), 3, (2.0, 0.5)),
    "hard": (5, (1000, 5000), 4, (0.5, 2.0, 4.0, 0.25)),
}


def solve(z: np.ndarray, tau: float, shift: float | None = None) -> dict[str, Any]:
    """Reference route: shift by ``shift`` (the max unless given), divide by tau, softmax, LSE."""
    m = float(np.max(z)) if shift is None else shift
    shifted = (z - m) / tau
    e = np.exp(shifted)
    return {"shifted": shifted, "probabilities": e / e.sum(), "logsumexp": m / tau + float(np.log(e.sum()))}


def _params(variant: Variant) -> tuple[np.ndarray, float]:
    return as_array(variant.params["z"]), float(variant.params["tau"])


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    n, (lo, hi), spread, taus = SIZES[difficulty]
    offset = int(rng.integers(lo, hi + 1))
    z = (offset + rng.integers(-spread, spread + 1, size=n)).astype(np.float64)
    tau = float(rng.choice(taus))
    if len(set(z.tolist())) < n:  # tied logits: "which is most likely" would be ambiguous
        return None
    key = solve(z, tau)
    if key["probabilities"].max() > 0.97 or key["probabilities"].min() < 1e-3:
        return None
    from attention_engine import torch_ops

    verification = agree(
        ("numpy-float64-max-shift", "torch-softmax-logsumexp"),
        [
            max_abs_diff(key["probabilities"], torch_ops.softmax(z / tau)),
            max_abs_diff(key["probabilities"], ops.softmax(z / tau)),
            abs(key["logsumexp"] - float(torch_ops.logsumexp(z / tau))) / max(1.0, abs(key["logsumexp"])),
        ],
    )
    m = float(z.max())
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z / tau) / np.exp(z / tau).sum()
    prompt = (
        f"A model produces the logits $z = {bmatrix(z)}$ and samples with temperature $\\tau = {fmt(tau)}$, "
        "i.e. from $\\operatorname{softmax}(z/\\tau)$. Compute it the numerically stable way:\n\n"
        "1. the shifted, scaled logits $(z_i - \\max_j z_j)/\\tau$,\n"
        "2. the probabilities,\n"
        "3. the log-sum-exp $\\log \\sum_j e^{z_j/\\tau}$ (the log of the softmax denominator).\n\n"
        "Give at least 4 significant digits; give the log-sum-exp also to at least 1 decimal place."
    )
    steps = (
        Step("Why shift", f"$e^{{z_i/\\tau}}$ with $z_i/\\tau$ up to {fmt(m / tau)} "
             + ("overflows float64 (the largest finite $e^x$ has $x \\approx 709.78$), so the naive formula gives NaN."
                if not np.all(np.isfinite(naive)) else "is finite here, but the same code must work for any logits.")
             + " Softmax is unchanged by subtracting a constant from every logit, so subtract the max.",
             {"max z": m}),
        Step("Shift and scale", f"$(z - {fmt(m)})/{fmt(tau)}$: every entry is $\\le 0$, so every exponential is in $(0, 1]$.",
             {"shifted": key["shifted"]}),
        Step("Exponentiate and normalise", "Divide each exponential by their sum.",
             {"exp(shifted)": np.exp(key["shifted"]), "sum": float(np.exp(key["shifted"]).sum()),
              "probabilities": key["probabilities"]}),
        Step("Log-sum-exp", f"$\\operatorname{{LSE}} = m/\\tau + \\log\\sum_j e^{{(z_j - m)/\\tau}} = {fmt(m / tau)} + "
             f"{fmt(float(np.log(np.exp(key['shifted']).sum())))}$.", {"logsumexp": key["logsumexp"]}),
    )
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"z": z.astype(int), "tau": tau},
        prompt=prompt,
        parts=(
            Part("shifted", "Shifted, scaled logits", (n,), 1, SHIFT_TOL),
            Part("probabilities", "Probabilities", (n,), 2, PROB_TOL, weight=2.0),
            Part("logsumexp", "Log-sum-exp", (), 3, LSE_PRECISION.tolerance(key["logsumexp"]), weight=2.0),
        ),
        answer=key,
        steps=steps,
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """What each wrong procedure gives."""
    z, tau = _params(variant)
    key = solve(z, tau)
    by_min = solve(z, tau, shift=float(z.min()))
    return {
        "temperature_multiplied": solve(z, 1.0 / tau),
        "no_temperature": solve(z, 1.0),
        "shift_by_min": {"shifted": by_min["shifted"]},
        "lse_forgot_max": {"logsumexp": key["logsumexp"] - float(z.max()) / tau},
        "lse_max_only": {"logsumexp": float(z.max()) / tau},
    }


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """What the prompt asks: 4 significant digits, and 1 decimal place too for the LSE."""
    return {"shifted": DIGITS, "probabilities": DIGITS, "logsumexp": LSE_PRECISION}


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Probabilities from the learner's shifted logits; LSE from their shift (max/tau + their sum)."""
    z, tau = _params(variant)
    shifted = learner["shifted"]
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(shifted)
        # Their shift c satisfies shifted = (z - c)/tau, so c/tau = z/tau - shifted (row mean for stability).
        lse = float(np.mean(z / tau - shifted)) + float(np.log(e.sum()))
    return {"probabilities": e / e.sum(), "logsumexp": np.array(lse)}


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
