"""Code kinds: position information, as the sinusoidal table of the Transformer (NumPy) and as
rotary position embedding, RoPE (PyTorch).

``sinusoidal_positions(T, d_model) -> PE``: the ``(T, d_model)`` table of Vaswani et al. (2017),
§3.5, sines and cosines interleaved (column ``2i`` the sine, ``2i+1`` the cosine of the same
angle ``pos / 10000^(2i/d_model)``), positions from 0. The second route builds each pair as a
unit complex number with ``torch.polar`` (the frequencies from ``exp(-2i ln(10000) / d)``), not
the formula re-typed.

``apply_rope(x, positions) -> x'``: each pair of neighbouring features ``(x[..., 2i],
x[..., 2i+1])`` of the token at position ``m`` rotated by ``m theta_i``, ``theta_i = 10000^(-2i/d)``
(Su et al. 2021, RoFormer, §3.2.2 and §3.4.2: interleaved pairs, not the rotate-half layout of
GPT-NeoX and Llama). The second route multiplies the pairs, seen as complex numbers
(``torch.view_as_complex``), by ``torch.polar(1, m theta_i)``. The tests grow with the
difficulty: batch and head dimensions, positions from an offset (decoding with a cache), then
float32, positions that are not consecutive, a wide head and positions in the thousands.
"""

from __future__ import annotations

import math

import numpy as np

from attention_engine.code.attention import _normal
from attention_engine.code.exercise import CodeKind, Test

BASE = 10000.0

# === sinusoidal positional encoding (NumPy) ========================================================

SINUSOIDAL_SOURCE = "Vaswani et al. (2017), *Attention Is All You Need*, §3.5 (Positional Encoding)"


def sinusoidal_reference(test: Test, *, swapped: bool = False, exponent: str = "2i", layout: str = "interleaved",
                         base: float = BASE, start: int = 0, inverted: bool = False) -> tuple[np.ndarray]:
    """The table as the formula says; the keyword arguments make the catalogued mistakes."""
    t, d = int(test.inputs["T"]), int(test.inputs["d_model"])
    pos = np.arange(t, dtype=np.float64)[:, None] + start
    pair = np.arange(d // 2, dtype=np.float64)[None, :]
    power = {"2i": 2 * pair / d, "i": pair / d}.get(exponent, 2 * pair / d)
    angle = pos * base ** power if inverted else pos / base ** power
    first, second = np.sin(angle), np.cos(angle)
    if exponent == "column":  # each column its own exponent j / d: the cosines use (2i + 1) / d
        second = np.cos(pos / base ** ((2 * pair + 1) / d))
    if swapped:
        first, second = second, first
    if layout == "concatenated":
        return (np.concatenate([first, second], axis=1),)
    table = np.empty((t, d))
    table[:, 0::2], table[:, 1::2] = first, second
    return (table,)


def sinusoidal_second_route(test: Test) -> tuple[np.ndarray]:
    """Each pair ``(PE[pos, 2i], PE[pos, 2i+1])`` is the unit complex number ``exp(1j pos w_i)``
    (imaginary part, real part), built by ``torch.polar`` with ``w_i = exp(-2i ln(10000) / d)``."""
    import torch

    t, d = int(test.inputs["T"]), int(test.inputs["d_model"])
    frequencies = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(BASE) / d))
    angles = torch.outer(torch.arange(t, dtype=torch.float64), frequencies)
    z = torch.polar(torch.ones_like(angles), angles)
    return (torch.stack((z.imag, z.real), dim=-1).reshape(t, d).numpy(),)


