"""Code kinds: a numerically stable softmax, causal attention and key-padding attention.

* ``code_stable_softmax`` (NumPy): ``softmax(x, axis)`` on vectors, matrices and 3-D arrays along
  any axis, with scores in the thousands (a naive ``exp`` overflows), rows far below the largest
  score of the array (subtracting the global maximum instead of each row's underflows them to
  0/0) and masked entries.
* ``code_causal_attention`` (PyTorch): ``causal_attention(Q, K, V)`` builds the causal mask
  itself (query ``i`` sees keys ``0..i``).
* ``code_padding_attention`` (NumPy): ``padding_attention(Q, K, V, lengths)`` masks the padded
  *keys* of each sequence from its length.

Each kind has a float64 NumPy reference whose keyword arguments make the catalogued mistakes,
and a second route through torch (``torch.softmax``, ``F.scaled_dot_product_attention``).
"""

from __future__ import annotations

import numpy as np

from attention_engine.code.attention import _normal, _softmax_rows
from attention_engine.code.exercise import CodeKind, Test

# A masked score in the softmax tests: the tests travel as JSON, which has no -inf. Every
# procedure treats it as -inf would be treated where a row has a finite score left.
MASKED = -1e30


def _attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, allowed: np.ndarray | None, *, scale: bool = True,
            mode: str = "before", empty_rows: str = "zero", stable: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention where ``allowed`` (broadcastable to the scores) says which
    keys a query may see; ``mode`` is how the mask is applied: ``before`` the softmax (right),
    ``after`` it (weights multiplied by the mask), ``zero`` (masked scores set to 0, not -inf)."""
    scores = q @ np.swapaxes(k, -1, -2)
    if scale:
        scores = scores / np.sqrt(q.shape[-1])
    if allowed is None or mode == "ignored":
        return _weighted(_softmax_rows(scores, None, stable=stable), v)
    allowed = np.broadcast_to(allowed, scores.shape)
    if mode == "after":
        weights = _softmax_rows(scores, None, stable=stable) * allowed
    elif mode == "zero":
        weights = _softmax_rows(np.where(allowed, scores, 0.0), None, stable=stable)
    else:
        weights = _softmax_rows(scores, allowed, stable=stable, empty_rows=empty_rows)
    return _weighted(weights, v)


def _weighted(weights: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return weights @ v, weights


def _floats(test: Test, *names: str) -> list[np.ndarray]:
    return [np.asarray(test.inputs[n], dtype=np.float64) for n in names]


def _as(dtype: str, *arrays: np.ndarray) -> list[np.ndarray]:
    """The values the code will receive, exactly: the reference works on what float32 holds."""
    return [a.astype(dtype).astype(np.float64) for a in arrays]


def _sdpa(q, k, v, *, mask=None, is_causal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``F.scaled_dot_product_attention`` in float64 (NumPy in and out); the weights are its
    output for ``V = I``, and NaN rows (no key allowed) become 0."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    q, k, v = (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) for a in (q, k, v))
    mask = None if mask is None else torch.from_numpy(np.ascontiguousarray(mask))
    eye = torch.eye(k.shape[-2], dtype=torch.float64).expand(*k.shape[:-1], k.shape[-2])
    output = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
    weights = F.scaled_dot_product_attention(q, k, eye, attn_mask=mask, is_causal=is_causal)
    return torch.nan_to_num(output, nan=0.0).numpy(), torch.nan_to_num(weights, nan=0.0).numpy()


# === code_stable_softmax ===========================================================================

SOFTMAX_SOURCE = ("Goodfellow, Bengio & Courville (2016), *Deep Learning*, §4.1 (Overflow and Underflow); "
                  "PyTorch documentation, `torch.nn.functional.softmax`")


def softmax_reference(test: Test, *, axis_mode: str = "given", normaliser: str = "sum", shift: str = "row",
                      keepdims: bool = True) -> tuple[np.ndarray]:
    """The softmax along ``axis``; the keyword arguments make the catalogued mistakes: the last
    axis whatever ``axis`` says, the maximum instead of the sum, the global maximum or nothing
    subtracted, the sum taken without ``keepdims`` (NumPy broadcasts it, or cannot)."""
    (x,) = _floats(test, "x")
    axis = -1 if axis_mode == "last" else int(test.inputs["axis"])
    top = {"row": np.max(x, axis=axis, keepdims=True), "global": np.max(x), "none": 0.0}[shift]
    exps = np.exp(x - top)
    if normaliser == "max":
        return (exps / np.max(exps, axis=axis, keepdims=True),)
    return (exps / np.sum(exps, axis=axis, keepdims=keepdims),)  # ValueError where it cannot broadcast


def softmax_second_route(test: Test) -> tuple[np.ndarray]:
    import torch

    x = torch.from_numpy(np.ascontiguousarray(test.inputs["x"], dtype=np.float64))
    return (torch.softmax(x, dim=int(test.inputs["axis"])).numpy(),)


SOFTMAX_WRONG = {
    "axis_ignored": ("easy", lambda t: softmax_reference(t, axis_mode="last")),
    "sum_without_keepdims": ("easy", lambda t: softmax_reference(t, keepdims=False)),
    "divided_by_max": ("easy", lambda t: softmax_reference(t, normaliser="max")),
    "global_max_subtracted": ("hard", lambda t: softmax_reference(t, shift="global")),
    "naive_exp": ("medium", lambda t: softmax_reference(t, shift="none")),
}
SOFTMAX_MISCONCEPTIONS = {
    "axis_ignored": "the softmax always ran along the last axis: use the `axis` you are given.",
    "sum_without_keepdims": "the sum was taken without `keepdims=True`, so NumPy divided each entry by the wrong "
                            "sum (or could not broadcast it).",
    "divided_by_max": "the exponentials were divided by their maximum, not by their sum: the results must sum to 1.",
    "global_max_subtracted": "the maximum of the whole array was subtracted, not each row's own maximum along "
                             "`axis`: a row far below it underflows to 0/0.",
    "naive_exp": "$e^x$ was taken directly: it overflows for scores in the hundreds (and underflows to 0/0 for "
                 "very negative ones). Subtract each row's maximum first.",
}


def _softmax_test(name: str, description: str, x: np.ndarray, axis: int) -> Test:
    return Test(name=name, description=description, inputs={"x": np.asarray(x, dtype=np.float64), "axis": axis})


def draw_softmax_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples (a vector; a square matrix by rows), then other shapes and axes; medium adds
    3-D along the inner axes and scores around +-1000; hard adds rows a thousand apart, masked
    entries with a fully masked row, and a negative inner axis."""
    n, m = int(rng.integers(4, 7)), int(rng.integers(3, 5))  # n > m: the non-square shapes stay non-square
    tests = [
        _softmax_test("vector", f"a vector of {n} scores, axis=-1", _normal(rng, n, scale=2.0), -1),
        _softmax_test("matrix", f"a ({m}, {m}) matrix, a softmax along each row (axis=-1)",
                      _normal(rng, m, m, scale=2.0), -1),
        _softmax_test("3-D, last axis", f"shape (2, 3, {n}), axis=-1", _normal(rng, 2, 3, n, scale=2.0), -1),
        _softmax_test("columns", f"shape ({n + 1}, {m}), axis=0: each column sums to 1",
                      _normal(rng, n + 1, m, scale=2.0), 0),
    ]
    if difficulty in ("medium", "hard"):
        offsets = rng.uniform(-100.0, 100.0, size=(3, 1))
        tests += [
            _softmax_test("3-D, middle axis", f"shape (2, {m}, {n}), axis=1", _normal(rng, 2, m, n, scale=2.0), 1),
            _softmax_test("3-D, first axis", f"shape (3, 2, {n}), axis=0", _normal(rng, 3, 2, n, scale=2.0), 0),
            _softmax_test("large scores", f"shape (3, {n}), scores around +1000: a naive exp overflows",
                          np.round(1000.0 + offsets + rng.normal(scale=5.0, size=(3, n)), 3), -1),
            _softmax_test("very negative scores", f"shape (3, {n}), scores around -1000: a naive exp underflows to 0",
                          np.round(-1000.0 + offsets + rng.normal(scale=5.0, size=(3, n)), 3), -1),
        ]
    if difficulty == "hard":
        far = np.array([[800.0], [0.0], [-800.0]]) + rng.normal(scale=3.0, size=(3, n))
        masked = _normal(rng, 4, n, scale=2.0)
        masked[0, 1:] = MASKED  # only the first entry left: weight 1 there
        masked[1, rng.permutation(n)[: n // 2]] = MASKED
        masked[3, :] = MASKED  # every entry masked: the formula gives equal weights
        tests += [
            _softmax_test("rows far apart", f"shape (3, {n}), rows around +800, 0 and -800 (axis=-1): far below "
                          "the largest score of the array", np.round(far, 3), -1),
            _softmax_test("masked entries", f"shape (4, {n}) with entries of -1e30 (masked), row 3 all masked",
                          masked, -1),
            _softmax_test("negative inner axis", f"shape (2, {m}, {n}), axis=-2",
                          _normal(rng, 2, m, n, scale=2.0), -2),
        ]
    return tests


SOFTMAX_SIGNATURE = "def softmax(x, axis=-1):"


def _softmax_task(difficulty: str) -> str:
    also = {
        "easy": "vectors, matrices and 3-D arrays along the last axis and along `axis=0`",
        "medium": "vectors, matrices and 3-D arrays along every axis, and scores around $\\pm 1000$",
        "hard": "every shape and axis (negative ones too), scores around $\\pm 1000$, rows a thousand apart "
                "in one array, and masked entries (a fully masked row included)",
    }[difficulty]
    return (
        "Implement a numerically stable softmax in NumPy:\n\n"
        "$$\\text{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}} = \\frac{e^{x_i - m}}{\\sum_j e^{x_j - m}},"
        "\\qquad m = \\max_j x_j$$\n\n"
        f"`{SOFTMAX_SIGNATURE}` returns an array of the shape of `x`.\n\n"
        "- `x` is a float NumPy array of any number of dimensions; `axis` (an int, possibly negative) is the axis "
        "along which the results sum to 1: each slice along `axis` gets its own softmax and its own $m$.\n"
        "- The scores can be large: $e^{1000}$ overflows and $e^{-1000}$ underflows to 0 in float64, so the "
        "naive formula gives NaN where the stable one does not.\n"
        "- A masked score is given as $-10^{30}$ (it stands for $-\\infty$, which the tests cannot carry); a row "
        "whose entries are all masked gets equal weights, as the formula gives for equal scores. Inputs are "
        "finite, so $-\\infty$ is not tested (a correct solution handles it anyway where a row has a finite "
        "entry).\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {SOFTMAX_SOURCE}."
    )


SOFTMAX_STARTER = '''import numpy as np


def softmax(x, axis=-1):
    """A numerically stable softmax of x along axis (the results along axis sum to 1)."""
    raise NotImplementedError
'''

SOFTMAX_SOLUTION = '''import numpy as np


def softmax(x, axis=-1):
    """A numerically stable softmax of x along axis (the results along axis sum to 1)."""
    top = np.max(x, axis=axis, keepdims=True)  # each slice's own maximum
    exps = np.exp(x - top)  # every exponent <= 0: no overflow, and the largest term is 1
    return exps / np.sum(exps, axis=axis, keepdims=True)
'''

STABLE_SOFTMAX = CodeKind(
    name="code_stable_softmax", title="Write a numerically stable softmax", topics=("softmax", "numerical-stability"),
    framework="numpy", entry_point="softmax", signature=SOFTMAX_SIGNATURE, call="function",
    returns=("probabilities",), task=_softmax_task, starter=SOFTMAX_STARTER, solution=SOFTMAX_SOLUTION,
    reference=softmax_reference, second_route=softmax_second_route, second_route_name="torch-softmax-float64",
    draw=draw_softmax_tests, examples=2, wrong=SOFTMAX_WRONG, misconceptions=SOFTMAX_MISCONCEPTIONS,
)


# === code_causal_attention =========================================================================

CAUSAL_SOURCE = ("Vaswani et al. (2017), *Attention Is All You Need*, §3.2.3 (masking in the decoder); "
                 "PyTorch documentation, `torch.nn.functional.scaled_dot_product_attention` (`is_causal`)")


def causal_reference(test: Test, *, mask: str = "causal", mode: str = "before", scale: bool = True,
                     stable: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Causal self-attention (query ``i`` sees keys ``0..i``); the keyword arguments make the
    catalogued mistakes: the upper triangle, the strict lower triangle (the first query then
    has no key: NaN, as ``masked_fill(-inf)`` and a softmax give), no mask, masked scores set to
    0, the mask after the softmax, no scaling, a softmax that overflows."""
    q, k, v = _floats(test, "Q", "K", "V")
    ones = np.ones((q.shape[-2], k.shape[-2]), dtype=bool)
    allowed = {"causal": np.tril(ones), "future": np.triu(ones), "strict": np.tril(ones, -1), "none": None}[mask]
    return _attend(q, k, v, allowed, scale=scale, mode=mode, stable=stable,
                   empty_rows="nan" if mask == "strict" else "zero")


def causal_second_route(test: Test) -> tuple[np.ndarray, np.ndarray]:
    q, k, v = _floats(test, "Q", "K", "V")
    return _sdpa(q, k, v, is_causal=True)


CAUSAL_WRONG = {
    "mask_missing": ("easy", lambda t: causal_reference(t, mask="none")),
    "future_visible": ("easy", lambda t: causal_reference(t, mask="future")),
    "diagonal_excluded": ("easy", lambda t: causal_reference(t, mask="strict")),
    "masked_to_zero": ("easy", lambda t: causal_reference(t, mode="zero")),
    "mask_after_softmax": ("easy", lambda t: causal_reference(t, mode="after")),
    "no_scaling": ("easy", lambda t: causal_reference(t, scale=False)),
    "softmax_overflows": ("hard", lambda t: causal_reference(t, stable=False)),
}
CAUSAL_MISCONCEPTIONS = {
    "mask_missing": "no causal mask was applied: each query also saw the keys after it.",
    "future_visible": "the mask kept the upper triangle: query $i$ saw keys $i..T-1$ (the future) instead of "
                      "$0..i$. Keep the lower triangle (`tril`).",
    "diagonal_excluded": "the mask left out the diagonal: query $i$ must also see key $i$ (itself), and the first "
                         "query was left with no key at all (NaN).",
    "masked_to_zero": "masked scores were set to 0, not $-\\infty$: $e^0 = 1$, so the future still got weight.",
    "mask_after_softmax": "the mask was applied after the softmax, so each row's weights no longer sum to 1; "
                          "set the masked scores to $-\\infty$ before it.",
    "no_scaling": "the scores were not divided by $\\sqrt{d_k}$.",
    "softmax_overflows": "the softmax overflowed on large scores: subtract each row's maximum before "
                         "exponentiating (or use `torch.softmax`).",
}


def _qkv_test(name: str, description: str, arrays: dict[str, np.ndarray], dtype: str = "float64",
              **extra) -> Test:
    inputs = {n: a for n, a in zip(arrays, _as(dtype, *arrays.values()), strict=True)}
    return Test(name=name, description=description, inputs={**inputs, **extra}, dtype=dtype)


def _qkv(rng: np.random.Generator, batch: tuple[int, ...], t_q: int, t_k: int, d: int, d_v: int,
         scale: float = 1.0) -> dict[str, np.ndarray]:
    return {"Q": _normal(rng, *batch, t_q, d, scale=scale), "K": _normal(rng, *batch, t_k, d, scale=scale),
            "V": _normal(rng, *batch, t_k, d_v)}


def draw_causal_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples (one sequence; a batch of 2), then d_v != d_k and a longer sequence; medium
    adds two batch dimensions and float32; hard a single token and scores in the thousands."""
    d, t = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    long = int(rng.integers(6, 9))
    tests = [
        _qkv_test("one sequence", f"one sequence of {t} tokens, d_k = d_v = {d}", _qkv(rng, (), t, t, d, d)),
        _qkv_test("batch", f"a batch of 2 sequences of {t} tokens", _qkv(rng, (2,), t, t, d, d)),
        _qkv_test("d_v differs", f"a batch of 3, {t} tokens, d_k = {d}, d_v = {d + 2}",
                  _qkv(rng, (3,), t, t, d, d + 2)),
        _qkv_test("longer sequence", f"a batch of 2 sequences of {long} tokens", _qkv(rng, (2,), long, long, d, d)),
    ]
    if difficulty in ("medium", "hard"):
        tests += [
            _qkv_test("two batch dimensions", f"shape (2, 2, {t}, {d}): batch and heads",
                      _qkv(rng, (2, 2), t, t, d, d)),
            _qkv_test("float32", f"float32 inputs, a batch of 2, {long} tokens", _qkv(rng, (2,), long, long, d, d + 1),
                      dtype="float32"),
        ]
    if difficulty == "hard":
        tests += [
            _qkv_test("one token", "a batch of 2 sequences of a single token", _qkv(rng, (2,), 1, 1, d, d)),
            _qkv_test("large scores", f"scores in the thousands, {t} tokens: a naive softmax overflows",
                      _overflowing(rng, t, d)),
        ]
    return tests


def _overflowing(rng: np.random.Generator, t: int, d: int) -> dict[str, np.ndarray]:
    """Q, K, V of a batch of 2 whose causal scores reach past 800 ($e^{800}$ overflows float64),
    drawn again until they do (a draw or two)."""
    while True:
        arrays = _qkv(rng, (2,), t, t, d, d, scale=40.0)
        scores = arrays["Q"] @ np.swapaxes(arrays["K"], -1, -2) / np.sqrt(d)
        if (np.tril(scores) > 800.0).any():
            return arrays


CAUSAL_SIGNATURE = "def causal_attention(Q, K, V):"


def _causal_task(difficulty: str) -> str:
    also = {
        "easy": "batches, $d_v \\ne d_k$ and longer sequences",
        "medium": "batches (also two batch dimensions), $d_v \\ne d_k$, longer sequences and float32 inputs",
        "hard": "batches, $d_v \\ne d_k$, float32 inputs, a sequence of a single token, and scores large enough "
                "to overflow a naive softmax",
    }[difficulty]
    return (
        "Implement causal (masked) self-attention in PyTorch: each position may attend only to itself and the "
        "positions before it.\n\n"
        "$$\\text{output} = \\text{softmax}\\!\\left(\\frac{QK^\\top}{\\sqrt{d_k}} + M\\right)V,\\qquad "
        "M_{ij} = \\begin{cases} 0 & j \\le i \\\\ -\\infty & j > i \\end{cases}$$\n\n"
        f"`{CAUSAL_SIGNATURE}` returns `(output, weights)`.\n\n"
        "- `Q` and `K` are `(..., T, d_k)`, `V` is `(..., T, d_v)`, with the same `T` (self-attention); `...` is "
        "any number of batch dimensions (none included).\n"
        "- Build the mask yourself from `T`: query $i$ sees keys $0, 1, \\dots, i$ (itself included), so row $i$ "
        "of `weights` is 0 after column $i$ and sums to 1.\n"
        "- `output` is `(..., T, d_v)`, `weights` is `(..., T, T)`. Keep the input's dtype and device: no "
        "`.double()`, no `.cpu()`, and create the mask on `Q.device`.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {CAUSAL_SOURCE}."
    )


CAUSAL_STARTER = '''import torch


def causal_attention(Q, K, V):
    """Causal self-attention: query i attends to keys 0..i. Returns (output, weights)."""
    raise NotImplementedError
'''

CAUSAL_SOLUTION = '''import math

import torch


def causal_attention(Q, K, V):
    """Causal self-attention: query i attends to keys 0..i. Returns (output, weights)."""
    T = Q.shape[-2]
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    allowed = torch.ones(T, T, dtype=torch.bool, device=Q.device).tril()  # j <= i
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # subtracts each row's maximum
    return weights @ V, weights
'''

CAUSAL = CodeKind(
    name="code_causal_attention", title="Write causal attention in PyTorch", topics=("masking", "causal-mask"),
    framework="torch", entry_point="causal_attention", signature=CAUSAL_SIGNATURE, call="function",
    returns=("output", "weights"), task=_causal_task, starter=CAUSAL_STARTER, solution=CAUSAL_SOLUTION,
    reference=causal_reference, second_route=causal_second_route, second_route_name="torch-sdpa-is_causal-float64",
    draw=draw_causal_tests, examples=2, wrong=CAUSAL_WRONG, misconceptions=CAUSAL_MISCONCEPTIONS,
)


# === code_padding_attention ========================================================================
# NumPy, not torch: the lesson is building the key mask from the lengths by broadcasting
# (``arange(T_k) < lengths[:, None]``), which reads the same in both; NumPy leaves the zero
# convention for an empty sequence to the learner (no library softmax hides the 0/0), and its
# sandbox starts in a tenth of torch's time.

PADDING_SOURCE = ("PyTorch documentation, `torch.nn.MultiheadAttention` (`key_padding_mask`); "
                  "Vaswani et al. (2017), *Attention Is All You Need*, §3.2.1")


def _lengths(test: Test) -> np.ndarray:
    return np.asarray(test.inputs["lengths"], dtype=np.int64)


def padding_mask(lengths: np.ndarray, t_k: int, *, keep: str = "first") -> np.ndarray:
    """``(B, 1, T_k)``, True where key ``j`` of sequence ``b`` is real: ``j < lengths[b]``
    (``keep="one_more"``: ``j <= lengths[b]``; ``"inverted"``: ``j >= lengths[b]``)."""
    positions, ends = np.arange(t_k)[None, None, :], np.asarray(lengths)[:, None, None]
    return {"first": positions < ends, "one_more": positions <= ends, "inverted": positions >= ends}[keep]


def padding_reference(test: Test, *, keep: str = "first", queries: bool = False, mode: str = "before",
                      empty_rows: str = "zero") -> tuple[np.ndarray, np.ndarray]:
    """Attention over the real keys of each sequence (an empty sequence: zero weights and
    output); the keyword arguments make the catalogued mistakes: the queries padded instead of
    the keys, one key too many kept, the mask inverted or ignored or applied after the softmax,
    NaN for an empty sequence."""
    q, k, v = _floats(test, "Q", "K", "V")
    lengths = _lengths(test)
    if queries:
        allowed = np.arange(q.shape[-2])[None, :, None] < lengths[:, None, None]  # (B, T_q, 1)
    else:
        allowed = padding_mask(lengths, k.shape[-2], keep=keep)
    return _attend(q, k, v, allowed, mode=mode, empty_rows=empty_rows)


def padding_second_route(test: Test) -> tuple[np.ndarray, np.ndarray]:
    q, k, v = _floats(test, "Q", "K", "V")
    return _sdpa(q, k, v, mask=padding_mask(_lengths(test), k.shape[-2]))


PADDING_WRONG = {
    "mask_ignored": ("easy", lambda t: padding_reference(t, mode="ignored")),
    "mask_inverted": ("easy", lambda t: padding_reference(t, keep="inverted")),
    "off_by_one": ("easy", lambda t: padding_reference(t, keep="one_more")),
    "queries_padded": ("easy", lambda t: padding_reference(t, queries=True)),
    "mask_after_softmax": ("easy", lambda t: padding_reference(t, mode="after")),
    "nan_for_empty_sequence": ("hard", lambda t: padding_reference(t, empty_rows="nan")),
}
PADDING_MISCONCEPTIONS = {
    "mask_ignored": "the padding was not masked: every query also attended to the padded keys.",
    "mask_inverted": "the mask was read backwards: the first `lengths[b]` keys are the real ones, the rest "
                     "is padding.",
    "off_by_one": "one key too many was kept: sequence $b$ has keys $0..\\text{lengths}[b]-1$, so the test is "
                  "`j < lengths[b]`, not `j <= lengths[b]`.",
    "queries_padded": "the queries were masked instead of the keys: the lengths say which *keys* (columns of "
                      "the scores) are padding; every query still attends to the real keys.",
    "mask_after_softmax": "the mask was applied after the softmax, so each row's weights no longer sum to 1; "
                          "set the padded scores to $-\\infty$ before it.",
    "nan_for_empty_sequence": "a sequence of length 0 came out NaN (0/0); the task asks for zero weights and a "
                              "zero output there.",
}


def _lengths_draw(rng: np.random.Generator, batch: int, t_k: int, *, low: int = 1) -> np.ndarray:
    return rng.integers(low, t_k + 1, size=batch).astype(np.int64)


def draw_padding_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples (self-attention where one sequence has no padding; cross shapes), then a
    batch of 4; medium adds float32 and a sequence of one real key; hard a sequence of length 0
    and a batch without padding."""
    d, t = int(rng.integers(3, 6)), int(rng.integers(4, 6))
    t_q, t_k = int(rng.integers(2, 4)), int(rng.integers(5, 7))
    first = np.array([t, rng.integers(1, t)], dtype=np.int64)  # sequence 0 is full, sequence 1 padded
    cross = rng.integers(1, t_k, size=3).astype(np.int64)
    tests = [
        _qkv_test("self-attention", f"2 sequences of {t} tokens, lengths {first.tolist()} (the first has no "
                  "padding)", _qkv(rng, (2,), t, t, d, d), lengths=first),
        _qkv_test("cross shapes", f"a batch of 3, {t_q} queries over {t_k} keys, d_v = {d + 1}, lengths "
                  f"{cross.tolist()}", _qkv(rng, (3,), t_q, t_k, d, d + 1), lengths=cross),
        _qkv_test("batch of 4", f"4 sequences of {t_k} tokens (self-attention)", _qkv(rng, (4,), t_k, t_k, d, d),
                  lengths=_lengths_draw(rng, 4, t_k)),
    ]
    if difficulty in ("medium", "hard"):
        single = _lengths_draw(rng, 3, t_k)
        single[rng.integers(0, 3)] = 1
        tests += [
            _qkv_test("float32", f"float32 inputs, a batch of 3, {t_q} queries over {t_k} keys",
                      _qkv(rng, (3,), t_q, t_k, d, d + 2), dtype="float32", lengths=_lengths_draw(rng, 3, t_k)),
            _qkv_test("one real key", f"a batch of 3 over {t_k} keys, one sequence has a single real key",
                      _qkv(rng, (3,), t, t_k, d, d), lengths=single),
        ]
    if difficulty == "hard":
        empty = _lengths_draw(rng, 3, t_k)
        empty[1] = 0
        tests += [
            _qkv_test("empty sequence", f"a batch of 3 over {t_k} keys, sequence 1 has length 0 (all padding)",
                      _qkv(rng, (3,), t_q, t_k, d, d + 1), lengths=empty),
            _qkv_test("no padding", f"a batch of 2, {t} tokens, every length is {t}",
                      _qkv(rng, (2,), t, t, d, d), lengths=np.full(2, t, dtype=np.int64)),
        ]
    return tests


PADDING_SIGNATURE = "def padding_attention(Q, K, V, lengths):"


def _padding_task(difficulty: str) -> str:
    also = {
        "easy": "batches, self-attention and non-square shapes, and lengths from 1 to the full length",
        "medium": "batches, non-square shapes, float32 inputs, and lengths from 1 to the full length",
        "hard": "batches, non-square shapes, float32 inputs, lengths from 0 to the full length, and a batch "
                "without padding",
    }[difficulty]
    return (
        "Implement scaled dot-product attention over a padded batch in NumPy: the sequences of a batch have "
        "different lengths, and each is padded at the end to the same `T_k`. A query may attend only to the "
        "real keys of its own sequence.\n\n"
        "$$\\text{output}_b = \\text{softmax}\\!\\left(\\frac{Q_b K_b^\\top}{\\sqrt{d_k}} + M_b\\right)V_b,\\qquad "
        "(M_b)_{ij} = \\begin{cases} 0 & j < \\ell_b \\\\ -\\infty & j \\ge \\ell_b \\end{cases}$$\n\n"
        f"`{PADDING_SIGNATURE}` returns `(output, weights)`.\n\n"
        "- `Q` is `(B, T_q, d_k)`, `K` is `(B, T_k, d_k)`, `V` is `(B, T_k, d_v)`; `lengths` is an integer array "
        "`(B,)`: keys $0..\\ell_b - 1$ of sequence $b$ are real, the rest is padding ($0 \\le \\ell_b \\le T_k$).\n"
        "- The padding is on the **keys** (the columns of the scores): every query of sequence $b$ gets weights "
        "over its $\\ell_b$ real keys that sum to 1, and 0 on the padding.\n"
        "- A sequence of length 0 has no key: its queries get zero weights and a zero output (not NaN).\n"
        "- `output` is `(B, T_q, d_v)`, `weights` is `(B, T_q, T_k)`.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {PADDING_SOURCE}."
    )


PADDING_STARTER = '''import numpy as np


def padding_attention(Q, K, V, lengths):
    """Attention over the first lengths[b] keys of each sequence b. Returns (output, weights)."""
    raise NotImplementedError
'''

PADDING_SOLUTION = '''import numpy as np


def padding_attention(Q, K, V, lengths):
    """Attention over the first lengths[b] keys of each sequence b. Returns (output, weights)."""
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    real = np.arange(K.shape[-2])[None, None, :] < np.asarray(lengths)[:, None, None]  # (B, 1, T_k)
    real = np.broadcast_to(real, scores.shape)
    scores = np.where(real, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # a sequence of length 0: no real key
    exps = np.where(real, np.exp(scores - top), 0.0)
    total = exps.sum(axis=-1, keepdims=True)
    weights = np.where(total > 0, exps / np.where(total > 0, total, 1.0), 0.0)
    return weights @ V, weights
'''

PADDING = CodeKind(
    name="code_padding_attention", title="Write attention over a padded batch", topics=("masking", "padding-mask"),
    framework="numpy", entry_point="padding_attention", signature=PADDING_SIGNATURE, call="function",
    returns=("output", "weights"), task=_padding_task, starter=PADDING_STARTER, solution=PADDING_SOLUTION,
    reference=padding_reference, second_route=padding_second_route, second_route_name="torch-sdpa-float64",
    draw=draw_padding_tests, examples=2, wrong=PADDING_WRONG, misconceptions=PADDING_MISCONCEPTIONS,
)
