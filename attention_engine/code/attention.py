"""Code kinds: scaled dot-product attention in NumPy and in PyTorch, with masks.

``attention(Q, K, V, mask=None) -> (output, weights)``: $\\text{softmax}(QK^\\top/\\sqrt{d_k})V$
over the last two axes, any leading batch dimensions, ``mask`` boolean and True where a query
may attend to a key, broadcastable to the scores. A query row with no key it may attend to gets
zero weights and a zero output (stated in the prompt: ``F.scaled_dot_product_attention`` gives
NaN there). The tests grow with the difficulty: batches, non-square cross-attention, causal and
key-padding masks, then float32, a fully masked row and logits that overflow a naive softmax.
"""

from __future__ import annotations

import numpy as np

from attention_engine.code.exercise import CodeKind, Test

SOURCE = "Vaswani et al. (2017), *Attention Is All You Need*, §3.2.1"


# --- the reference and its wrong twins (NumPy, float64) -------------------------------------------


def _inputs(test: Test) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    q, k, v = (np.asarray(test.inputs[n], dtype=np.float64) for n in ("Q", "K", "V"))
    mask = test.inputs.get("mask")
    return q, k, v, None if mask is None else np.asarray(mask, dtype=bool)


def _softmax_rows(scores: np.ndarray, mask: np.ndarray | None, *, axis: int = -1, stable: bool = True,
                  empty_rows: str = "zero") -> np.ndarray:
    """Softmax along ``axis`` of the scores where ``mask`` allows; a row with nothing allowed is
    all zeros (``empty_rows="nan"``: NaN, as 0/0 gives)."""
    allowed = np.ones(scores.shape, dtype=bool) if mask is None else np.broadcast_to(mask, scores.shape)
    masked = np.where(allowed, scores, -np.inf)
    top = np.max(masked, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0) if stable else np.zeros_like(top)
    exps = np.where(allowed, np.exp(masked - top), 0.0)
    total = np.sum(exps, axis=axis, keepdims=True)
    if empty_rows == "nan":
        return exps / total
    return np.where(total > 0, exps / np.where(total > 0, total, 1.0), 0.0)