SINUSOIDAL_WRONG = {
    "sin_cos_swapped": ("easy", lambda t: sinusoidal_reference(t, swapped=True)),
    "exponent_i_over_d": ("easy", lambda t: sinusoidal_reference(t, exponent="i")),
    "exponent_per_column": ("easy", lambda t: sinusoidal_reference(t, exponent="column")),
    "halves_concatenated": ("easy", lambda t: sinusoidal_reference(t, layout="concatenated")),
    "frequency_inverted": ("easy", lambda t: sinusoidal_reference(t, inverted=True)),
    "base_1000": ("easy", lambda t: sinusoidal_reference(t, base=1000.0)),
    "positions_from_one": ("easy", lambda t: sinusoidal_reference(t, start=1)),
}
SINUSOIDAL_MISCONCEPTIONS = {
    "sin_cos_swapped": "sine and cosine were swapped: the even columns $2i$ hold the sine, the odd columns the cosine.",
    "exponent_i_over_d": "the exponent was $i/d_{\\text{model}}$ with $i$ the pair's index; it is "
                         "$2i/d_{\\text{model}}$.",
    "exponent_per_column": "each column got its own exponent (column $j$ used $j/d_{\\text{model}}$), so the "
                           "cosine of a pair has a different frequency from its sine; both columns $2i$ and $2i+1$ "
                           "use $2i/d_{\\text{model}}$.",
    "halves_concatenated": "all the sines came first and then all the cosines; the task interleaves them "
                           "(sine in column $2i$, cosine in column $2i+1$).",
    "frequency_inverted": "the position was multiplied by $10000^{2i/d_{\\text{model}}}$ instead of divided by it.",
    "base_1000": "the base was 1000; it is 10000.",
    "positions_from_one": "the positions started at 1; the first row is position 0 (sines 0, cosines 1).",
}


def _sinusoidal_test(name: str, description: str, t: int, d: int) -> Test:
    return Test(name=name, description=description, inputs={"T": int(t), "d_model": int(d)})


