r"""Sinusoidal positional encoding of one position.

$$\omega_i = \frac{1}{10000^{2i/d_{model}}}, \qquad
  PE_{(pos,\,2i)} = \sin(pos\cdot\omega_i), \qquad PE_{(pos,\,2i+1)} = \cos(pos\cdot\omega_i)$$

Parts: ``frequencies`` ($\omega_0 \dots \omega_{d/2-1}$) and ``encoding`` ($PE_{pos}$, interleaved
sin/cos as in "Attention Is All You Need"). The encoding is also graded against the learner's
own frequencies (error carried forward). Second route: the Annotated Transformer's
``exp(-2i log(10000) / d)`` formulation in torch.

Part weights: the encoding 2, the frequencies 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attention_engine import ops
from attention_engine.generation import fmt, kind_functions
from attention_engine.precision import Precision, significant
from attention_engine.variant import Part, Step, Tolerance, Variant, agree, max_abs_diff

NAME = "sinusoidal_positions"
TITLE = "Sinusoidal positional encoding"
TOPICS = ("positional-encodings",)
BASE = 10000.0

FREQ_TOL = Tolerance(rel=1e-2, abs=1e-6)
ENC_TOL = Tolerance(rel=1e-2, abs=2e-3)

MISCONCEPTIONS = {
    "sin_cos_swapped": "You put cosine in the even dimensions and sine in the odd ones: even $2i$ is $\\sin$, odd $2i+1$ is $\\cos$.",
    "exponent_i_over_d": (
        "You used $10000^{i/d_{model}}$ with $i$ the pair index: the exponent is $2i/d_{model}$, so the "
        "wavelengths run geometrically from $2\\pi$ up to $10000 \\cdot 2\\pi$ across the pairs."
    ),
    "degrees_mode": "Your calculator was in degrees: the angles $pos \\cdot \\omega_i$ are in radians.",
    "halves_layout": (
        "You put all the sines in the first half and all the cosines in the second half. That layout "
        "exists (tensor2tensor), but the paper's encoding interleaves them: sin, cos, sin, cos, ..."
    ),
}

SIZES = {"easy": (4, 1, 3), "medium": (6, 2, 9), "hard": (8, 10, 60)}  # d_model, min pos, max pos


def frequencies(d_model: int, exponent_scale: float = 2.0) -> np.ndarray:
    r"""$\omega_i = base^{-\,\text{exponent\_scale}\cdot i / d_{model}}$ for $i = 0 \dots d/2-1$."""
    i = np.arange(d_model // 2, dtype=np.float64)
    return 1.0 / BASE ** (exponent_scale * i / d_model)


def interleave(angles: np.ndarray, sin: Any = np.sin, cos: Any = np.cos) -> np.ndarray:
    """``[sin(a0), cos(a0), sin(a1), cos(a1), ...]``."""
    out = np.empty(2 * len(angles), dtype=np.float64)
    out[0::2] = sin(angles)
    out[1::2] = cos(angles)
    return out


def _params(variant: Variant) -> tuple[int, int]:
    return int(variant.params["d_model"]), int(variant.params["pos"])


def _build(rng: np.random.Generator, seed: int, difficulty: str) -> Variant | None:
    d_model, lo, hi = SIZES[difficulty]
    pos = int(rng.integers(lo, hi + 1))
    omega = frequencies(d_model)
    encoding = interleave(pos * omega)
    # The reference encoding must be the row of the full table, and agree with torch's formula.
    table_row = ops.sinusoidal_positional_encoding(pos + 1, d_model, BASE)[pos]
    from attention_engine import torch_ops

    torch_row = torch_ops.sinusoidal_positional_encoding(pos + 1, d_model, BASE)[pos]
    verification = agree(("numpy-float64", "torch-annotated-transformer"),
                         [max_abs_diff(encoding, table_row), max_abs_diff(encoding, torch_row)])
    prompt = (
        f"A transformer with $d_{{model}} = {d_model}$ uses the sinusoidal positional encoding\n\n"
        "$$PE_{(pos,\\,2i)} = \\sin\\!\\left(\\frac{pos}{10000^{2i/d_{model}}}\\right), \\qquad "
        "PE_{(pos,\\,2i+1)} = \\cos\\!\\left(\\frac{pos}{10000^{2i/d_{model}}}\\right)$$\n\n"
        f"For position $pos = {pos}$ give\n\n"
        f"1. the {d_model // 2} frequencies $\\omega_i = 1/10000^{{2i/d_{{model}}}}$, $i = 0, \\dots, {d_model // 2 - 1}$,\n"
        f"2. the encoding vector $PE_{{{pos}}}$ (all {d_model} entries, angles in radians).\n\n"
        "Give at least 4 significant digits."
    )
    steps = (
        Step("Frequencies", "Pair $i$ uses exponent $2i/d_{model}$: "
             + ", ".join(f"$\\omega_{k} = 10000^{{-{fmt(2 * k / d_model)}}}$" if k else "$\\omega_0 = 10000^0 = 1$"
                         for k in range(d_model // 2)) + ".",
             {"omega": omega}),
        Step("Angles", f"Multiply by the position: $pos \\cdot \\omega_i$ with $pos = {pos}$ (radians).",
             {"angles": pos * omega}),
        Step("Interleave sin and cos", "Even dimensions take $\\sin$, odd dimensions $\\cos$ of the same angle.",
             {"PE": encoding}),
    )
    return Variant(
        kind=NAME,
        seed=seed,
        difficulty=difficulty,
        params={"d_model": d_model, "pos": pos, "base": int(BASE)},
        prompt=prompt,
        parts=(
            Part("frequencies", "Frequencies omega_i", (d_model // 2,), 1, FREQ_TOL),
            Part("encoding", f"Encoding PE_{pos}", (d_model,), 2, ENC_TOL, weight=2.0),
        ),
        answer={"frequencies": omega, "encoding": encoding},
        steps=steps,
        verification=verification,
    )


def misconception_answers(variant: Variant) -> dict[str, dict[str, Any]]:
    """The frequencies and encoding each wrong procedure gives."""
    d_model, pos = _params(variant)
    omega = frequencies(d_model)
    angles = pos * omega
    wrong_omega = frequencies(d_model, exponent_scale=1.0)
    return {
        "sin_cos_swapped": {"frequencies": omega, "encoding": interleave(angles, sin=np.cos, cos=np.sin)},
        "exponent_i_over_d": {"frequencies": wrong_omega, "encoding": interleave(pos * wrong_omega)},
        "degrees_mode": {"frequencies": omega, "encoding": interleave(np.deg2rad(angles))},
        "halves_layout": {"frequencies": omega, "encoding": np.concatenate([np.sin(angles), np.cos(angles)])},
    }


def _carry_forward(variant: Variant, learner: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encoding implied by the learner's own frequencies."""
    _, pos = _params(variant)
    return {"encoding": interleave(pos * learner["frequencies"])}


def stated_precision(variant: Variant) -> dict[str, Precision]:
    """What the prompt asks: at least 4 significant digits."""
    return {p.name: significant(4) for p in variant.parts}


generate, grade = kind_functions(
    NAME, _build, misconception_answers, MISCONCEPTIONS, carry_forward=_carry_forward, precision=stated_precision
)