def reference(test: Test, *, scale: str = "sqrt", axis: int = -1, stable: bool = True, empty_rows: str = "zero",
              mask_mode: str = "before", transposed: bool = False,
              dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """Attention as the formula says; the keyword arguments make the catalogued mistakes.
    ``dtype`` is the arithmetic's (an overflowing softmax overflows at 88 in float32, at 709 in
    float64: a float32 learner's NaNs are where the float32 procedure has them)."""
    q, k, v, mask = _inputs(test)
    q, k, v = (a.astype(dtype) for a in (q, k, v))
    d_k = q.shape[-1]
    raw = (k @ np.swapaxes(q, -1, -2)) if transposed else (q @ np.swapaxes(k, -1, -2))
    scores = raw / np.asarray({"sqrt": np.sqrt(d_k), "none": 1.0, "d_k": float(d_k)}[scale], dtype=dtype)
    if mask is not None and mask_mode == "inverted":
        mask = ~mask
    if mask is not None and mask_mode == "after":
        weights = _softmax_rows(scores, None, axis=axis, stable=stable) * np.broadcast_to(mask, scores.shape)
    else:
        weights = _softmax_rows(scores, None if mask_mode == "ignored" else mask, axis=axis, stable=stable,
                                empty_rows=empty_rows)
    return weights @ v, weights


def second_route(test: Test) -> tuple[np.ndarray, np.ndarray]:
    """``F.scaled_dot_product_attention`` in float64 on the CPU; the weights are its output for
    ``V = I`` (each query's weights over the keys), and NaN rows (nothing allowed) become 0."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    q, k, v, mask = (None if a is None else torch.from_numpy(np.ascontiguousarray(a)) for a in _inputs(test))
    eye = torch.eye(k.shape[-2], dtype=torch.float64).expand(*k.shape[:-1], k.shape[-2])
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    weights = F.scaled_dot_product_attention(q, k, eye, attn_mask=mask)
    return torch.nan_to_num(output, nan=0.0).numpy(), torch.nan_to_num(weights, nan=0.0).numpy()


WRONG = {
    "no_scaling": ("easy", lambda t: reference(t, scale="none")),
    "scaled_by_d_k": ("easy", lambda t: reference(t, scale="d_k")),
    "softmax_over_queries": ("easy", lambda t: reference(t, axis=-2)),
    "k_q_transposed": ("easy", lambda t: reference(t, transposed=True)),
    "mask_ignored": ("easy", lambda t: reference(t, mask_mode="ignored")),
    "mask_inverted": ("easy", lambda t: reference(t, mask_mode="inverted")),
    "mask_after_softmax": ("easy", lambda t: reference(t, mask_mode="after")),
    "nan_for_empty_rows": ("hard", lambda t: reference(t, empty_rows="nan")),
    "softmax_overflows": ("hard", lambda t: reference(t, stable=False, dtype=t.dtype)),
}
MISCONCEPTIONS = {
    "no_scaling": "the scores were not divided by $\\sqrt{d_k}$.",
    "scaled_by_d_k": "the scores were divided by $d_k$ instead of $\\sqrt{d_k}$.",
    "softmax_over_queries": "the softmax ran down the columns (over the queries), not along each row (over the keys).",
    "k_q_transposed": "the scores were computed as $KQ^\\top$, not $QK^\\top$.",
    "mask_ignored": "the mask was not applied.",
    "mask_inverted": "the mask was read backwards: True means a query *may* attend to that key.",
    "mask_after_softmax": "the mask was applied after the softmax, so the allowed weights no longer sum to 1; "
                          "set masked scores to $-\\infty$ before it.",
    "nan_for_empty_rows": "a query with no key to attend to came out NaN; the task asks for zeros there.",
    "softmax_overflows": "the softmax overflowed on large scores: subtract each row's maximum before exponentiating.",
}


# --- the tests -------------------------------------------------------------------------------------


def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.round(rng.normal(scale=scale, size=shape), 3)


def _test(name: str, description: str, q, k, v, mask=None, dtype: str = "float64") -> Test:
    # The values the code will receive, exactly: the reference works on what float32 can hold.
    q, k, v = (a.astype(dtype).astype(np.float64) for a in (q, k, v))
    inputs = {"Q": q, "K": k, "V": v}
    if mask is not None:
        inputs["mask"] = mask
    return Test(name=name, description=description, inputs=inputs, dtype=dtype)


def _padding(rng: np.random.Generator, batch: int, t_k: int, *, empty: bool = False) -> np.ndarray:
    """A key-padding mask ``(batch, 1, t_k)``: each sequence keeps its first few keys."""
    lengths = rng.integers(1, t_k, size=batch)
    if empty:
        lengths[0] = 0
    return (np.arange(t_k)[None, :] < lengths[:, None])[:, None, :]


def draw_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples first (a single sequence; a causal batch), then the hidden tests."""
    d = int(rng.integers(3, 6))
    t = int(rng.integers(3, 5))
    causal = np.tril(np.ones((t, t), dtype=bool))
    tests = [
        _test("one sequence", f"one sequence of {t} tokens, d_k = {d}, no mask",
              _normal(rng, t, d), _normal(rng, t, d), _normal(rng, t, d)),
        _test("causal batch", f"a batch of 2 sequences of {t} tokens, a causal mask of shape ({t}, {t})",
              _normal(rng, 2, t, d), _normal(rng, 2, t, d), _normal(rng, 2, t, d), causal),
    ]
    t_q, t_k, d_v = int(rng.integers(2, 4)), int(rng.integers(5, 7)), d + 2
    tests += [
        _test("batch", f"a batch of 3, {t} tokens, no mask",
              _normal(rng, 3, t, d), _normal(rng, 3, t, d), _normal(rng, 3, t, d)),
        _test("cross-attention", f"{t_q} queries over {t_k} keys, d_v = {d_v} (not square)",
              _normal(rng, 2, t_q, d), _normal(rng, 2, t_k, d), _normal(rng, 2, t_k, d_v)),
        _test("key padding", f"a batch of 3 over {t_k} keys, a key-padding mask of shape (3, 1, {t_k})",
              _normal(rng, 3, t_q, d), _normal(rng, 3, t_k, d), _normal(rng, 3, t_k, d_v), _padding(rng, 3, t_k)),
    ]
    if difficulty in ("medium", "hard"):
        tests += [
            _test("two batch dimensions", f"shape (2, 2, {t}, {d}): batch and heads, a causal mask",
                  _normal(rng, 2, 2, t, d), _normal(rng, 2, 2, t, d), _normal(rng, 2, 2, t, d), causal),
            _test("float32", f"float32 inputs, {t_q} queries over {t_k} keys, key padding",
                  _normal(rng, 2, t_q, d), _normal(rng, 2, t_k, d), _normal(rng, 2, t_k, d_v),
                  _padding(rng, 2, t_k), dtype="float32"),
        ]
    if difficulty == "hard":
        tests += [
            _test("fully masked row", f"key padding where sequence 1 has no key at all, {t_k} keys",
                  _normal(rng, 2, t_q, d), _normal(rng, 2, t_k, d), _normal(rng, 2, t_k, d_v),
                  _padding(rng, 2, t_k, empty=True)),
            _test("large logits", "scores in the thousands: a naive softmax overflows",
                  _normal(rng, 2, t, d, scale=40.0), _normal(rng, 2, t, d, scale=40.0), _normal(rng, 2, t, d), causal),
            _test("large logits, float32", "float32 scores in the thousands",
                  _normal(rng, 2, t, d, scale=40.0), _normal(rng, 2, t, d, scale=40.0), _normal(rng, 2, t, d),
                  dtype="float32"),
        ]
    return tests


# --- the two kinds ---------------------------------------------------------------------------------

SIGNATURE = "def attention(Q, K, V, mask=None):"


def _task(framework: str, difficulty: str) -> str:
    array = "NumPy arrays" if framework == "numpy" else "PyTorch tensors"
    also = {
        "easy": "batches, non-square cross-attention and masks",
        "medium": "batches (also two batch dimensions), non-square cross-attention, masks and float32 inputs",
        "hard": "batches, non-square cross-attention, masks, float32 inputs, a query with no allowed key, "
                "and scores large enough to overflow a naive softmax",
    }[difficulty]
    keep = (" Keep the input's dtype and device: no `.double()`, no `.cpu()`, no new tensors on a fixed device."
            if framework == "torch" else "")
    return (
        f"Implement scaled dot-product attention on {array}:\n\n"
        "$$\\text{Attention}(Q, K, V) = \\text{softmax}\\!\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$\n\n"
        f"`{SIGNATURE}` returns `(output, weights)`.\n\n"
        "- `Q` is `(..., T_q, d_k)`, `K` is `(..., T_k, d_k)`, `V` is `(..., T_k, d_v)`; `...` is any number of "
        "batch dimensions (none included).\n"
        "- `mask` is `None` or boolean, **True where a query may attend to a key**, broadcastable to the "
        "scores `(..., T_q, T_k)` (a causal mask `(T, T)`, a key-padding mask `(B, 1, T_k)`).\n"
        "- The softmax runs along the keys (the last axis). A query with no key it may attend to gets zero "
        "weights and a zero output (not NaN).\n"
        f"- `output` is `(..., T_q, d_v)`, `weights` is `(..., T_q, T_k)`.{keep}\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {SOURCE}."
    )


NUMPY_STARTER = '''import numpy as np


def attention(Q, K, V, mask=None):
    """Scaled dot-product attention. Returns (output, weights)."""
    raise NotImplementedError
'''

NUMPY_SOLUTION = '''import numpy as np


def attention(Q, K, V, mask=None):
    """Scaled dot-product attention. Returns (output, weights)."""
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is None:
        mask = np.ones(scores.shape, dtype=bool)
    mask = np.broadcast_to(mask, scores.shape)
    scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # a row with nothing allowed
    exps = np.where(mask, np.exp(scores - top), 0.0)
    total = exps.sum(axis=-1, keepdims=True)
    weights = np.where(total > 0, exps / np.where(total > 0, total, 1.0), 0.0)
    return weights @ V, weights
'''

TORCH_STARTER = '''import torch


def attention(Q, K, V, mask=None):
    """Scaled dot-product attention. Returns (output, weights)."""
    raise NotImplementedError
'''

TORCH_SOLUTION = '''import math

import torch


def attention(Q, K, V, mask=None):
    """Scaled dot-product attention. Returns (output, weights)."""
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # subtracts each row's maximum
    weights = torch.nan_to_num(weights, nan=0.0)  # a row with nothing allowed: 0/0
    return weights @ V, weights
'''


def _kind(name: str, title: str, framework: str, starter: str, solution: str) -> CodeKind:
    return CodeKind(
        name=name, title=title, topics=("scaled-dot-product", "masking"), framework=framework,
        entry_point="attention", signature=SIGNATURE, call="function", returns=("output", "weights"),
        task=lambda difficulty: _task(framework, difficulty), starter=starter, solution=solution,
        reference=reference, second_route=second_route, second_route_name="torch-sdpa-float64",
        draw=draw_tests, examples=2,
        wrong=WRONG, misconceptions=MISCONCEPTIONS,
    )


NUMPY = _kind("code_attention_numpy", "Write attention in NumPy", "numpy", NUMPY_STARTER, NUMPY_SOLUTION)
TORCH = _kind("code_attention_torch", "Write attention in PyTorch", "torch", TORCH_STARTER, TORCH_SOLUTION)