def _odd(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low // 2, high // 2)) * 2 + 1


def draw_sinusoidal(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples first (two small tables), then the hidden tests."""
    t1, t2 = _odd(rng, 3, 7), int(rng.integers(4, 8))
    d1, d2 = 4, int(rng.choice([6, 8]))
    tests = [
        _sinusoidal_test("small table", f"T = {t1}, d_model = {d1}", t1, d1),
        _sinusoidal_test("another small table", f"T = {t2}, d_model = {d2}", t2, d2),
    ]
    t3, d3 = _odd(rng, 9, 17), int(rng.choice([10, 12, 16]))
    tests += [
        _sinusoidal_test("one position", f"T = 1, d_model = {d3}: position 0 only", 1, d3),
        _sinusoidal_test("odd length", f"T = {t3} (odd), d_model = {d3}", t3, d3),
    ]
    if difficulty in ("medium", "hard"):
        t4, d4 = _odd(rng, 9, 17), int(rng.choice([32, 64]))
        tests += [
            _sinusoidal_test("wide", f"T = {t4}, d_model = {d4}", t4, d4),
            _sinusoidal_test("narrow and longer", f"T = {3 * t3}, d_model = 6", 3 * t3, 6),
        ]
    if difficulty == "hard":
        t5, t6 = _odd(rng, 201, 301), _odd(rng, 5, 9)
        tests += [
            _sinusoidal_test("long sequence", f"T = {t5} (angles in the hundreds of radians), d_model = 4", t5, 4),
            _sinusoidal_test("very wide", f"T = {t6}, d_model = 128: the last pairs turn very slowly", t6, 128),
        ]
    return tests


SINUSOIDAL_SIGNATURE = "def sinusoidal_positions(T, d_model):"


def _sinusoidal_task(difficulty: str) -> str:
    also = {
        "easy": "a single position and an odd length",
        "medium": "a single position, odd lengths, a wide table ($d_{\\text{model}}$ up to 64) and a longer one",
        "hard": "a single position, odd lengths, wide tables ($d_{\\text{model}}$ up to 128) and a sequence of "
                "a few hundred positions",
    }[difficulty]
    return (
        "Implement the sinusoidal positional encoding of the Transformer in NumPy:\n\n"
        "$$PE_{(pos,\\,2i)} = \\sin\\!\\left(\\frac{pos}{10000^{2i/d_{\\text{model}}}}\\right), \\qquad "
        "PE_{(pos,\\,2i+1)} = \\cos\\!\\left(\\frac{pos}{10000^{2i/d_{\\text{model}}}}\\right)$$\n\n"
        f"`{SINUSOIDAL_SIGNATURE}` returns `PE`, a float64 array of shape `(T, d_model)`.\n\n"
        "- Row `pos` is position `pos`, for `pos = 0, 1, ..., T - 1` (the first row is position 0).\n"
        "- `d_model` is even; `i = 0, 1, ..., d_model/2 - 1` numbers the **pairs** of columns, and both columns "
        "of pair `i` use the same exponent $2i/d_{\\text{model}}$.\n"
        "- Sines and cosines are **interleaved**: column `2i` holds the sine and column `2i + 1` the cosine of "
        "the same angle (not all the sines first and then all the cosines).\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {SINUSOIDAL_SOURCE}."
    )


SINUSOIDAL_STARTER = '''import numpy as np


def sinusoidal_positions(T, d_model):
    """The (T, d_model) sinusoidal positional encoding, sines and cosines interleaved."""
    raise NotImplementedError
'''

SINUSOIDAL_SOLUTION = '''import numpy as np


def sinusoidal_positions(T, d_model):
    """The (T, d_model) sinusoidal positional encoding, sines and cosines interleaved."""
    pos = np.arange(T, dtype=np.float64)[:, None]       # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)  # 2i for each pair i
    angle = pos / 10000.0 ** (two_i / d_model)          # (T, d_model / 2)
    PE = np.empty((T, d_model))
    PE[:, 0::2] = np.sin(angle)
    PE[:, 1::2] = np.cos(angle)
    return PE
'''

SINUSOIDAL = CodeKind(
    name="code_sinusoidal_positions", title="Write the sinusoidal positional encoding", topics=("positional-encodings",),
    framework="numpy", entry_point="sinusoidal_positions", signature=SINUSOIDAL_SIGNATURE, call="function",
    returns=("PE",), task=_sinusoidal_task, starter=SINUSOIDAL_STARTER, solution=SINUSOIDAL_SOLUTION,
    reference=sinusoidal_reference, second_route=sinusoidal_second_route, second_route_name="torch-polar-float64",
    draw=draw_sinusoidal, examples=2, wrong=SINUSOIDAL_WRONG, misconceptions=SINUSOIDAL_MISCONCEPTIONS,
)


# === rotary position embedding (PyTorch) ===========================================================

ROPE_SOURCE = ("Su et al. (2021), *RoFormer: Enhanced Transformer with Rotary Position Embedding*, §3.2.2 "
               "(general form) and §3.4.2 (computationally efficient realization)")


def rope_reference(test: Test, *, pairing: str = "interleaved", direction: float = 1.0, exponent: str = "2i",
                   positions: str = "given") -> tuple[np.ndarray]:
    """RoPE as the formula says; the keyword arguments make the catalogued mistakes."""
    x = np.asarray(test.inputs["x"], dtype=np.float64)
    d, t = x.shape[-1], x.shape[-2]
    pos = np.asarray(test.inputs["positions"], dtype=np.float64) if positions == "given" else np.arange(t, dtype=float)
    pair = np.arange(d // 2, dtype=np.float64)
    theta = BASE ** (-(2 * pair if exponent == "2i" else pair) / d)
    angle = direction * pos[:, None] * theta[None, :]  # (T, d/2)
    cos, sin = np.cos(angle), np.sin(angle)
    if pairing == "rotate_half":
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return (np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1),)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = x1 * cos - x2 * sin, x1 * sin + x2 * cos
    return (out,)


def rope_second_route(test: Test) -> tuple[np.ndarray]:
    """The pairs as complex numbers (``torch.view_as_complex``) times ``torch.polar(1, m theta_i)``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(test.inputs["x"], dtype=np.float64))
    positions = torch.from_numpy(np.asarray(test.inputs["positions"])).to(torch.float64)
    d = x.shape[-1]
    theta = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(BASE) / d))
    angles = torch.outer(positions, theta)
    rotation = torch.polar(torch.ones_like(angles), angles)  # (T, d/2), e^{i m theta}
    pairs = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2))
    return (torch.view_as_real(pairs * rotation).reshape(x.shape).numpy(),)


