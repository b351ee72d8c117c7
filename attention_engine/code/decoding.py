"""Code kinds of the decoder: cross-attention and one step of decoding with a KV cache (PyTorch).

* ``code_cross_attention``: ``cross_attention(x_dec, x_enc, W_q, W_k, W_v)``, the queries
  projected from the decoder's states, the keys and values from the encoder's; the tests have
  ``T_dec != T_enc`` and ``d_model``, ``d_k``, ``d_v`` all different, so the roles swapped and
  every wrong scale give other numbers (or shapes).
* ``code_kv_cache_step``: ``decode_step(x_t, W_q, W_k, W_v, cache_k, cache_v)``, the new
  token projected, its key and value appended to the caches, then attention from its query
  over every cached position. An empty cache (the first step) is ``None``: the tests travel as
  JSON, where an array of shape ``(B, 0, d)`` would come back as ``(B, 0)``.

Each kind has a float64 NumPy reference whose keyword arguments make the catalogued mistakes,
and a second route through ``F.scaled_dot_product_attention``.
"""

from __future__ import annotations

import numpy as np

from attention_engine.code.attention import _normal, _softmax_rows
from attention_engine.code.exercise import CodeKind, Test
from attention_engine.code.masks import _as, _floats, _sdpa

# === code_cross_attention ==========================================================================

CROSS_SOURCE = ("Vaswani et al. (2017), *Attention Is All You Need*, §3.2.3 (encoder-decoder attention: "
                "the queries come from the previous decoder layer, the keys and values from the encoder's output)")