ROPE_WRONG = {
    "rotate_half_pairs": ("easy", lambda t: rope_reference(t, pairing="rotate_half")),
    "rotated_backwards": ("easy", lambda t: rope_reference(t, direction=-1.0)),
    "theta_exponent_i_over_d": ("easy", lambda t: rope_reference(t, exponent="i")),
    "positions_ignored": ("easy", lambda t: rope_reference(t, positions="arange")),
}
ROPE_MISCONCEPTIONS = {
    "rotate_half_pairs": "feature $i$ was paired with feature $i + d/2$ (the rotate-half layout of GPT-NeoX and "
                         "Llama); this task rotates neighbouring pairs $(x_{2i}, x_{2i+1})$ as RoFormer does.",
    "rotated_backwards": "the pairs were rotated the other way (by $-m\\theta_i$): "
                         "$x'_{2i} = x_{2i}\\cos m\\theta_i - x_{2i+1}\\sin m\\theta_i$.",
    "theta_exponent_i_over_d": "the frequencies were $10000^{-i/d}$; they are $\\theta_i = 10000^{-2i/d}$ "
                               "for pair $i$.",
    "positions_ignored": "the positions $0, 1, \\ldots, T-1$ were used instead of the `positions` given "
                         "(they may start at an offset, as when decoding with a cache).",
}


def _rope_test(name: str, description: str, x: np.ndarray, positions: np.ndarray, dtype: str = "float64") -> Test:
    # The values the code will receive, exactly: the reference works on what float32 can hold.
    return Test(name=name, description=description, dtype=dtype,
                inputs={"x": x.astype(dtype).astype(np.float64), "positions": np.asarray(positions, dtype=np.int64)})