def _projections(test: Test, *, swapped: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x_dec, x_enc, w_q, w_k, w_v = _floats(test, "x_dec", "x_enc", "W_q", "W_k", "W_v")
    source, target = (x_dec, x_enc) if swapped else (x_enc, x_dec)
    return target @ w_q, source @ w_k, source @ w_v


def cross_reference(test: Test, *, swapped: bool = False, scale: str = "d_k",
                    axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Cross-attention as the formula says; the keyword arguments make the catalogued mistakes:
    the roles of decoder and encoder swapped, the scores divided by nothing, by $\\sqrt{d_{model}}$
    or by $\\sqrt{d_v}$, the softmax over the decoder's positions."""
    q, k, v = _projections(test, swapped=swapped)
    d_model = np.asarray(test.inputs["x_dec"]).shape[-1]
    divisor = {"d_k": np.sqrt(q.shape[-1]), "none": 1.0, "d_model": np.sqrt(d_model), "d_v": np.sqrt(v.shape[-1])}
    weights = _softmax_rows(q @ np.swapaxes(k, -1, -2) / divisor[scale], None, axis=axis)
    return weights @ v, weights


def cross_second_route(test: Test) -> tuple[np.ndarray, np.ndarray]:
    """The projections in torch, then ``F.scaled_dot_product_attention`` (weights for ``V = I``)."""
    import torch

    x_dec, x_enc, w_q, w_k, w_v = (torch.from_numpy(np.ascontiguousarray(a)) for a in
                                   _floats(test, "x_dec", "x_enc", "W_q", "W_k", "W_v"))
    return _sdpa((x_dec @ w_q).numpy(), (x_enc @ w_k).numpy(), (x_enc @ w_v).numpy())


CROSS_WRONG = {
    "roles_swapped": ("easy", lambda t: cross_reference(t, swapped=True)),
    "no_scaling": ("easy", lambda t: cross_reference(t, scale="none")),
    "scaled_by_d_model": ("easy", lambda t: cross_reference(t, scale="d_model")),
    "scaled_by_d_v": ("easy", lambda t: cross_reference(t, scale="d_v")),
    "softmax_over_queries": ("easy", lambda t: cross_reference(t, axis=-2)),
}
CROSS_MISCONCEPTIONS = {
    "roles_swapped": "the roles were swapped: the queries come from the decoder (`x_dec @ W_q`), the keys and "
                     "values from the encoder (`x_enc @ W_k`, `x_enc @ W_v`); there is one output row per decoder "
                     "position.",
    "no_scaling": "the scores were not divided by $\\sqrt{d_k}$.",
    "scaled_by_d_model": "the scores were divided by $\\sqrt{d_{model}}$ (the width of the states), not by "
                         "$\\sqrt{d_k}$ (the width of the queries and keys).",
    "scaled_by_d_v": "the scores were divided by $\\sqrt{d_v}$ (the width of the values), not by $\\sqrt{d_k}$ "
                     "(the width of the queries and keys).",
    "softmax_over_queries": "the softmax ran over the decoder's positions (down the columns), not over the "
                            "encoder's positions along each row.",
}


def _cross_test(rng: np.random.Generator, name: str, description: str, batch: tuple[int, ...], t_dec: int,
                t_enc: int, dims: tuple[int, int, int], dtype: str = "float64", scale: float = 1.0) -> Test:
    d_model, d_k, d_v = dims
    arrays = {
        "x_dec": _normal(rng, *batch, t_dec, d_model, scale=scale), "x_enc": _normal(rng, *batch, t_enc, d_model),
        "W_q": _normal(rng, d_model, d_k, scale=1 / np.sqrt(d_model)),
        "W_k": _normal(rng, d_model, d_k, scale=scale / np.sqrt(d_model)),
        "W_v": _normal(rng, d_model, d_v, scale=1 / np.sqrt(d_model)),
    }
    return Test(name=name, description=description, dtype=dtype,
                inputs=dict(zip(arrays, _as(dtype, *arrays.values()), strict=True)))


def draw_cross_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples (one pair of sequences; a batch of 2), then a longer encoder; medium adds
    two batch dimensions, float32 and a single decoder position; hard a single encoder state,
    a long encoder and scores in the thousands."""
    d_k = int(rng.integers(3, 5))
    dims = (int(rng.integers(7, 9)), d_k, d_k + int(rng.integers(1, 3)))  # d_model > d_v > d_k
    t_dec, t_enc = int(rng.integers(2, 4)), int(rng.integers(4, 6))
    shapes = f"d_model = {dims[0]}, d_k = {dims[1]}, d_v = {dims[2]}"
    tests = [
        _cross_test(rng, "one pair", f"{t_dec} decoder positions over {t_enc} encoder states, {shapes}", (),
                    t_dec, t_enc, dims),
        _cross_test(rng, "batch", f"a batch of 2, {t_dec} decoder positions over {t_enc} encoder states", (2,),
                    t_dec, t_enc, dims),
        _cross_test(rng, "longer encoder", f"a batch of 3, {t_dec + 1} decoder positions over {t_enc + 3} encoder "
                    "states", (3,), t_dec + 1, t_enc + 3, dims),
    ]
    if difficulty in ("medium", "hard"):
        tests += [
            _cross_test(rng, "two batch dimensions", f"shape (2, 2, T, {dims[0]}): batch and heads", (2, 2),
                        t_dec, t_enc, dims),
            _cross_test(rng, "float32", "float32 inputs, a batch of 2", (2,), t_enc, t_dec + 1, dims, "float32"),
            _cross_test(rng, "one decoder position", f"a batch of 2, one decoder position over {t_enc} encoder states",
                        (2,), 1, t_enc, dims),
        ]
    if difficulty == "hard":
        tests += [
            _cross_test(rng, "one encoder state", f"a batch of 2, {t_dec} decoder positions over a single encoder "
                        "state", (2,), t_dec, 1, dims),
            _cross_test(rng, "long encoder", f"a batch of 2, {t_dec} decoder positions over 12 encoder states", (2,),
                        t_dec, 12, dims),
            _cross_test(rng, "large scores", "scores in the thousands: a naive softmax overflows", (2,), t_dec, t_enc,
                        dims, scale=30.0),
        ]
    return tests


CROSS_SIGNATURE = "def cross_attention(x_dec, x_enc, W_q, W_k, W_v):"


def _cross_task(difficulty: str) -> str:
    also = {
        "easy": "batches and encoders of other lengths",
        "medium": "batches (also two batch dimensions), encoders of other lengths, float32 inputs and a single "
                  "decoder position",
        "hard": "batches, float32 inputs, a single decoder position, a single encoder state, a long encoder and "
                "scores large enough to overflow a naive softmax",
    }[difficulty]
    return (
        "Implement the encoder-decoder (cross-)attention of a Transformer decoder in PyTorch: the decoder's states "
        "ask the questions, the encoder's states answer them.\n\n"
        "$$Q = X_{dec}W_Q,\\quad K = X_{enc}W_K,\\quad V = X_{enc}W_V,\\qquad "
        "\\text{output} = \\text{softmax}\\!\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$\n\n"
        f"`{CROSS_SIGNATURE}` returns `(output, weights)`.\n\n"
        "- `x_dec` is `(..., T_dec, d_model)` (the decoder's states), `x_enc` is `(..., T_enc, d_model)` (the "
        "encoder's output), with the same batch dimensions `...` (any number, none included); in general "
        "$T_{dec} \\ne T_{enc}$.\n"
        "- `W_q` and `W_k` are `(d_model, d_k)`, `W_v` is `(d_model, d_v)`; a state times a matrix is a row "
        "vector times it (`x @ W`), no bias. $d_{model}$, $d_k$ and $d_v$ all differ.\n"
        "- The softmax runs over the encoder's positions: each decoder position's weights sum to 1.\n"
        "- `output` is `(..., T_dec, d_v)`, `weights` is `(..., T_dec, T_enc)`. Keep the input's dtype and "
        "device: no `.double()`, no `.cpu()`.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {CROSS_SOURCE}."
    )


CROSS_STARTER = '''import torch


def cross_attention(x_dec, x_enc, W_q, W_k, W_v):
    """Queries from the decoder states, keys and values from the encoder states.
    Returns (output, weights)."""
    raise NotImplementedError
'''

CROSS_SOLUTION = '''import math

import torch


def cross_attention(x_dec, x_enc, W_q, W_k, W_v):
    """Queries from the decoder states, keys and values from the encoder states.
    Returns (output, weights)."""
    Q = x_dec @ W_q  # (..., T_dec, d_k)
    K = x_enc @ W_k  # (..., T_enc, d_k)
    V = x_enc @ W_v  # (..., T_enc, d_v)
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    weights = torch.softmax(scores, dim=-1)  # over the encoder's positions
    return weights @ V, weights
'''

CROSS = CodeKind(
    name="code_cross_attention", title="Write cross-attention in PyTorch", topics=("cross-attention", "decoder"),
    framework="torch", entry_point="cross_attention", signature=CROSS_SIGNATURE, call="function",
    returns=("output", "weights"), task=_cross_task, starter=CROSS_STARTER, solution=CROSS_SOLUTION,
    reference=cross_reference, second_route=cross_second_route, second_route_name="torch-matmul-sdpa-float64",
    draw=draw_cross_tests, examples=2, wrong=CROSS_WRONG, misconceptions=CROSS_MISCONCEPTIONS,
)


# === code_kv_cache_step ============================================================================

KV_SOURCE = ("Pope et al. (2022), *Efficiently Scaling Transformer Inference*, §2 (the attention keys and values "
             "of earlier positions are kept in a KV cache); PyTorch documentation, "
             "`torch.nn.functional.scaled_dot_product_attention`")


def _step_inputs(test: Test) -> tuple[np.ndarray, ...]:
    """``q, k, v`` of the new token and the caches (``(B, 0, d)`` for an empty one)."""
    x_t, w_q, w_k, w_v = _floats(test, "x_t", "W_q", "W_k", "W_v")
    q, k, v = x_t @ w_q, x_t @ w_k, x_t @ w_v
    caches = []
    for name, new in (("cache_k", k), ("cache_v", v)):
        cached = test.inputs.get(name)
        caches.append(np.zeros((new.shape[0], 0, new.shape[-1])) if cached is None
                      else np.asarray(cached, dtype=np.float64))
    return q, k, v, caches[0], caches[1]


def kv_reference(test: Test, *, order: str = "append", attend: str = "after",
                 scale: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One decoding step; the keyword arguments make the catalogued mistakes: attention over the
    old cache only (not applicable to an empty cache: the code has nothing to attend to and
    fails), the cache overwritten by the new token, the new token put first, no scaling."""
    q, k, v, cache_k, cache_v = _step_inputs(test)
    if order == "append":
        new_k, new_v = np.concatenate([cache_k, k], axis=1), np.concatenate([cache_v, v], axis=1)
    elif order == "prepend":
        new_k, new_v = np.concatenate([k, cache_k], axis=1), np.concatenate([v, cache_v], axis=1)
    else:  # overwrite
        new_k, new_v = k, v
    keys, values = (new_k, new_v) if attend == "after" else (cache_k, cache_v)
    if keys.shape[1] == 0:
        raise ValueError("nothing to attend to")
    scores = q @ np.swapaxes(keys, -1, -2)
    if scale:
        scores = scores / np.sqrt(q.shape[-1])
    return _softmax_rows(scores, None) @ values, new_k, new_v


def kv_second_route(test: Test) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The projections and ``torch.cat`` in torch, then ``F.scaled_dot_product_attention`` from
    the new query over the concatenated caches."""
    import torch

    x_t, w_q, w_k, w_v = (torch.from_numpy(np.ascontiguousarray(a)) for a in _floats(test, "x_t", "W_q", "W_k", "W_v"))
    q, k, v = x_t @ w_q, x_t @ w_k, x_t @ w_v
    keys, values = k, v
    if test.inputs.get("cache_k") is not None:
        cache_k, cache_v = (torch.from_numpy(np.ascontiguousarray(a)) for a in _floats(test, "cache_k", "cache_v"))
        keys, values = torch.cat([cache_k, k], dim=1), torch.cat([cache_v, v], dim=1)
    output, _ = _sdpa(q.numpy(), keys.numpy(), values.numpy())
    return output, keys.numpy(), values.numpy()


KV_WRONG = {
    "attended_before_appending": ("easy", lambda t: kv_reference(t, attend="before")),
    "cache_overwritten": ("easy", lambda t: kv_reference(t, order="overwrite")),
    "cache_prepended": ("easy", lambda t: kv_reference(t, order="prepend")),
    "no_scaling": ("easy", lambda t: kv_reference(t, scale=False)),
}
KV_MISCONCEPTIONS = {
    "attended_before_appending": "the new token attended over the old cache only: append its key and value "
                                 "first, so that it also attends to itself (and the first step has a key at all).",
    "cache_overwritten": "the cache was replaced by the new token's key and value instead of growing by one "
                         "position: `cache_k` must go from `(B, T, d_k)` to `(B, T+1, d_k)`.",
    "cache_prepended": "the new key and value were put at the front of the cache: append them at the end "
                       "(`torch.cat([cache_k, k], dim=1)`), so position $t$ stays at index $t$.",
    "no_scaling": "the scores were not divided by $\\sqrt{d_k}$.",
}


def _step_test(rng: np.random.Generator, name: str, description: str, batch: int, cached: int,
               dims: tuple[int, int, int], dtype: str = "float64", scale: float = 1.0) -> Test:
    d_model, d_k, d_v = dims
    arrays = {
        "x_t": _normal(rng, batch, 1, d_model, scale=scale),
        "W_q": _normal(rng, d_model, d_k, scale=1 / np.sqrt(d_model)),
        "W_k": _normal(rng, d_model, d_k, scale=1 / np.sqrt(d_model)),
        "W_v": _normal(rng, d_model, d_v, scale=1 / np.sqrt(d_model)),
    }
    if cached:
        arrays["cache_k"] = _normal(rng, batch, cached, d_k, scale=scale)
        arrays["cache_v"] = _normal(rng, batch, cached, d_v)
    inputs = dict(zip(arrays, _as(dtype, *arrays.values()), strict=True))
    inputs.setdefault("cache_k", None)
    inputs.setdefault("cache_v", None)
    return Test(name=name, description=description, dtype=dtype, inputs=inputs)


def draw_kv_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples (one sequence with 3 cached positions; a batch of 2), then the first step
    (an empty cache) and a longer cache; medium adds float32 and a single cached position; hard
    the first step of a batch of 3, a long cache and scores in the thousands."""
    d_k = int(rng.integers(3, 5))
    dims = (int(rng.integers(5, 7)), d_k, d_k + int(rng.integers(1, 3)))
    t = int(rng.integers(3, 6))
    tests = [
        _step_test(rng, "one sequence", f"a batch of 1, 3 cached positions, d_model = {dims[0]}, d_k = {dims[1]}, "
                   f"d_v = {dims[2]}", 1, 3, dims),
        _step_test(rng, "batch", f"a batch of 2, {t} cached positions", 2, t, dims),
        _step_test(rng, "first step", "a batch of 2, an empty cache (None): the first token", 2, 0, dims),
        _step_test(rng, "longer cache", f"a batch of 2, {t + 4} cached positions", 2, t + 4, dims),
    ]
    if difficulty in ("medium", "hard"):
        tests += [
            _step_test(rng, "float32", f"float32 inputs, a batch of 3, {t} cached positions", 3, t, dims, "float32"),
            _step_test(rng, "one cached position", "a batch of 2, a single cached position", 2, 1, dims),
        ]
    if difficulty == "hard":
        tests += [
            _step_test(rng, "first step, batch of 3", "a batch of 3, an empty cache (None), float32", 3, 0, dims,
                       "float32"),
            _step_test(rng, "long cache", "a batch of 2, 16 cached positions", 2, 16, dims),
            _step_test(rng, "large scores", f"a batch of 2, {t} cached positions, scores in the thousands: a naive "
                       "softmax overflows", 2, t, dims, scale=30.0),
        ]
    return tests


KV_SIGNATURE = "def decode_step(x_t, W_q, W_k, W_v, cache_k, cache_v):"


def _kv_task(difficulty: str) -> str:
    also = {
        "easy": "batches, the first step (an empty cache) and longer caches",
        "medium": "batches, the first step, longer caches, float32 inputs and a single cached position",
        "hard": "batches, the first step (also in float32), a single cached position, a long cache and scores "
                "large enough to overflow a naive softmax",
    }[difficulty]
    return (
        "Implement one step of autoregressive decoding with a KV cache in PyTorch. The keys and values of the "
        "earlier positions are cached, so a new token only needs its own projections: append its key and value "
        "to the caches, then let its query attend over every position so far (itself included).\n\n"
        "$$q_t = x_tW_Q,\\quad k_t = x_tW_K,\\quad v_t = x_tW_V,\\qquad "
        "K \\leftarrow \\begin{bmatrix} K \\\\ k_t \\end{bmatrix},\\quad "
        "V \\leftarrow \\begin{bmatrix} V \\\\ v_t \\end{bmatrix},\\qquad "
        "o_t = \\text{softmax}\\!\\left(\\frac{q_tK^\\top}{\\sqrt{d_k}}\\right)V$$\n\n"
        f"`{KV_SIGNATURE}` returns `(output, cache_k, cache_v)`.\n\n"
        "- `x_t` is `(B, 1, d_model)`: the new token of each of the `B` sequences. `W_q` and `W_k` are "
        "`(d_model, d_k)`, `W_v` is `(d_model, d_v)` (`x @ W`, no bias).\n"
        "- `cache_k` is `(B, T, d_k)` and `cache_v` is `(B, T, d_v)`: the keys and values of the `T` earlier "
        "positions, in order. At the first step nothing is cached yet and both are `None`.\n"
        "- Return the grown caches, `(B, T+1, d_k)` and `(B, T+1, d_v)` with the new position **last** (at the "
        "first step `(B, 1, d_k)` and `(B, 1, d_v)`), and `output`, `(B, 1, d_v)`: the new query's attention over "
        "all `T+1` positions.\n"
        "- Keep the input's dtype and device: no `.double()`, no `.cpu()`.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {KV_SOURCE}."
    )


KV_STARTER = '''import torch


def decode_step(x_t, W_q, W_k, W_v, cache_k, cache_v):
    """One decoding step: append the new token's key and value to the caches (None at the first
    step), then attend from its query over all positions. Returns (output, cache_k, cache_v)."""
    raise NotImplementedError
'''

KV_SOLUTION = '''import math

import torch


def decode_step(x_t, W_q, W_k, W_v, cache_k, cache_v):
    """One decoding step: append the new token's key and value to the caches (None at the first
    step), then attend from its query over all positions. Returns (output, cache_k, cache_v)."""
    q, k, v = x_t @ W_q, x_t @ W_k, x_t @ W_v  # (B, 1, d_k), (B, 1, d_k), (B, 1, d_v)
    if cache_k is None:  # the first step: nothing cached yet
        cache_k, cache_v = k, v
    else:
        cache_k = torch.cat([cache_k, k], dim=1)  # (B, T+1, d_k)
        cache_v = torch.cat([cache_v, v], dim=1)  # (B, T+1, d_v)
    scores = q @ cache_k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, 1, T+1)
    weights = torch.softmax(scores, dim=-1)
    return weights @ cache_v, cache_k, cache_v
'''

KV_CACHE_STEP = CodeKind(
    name="code_kv_cache_step", title="Write a decoding step with a KV cache", topics=("kv-cache-decoding", "kv-cache", "decoder"),
    framework="torch", entry_point="decode_step", signature=KV_SIGNATURE, call="function",
    returns=("output", "cache_k", "cache_v"), task=_kv_task, starter=KV_STARTER, solution=KV_SOLUTION,
    reference=kv_reference, second_route=kv_second_route, second_route_name="torch-cat-sdpa-float64",
    draw=draw_kv_tests, examples=2, wrong=KV_WRONG, misconceptions=KV_MISCONCEPTIONS,
)