def draw_rope(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples first (one sequence from position 0; a batch from an offset), then the hidden tests."""
    t, d = int(rng.integers(3, 6)), 4
    offset = int(rng.integers(3, 20))
    tests = [
        _rope_test("one sequence", f"x of shape ({t}, {d}), positions 0..{t - 1}", _normal(rng, t, d), np.arange(t)),
        _rope_test("batch from an offset", f"x of shape (2, {t}, 6), positions {offset}..{offset + t - 1}",
                   _normal(rng, 2, t, 6), offset + np.arange(t)),
    ]
    b, h, t2, d2 = 2, int(rng.integers(2, 4)), int(rng.integers(4, 7)), int(rng.choice([8, 10]))
    offset2 = int(rng.integers(10, 60))
    tests += [
        _rope_test("batch and heads", f"x of shape ({b}, {h}, {t2}, {d2}), positions 0..{t2 - 1}",
                   _normal(rng, b, h, t2, d2), np.arange(t2)),
        _rope_test("heads from an offset", f"x of shape ({b}, {h}, {t2}, {d2}), positions from {offset2}",
                   _normal(rng, b, h, t2, d2), offset2 + np.arange(t2)),
    ]
    if difficulty in ("medium", "hard"):
        scattered = np.sort(rng.choice(64, size=t2, replace=False))
        tests += [
            _rope_test("float32", f"float32 x of shape ({b}, {h}, {t2}, {d2}), positions from {offset2}",
                       _normal(rng, b, h, t2, d2), offset2 + np.arange(t2), dtype="float32"),
            _rope_test("positions not consecutive", f"x of shape ({b}, {t2}, {d2}), positions "
                       f"{', '.join(str(int(p)) for p in scattered)}", _normal(rng, b, t2, d2), scattered),
        ]
    if difficulty == "hard":
        far = int(rng.integers(2000, 5000))
        tests += [
            _rope_test("wide head", f"x of shape (1, 1, {t2}, 64), positions 0..{t2 - 1}",
                       _normal(rng, 1, 1, t2, 64), np.arange(t2)),
            _rope_test("far positions", f"x of shape (2, 2, {t2}, 16), positions from {far} (angles in the "
                       "thousands of radians)", _normal(rng, 2, 2, t2, 16), far + np.arange(t2)),
            _rope_test("float32 with heads", f"float32 x of shape (2, {h}, {t}, 16), positions from {offset}",
                       _normal(rng, 2, h, t, 16), offset + np.arange(t), dtype="float32"),
        ]
    return tests


ROPE_SIGNATURE = "def apply_rope(x, positions):"


def _rope_task(difficulty: str) -> str:
    also = {
        "easy": "batch and head dimensions and positions that start at an offset",
        "medium": "batch and head dimensions, positions that start at an offset or are not consecutive, and "
                  "float32 inputs",
        "hard": "batch and head dimensions, positions that start at an offset or are not consecutive, float32 "
                "inputs, a head of width 64 and positions in the thousands",
    }[difficulty]
    return (
        "Implement rotary position embedding (RoPE) in PyTorch. Each pair of neighbouring features "
        "$(x_{2i}, x_{2i+1})$ of the token at position $m$ is rotated by the angle $m\\theta_i$:\n\n"
        "$$\\begin{pmatrix} x'_{2i} \\\\ x'_{2i+1} \\end{pmatrix} = "
        "\\begin{pmatrix} \\cos m\\theta_i & -\\sin m\\theta_i \\\\ \\sin m\\theta_i & \\cos m\\theta_i "
        "\\end{pmatrix} \\begin{pmatrix} x_{2i} \\\\ x_{2i+1} \\end{pmatrix}, \\qquad "
        "\\theta_i = 10000^{-2i/d}, \\quad i = 0, 1, \\ldots, d/2 - 1$$\n\n"
        f"`{ROPE_SIGNATURE}` returns the rotated tensor, of the shape, dtype and device of `x`.\n\n"
        "- `x` is `(..., T, d)` with `d` even; `...` is any number of leading dimensions (batch, heads; none "
        "included).\n"
        "- `positions` is an int64 tensor of shape `(T,)`: `positions[t]` is the position $m$ of token `t`. It "
        "need not start at 0 (decoding with a cache continues from an offset) nor be consecutive.\n"
        "- The pairs are **interleaved**, as in RoFormer: feature `2i` with feature `2i + 1`. The rotate-half "
        "layout of GPT-NeoX and Llama (feature `i` with feature `i + d/2`) is a different convention and is "
        "not what is asked.\n"
        "- Keep the input's dtype and device (no `.double()`, no `.cpu()`), and compute the angles in at least "
        "the input's precision: a float64 input at position 4000 needs float64 angles.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {ROPE_SOURCE}."
    )


ROPE_STARTER = '''import torch


def apply_rope(x, positions):
    """Rotate each pair (x[..., 2i], x[..., 2i+1]) of the token at position m by m * theta_i."""
    raise NotImplementedError
'''

ROPE_SOLUTION = '''import torch


def apply_rope(x, positions):
    """Rotate each pair (x[..., 2i], x[..., 2i+1]) of the token at position m by m * theta_i."""
    d = x.shape[-1]
    two_i = torch.arange(0, d, 2, dtype=torch.float64, device=x.device)
    theta = 10000.0 ** (-two_i / d)                                      # (d/2,)
    angle = positions.to(torch.float64)[:, None] * theta[None, :]        # (T, d/2), float64
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]                                  # (..., T, d/2)
    rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return rotated.flatten(-2)                                           # pairs back in place
'''

ROPE = CodeKind(
    name="code_rope", title="Write rotary position embedding (RoPE) in PyTorch", topics=("positional-encodings", "rope-and-alibi"),
    framework="torch", entry_point="apply_rope", signature=ROPE_SIGNATURE, call="function", returns=("rotated",),
    task=_rope_task, starter=ROPE_STARTER, solution=ROPE_SOLUTION,
    reference=rope_reference, second_route=rope_second_route, second_route_name="torch-complex-polar-float64",
    draw=draw_rope, examples=2, wrong=ROPE_WRONG, misconceptions=ROPE_MISCONCEPTIONS,
)
