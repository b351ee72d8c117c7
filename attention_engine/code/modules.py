"""Code kind: a multi-head attention module in PyTorch, checked against ``nn.MultiheadAttention``.

``MultiHeadAttention(d_model, num_heads)`` is an ``nn.Module`` with four ``nn.Linear(d_model,
d_model)`` layers with bias, ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj``; the grader
builds it, loads the test's weights with ``load_state_dict(strict=True)`` and calls
``forward(query, key, value, key_padding_mask=None)`` on batch-first ``(B, T, d_model)``
inputs. It returns ``(output, weights)``: ``output`` ``(B, T_q, d_model)`` and the attention
weights averaged over the heads, ``(B, T_q, T_k)``. ``key_padding_mask`` is boolean ``(B, T_k)``
and **True marks padding** (PyTorch's convention for ``nn.MultiheadAttention``).

The reference is float64 NumPy from the formula; the second route is
``torch.nn.MultiheadAttention(d_model, num_heads, batch_first=True)`` in float64 loaded with the
same weights (``in_proj_weight`` the three input projections stacked), called with
``need_weights=True, average_attn_weights=True``. The tests grow with the difficulty:
self-attention, cross-attention with ``T_q != T_k`` and ``key != value``, key padding and several
head counts, then float32 and a single head, then wider models.
"""

from __future__ import annotations

import numpy as np

from attention_engine.code.attention import _softmax_rows
from attention_engine.code.exercise import CodeKind, Test

SOURCE = ("Vaswani et al. (2017), *Attention Is All You Need*, §3.2.2 (Multi-Head Attention); PyTorch "
          "documentation, `torch.nn.MultiheadAttention`")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")


# --- the reference and its wrong twins (NumPy, float64) -------------------------------------------


def _linear(x: np.ndarray, state: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ np.asarray(state[f"{name}.weight"], dtype=np.float64).T + np.asarray(state[f"{name}.bias"])


def reference(test: Test, *, split: str = "transpose", scale: str = "d_head", out_proj: bool = True,
              heads: str = "mean", padding: str = "given") -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention as the formula says; the keyword arguments make the catalogued mistakes."""
    query, key, value = (np.asarray(test.inputs[n], dtype=np.float64) for n in ("query", "key", "value"))
    mask = test.inputs.get("key_padding_mask")
    d, h = int(test.init["d_model"]), int(test.init["num_heads"])
    d_head = d // h

    def to_heads(x: np.ndarray) -> np.ndarray:  # (B, T, d) -> (B, h, T, d_head)
        b, t, _ = x.shape
        if split == "reshape":  # the mistake: no transpose
            return x.reshape(b, h, t, d_head)
        return x.reshape(b, t, h, d_head).transpose(0, 2, 1, 3)

    q, k, v = (to_heads(_linear(x, test.state, n)) for x, n in ((query, "q_proj"), (key, "k_proj"), (value, "v_proj")))
    scores = q @ np.swapaxes(k, -1, -2) / {"d_head": np.sqrt(d_head), "d_model": np.sqrt(d), "none": 1.0}[scale]
    allowed = None
    if mask is not None and padding != "ignored":
        pad = np.asarray(mask, dtype=bool)
        allowed = (pad if padding == "inverted" else ~pad)[:, None, None, :]
    weights = _softmax_rows(scores, allowed, empty_rows="nan")  # (B, h, T_q, T_k)
    b, t_q = query.shape[:2]
    per_head = weights @ v
    merged = per_head.reshape(b, t_q, d) if split == "reshape" else per_head.transpose(0, 2, 1, 3).reshape(b, t_q, d)
    output = _linear(merged, test.state, "out_proj") if out_proj else merged
    shown = {"mean": lambda w: w.mean(axis=1), "last": lambda w: w[:, -1], "sum": lambda w: w.sum(axis=1),
             "per_head": lambda w: w}[heads](weights)
    return output, shown


def second_route(test: Test) -> tuple[np.ndarray, np.ndarray]:
    """``nn.MultiheadAttention(d_model, num_heads, batch_first=True)`` in float64, loaded with the
    test's weights, ``need_weights=True, average_attn_weights=True``."""
    import torch
    from torch import nn

    d, h = int(test.init["d_model"]), int(test.init["num_heads"])
    module = nn.MultiheadAttention(d, h, batch_first=True, dtype=torch.float64)
    module.eval()
    state = {name: torch.from_numpy(np.asarray(a, dtype=np.float64)) for name, a in test.state.items()}
    module.load_state_dict({
        "in_proj_weight": torch.cat([state[f"{n}.weight"] for n in PROJECTIONS[:3]]),
        "in_proj_bias": torch.cat([state[f"{n}.bias"] for n in PROJECTIONS[:3]]),
        "out_proj.weight": state["out_proj.weight"], "out_proj.bias": state["out_proj.bias"],
    }, strict=True)
    query, key, value = (torch.from_numpy(np.ascontiguousarray(test.inputs[n], dtype=np.float64))
                         for n in ("query", "key", "value"))
    mask = test.inputs.get("key_padding_mask")
    with torch.no_grad():
        output, weights = module(query, key, value, key_padding_mask=None if mask is None else torch.from_numpy(mask),
                                 need_weights=True, average_attn_weights=True)
    return output.numpy(), weights.numpy()


WRONG = {
    "no_output_projection": ("easy", lambda t: reference(t, out_proj=False)),
    "heads_split_without_transpose": ("easy", lambda t: reference(t, split="reshape")),
    "scaled_by_sqrt_d_model": ("easy", lambda t: reference(t, scale="d_model")),
    "no_scaling": ("easy", lambda t: reference(t, scale="none")),
    "weights_of_last_head": ("easy", lambda t: reference(t, heads="last")),
    "weights_summed_over_heads": ("easy", lambda t: reference(t, heads="sum")),
    "weights_per_head": ("easy", lambda t: reference(t, heads="per_head")),
    "padding_inverted": ("easy", lambda t: reference(t, padding="inverted")),
    "padding_ignored": ("easy", lambda t: reference(t, padding="ignored")),
}
MISCONCEPTIONS = {
    "no_output_projection": "the heads were concatenated but not passed through `out_proj`.",
    "heads_split_without_transpose": "the heads were split by reshaping `(B, T, d_model)` straight to "
                                     "`(B, h, T, d_head)`, which mixes tokens into heads; reshape to "
                                     "`(B, T, h, d_head)` and then transpose the middle axes (and back again "
                                     "before `out_proj`).",
    "scaled_by_sqrt_d_model": "the scores were divided by $\\sqrt{d_{\\text{model}}}$; each head divides by "
                              "$\\sqrt{d_{\\text{head}}}$, $d_{\\text{head}} = d_{\\text{model}}/h$.",
    "no_scaling": "the scores were not divided by $\\sqrt{d_{\\text{head}}}$.",
    "weights_of_last_head": "the weights returned were those of the last head; return their mean over the heads.",
    "weights_summed_over_heads": "the weights were summed over the heads; return their mean (each row sums to 1).",
    "weights_per_head": "the weights were returned per head, `(B, h, T_q, T_k)`; return their mean over the heads, "
                        "`(B, T_q, T_k)`.",
    "padding_inverted": "the key-padding mask was read backwards: True marks a padding key, which no query may "
                        "attend to (PyTorch's convention).",
    "padding_ignored": "the key-padding mask was not applied.",
}


# --- the tests -------------------------------------------------------------------------------------


def _grid(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Normal values on a grid of 1/64: exact in float32 too (the float32 tests get the very
    values the reference uses) and short in JSON."""
    return np.round(rng.normal(scale=scale, size=shape) * 64) / 64


def _state(rng: np.random.Generator, d: int) -> dict[str, np.ndarray]:
    """Four projections with bias, weights of scale 1/sqrt(d) (scores neither flat nor saturated)."""
    state = {}
    for name in PROJECTIONS:
        state[f"{name}.weight"] = _grid(rng, d, d, scale=1.0 / np.sqrt(d))
        state[f"{name}.bias"] = _grid(rng, d, scale=0.1)
    return state


def _padding(rng: np.random.Generator, batch: int, t_k: int) -> np.ndarray:
    """``(batch, t_k)``, True for padding: each sequence keeps 1 to ``t_k - 1`` keys at its start
    (at least one real key and at least one padding key each)."""
    lengths = rng.integers(1, t_k, size=batch)
    return np.arange(t_k)[None, :] >= lengths[:, None]


def _test(name: str, description: str, rng: np.random.Generator, *, d: int, h: int, b: int, t_q: int,
          t_k: int | None = None, same_kv: bool = True, padded: bool = False, dtype: str = "float64") -> Test:
    """Self-attention when ``t_k`` is None (query = key = value), else cross-attention over a
    memory of ``t_k`` tokens (key = value unless ``same_kv`` is False)."""
    state = _state(rng, d)
    query = _grid(rng, b, t_q, d)
    if t_k is None:
        key = value = query
    else:
        key = _grid(rng, b, t_k, d)
        value = key if same_kv else _grid(rng, b, t_k, d)
    inputs = {"query": query, "key": key, "value": value}
    if padded:
        inputs["key_padding_mask"] = _padding(rng, b, key.shape[1])
    return Test(name=name, description=description, inputs=inputs, dtype=dtype,
                init={"d_model": d, "num_heads": h}, state=state)


def draw_tests(rng: np.random.Generator, difficulty: str) -> list[Test]:
    """The examples first (self-attention; cross-attention), then the hidden tests."""
    t = int(rng.integers(3, 5))
    t_q, t_k = int(rng.integers(2, 4)), int(rng.integers(5, 7))
    tests = [
        _test("self-attention", f"d_model = 4, 2 heads, a batch of 2 sequences of {t} tokens, query = key = value",
              rng, d=4, h=2, b=2, t_q=t),
        _test("cross-attention", f"d_model = 4, 2 heads, {t_q} queries over a memory of {t_k} tokens "
              "(key = value = memory)", rng, d=4, h=2, b=2, t_q=t_q, t_k=t_k),
        _test("four heads", f"d_model = 8, 4 heads, self-attention over {t + 1} tokens", rng, d=8, h=4, b=2, t_q=t + 1),
        _test("key padding", f"d_model = 6, 3 heads, a batch of 3 with a key-padding mask over {t_k} tokens "
              "(self-attention)", rng, d=6, h=3, b=3, t_q=t_k, padded=True),
        _test("key and value differ", f"d_model = 8, 2 heads, {t_q} queries over {t_k} tokens, key != value, "
              "key padding", rng, d=8, h=2, b=2, t_q=t_q, t_k=t_k, same_kv=False, padded=True),
    ]
    if difficulty in ("medium", "hard"):
        tests += [
            _test("float32", f"float32, d_model = 8, 2 heads, self-attention with key padding over {t_k} tokens",
                  rng, d=8, h=2, b=2, t_q=t_k, padded=True, dtype="float32"),
            _test("one head", f"d_model = 6, 1 head, {t_q} queries over {t_k} tokens with key padding",
                  rng, d=6, h=1, b=2, t_q=t_q, t_k=t_k, padded=True),
        ]
    if difficulty == "hard":
        tests += [
            _test("wider, float32", f"float32, d_model = 16, 4 heads, {t_q + 2} queries over {t_k + 2} tokens, "
                  "key != value, key padding", rng, d=16, h=4, b=3, t_q=t_q + 2, t_k=t_k + 2, same_kv=False,
                  padded=True, dtype="float32"),
            _test("eight heads", f"d_model = 16, 8 heads, self-attention over {t_k + 3} tokens with key padding",
                  rng, d=16, h=8, b=2, t_q=t_k + 3, padded=True),
        ]
    return tests


SIGNATURE = "class MultiHeadAttention(nn.Module):  # forward(self, query, key, value, key_padding_mask=None)"


def _task(difficulty: str) -> str:
    also = {
        "easy": "self-attention, cross-attention (`key` equal to `value` or not), key padding and 2 to 4 heads",
        "medium": "self-attention, cross-attention (`key` equal to `value` or not), key padding, a single head "
                  "and float32 inputs",
        "hard": "self-attention, cross-attention (`key` equal to `value` or not), key padding, 1 to 8 heads, "
                "`d_model` up to 16 and float32 inputs",
    }[difficulty]
    return (
        "Implement multi-head attention as a PyTorch module:\n\n"
        "$$\\text{MultiHead}(Q, K, V) = \\text{Concat}(\\text{head}_1, \\ldots, \\text{head}_h)\\,W^O, \\qquad "
        "\\text{head}_j = \\text{softmax}\\!\\left(\\frac{Q_j K_j^\\top}{\\sqrt{d_{\\text{head}}}}\\right) V_j$$\n\n"
        "where $Q_j, K_j, V_j$ are the columns of head $j$ of the projections `q_proj(query)`, `k_proj(key)`, "
        "`v_proj(value)`, and $d_{\\text{head}} = d_{\\text{model}} / h$.\n\n"
        "- `MultiHeadAttention(d_model, num_heads)` has exactly four layers `nn.Linear(d_model, d_model)` with "
        "bias, named `q_proj`, `k_proj`, `v_proj` and `out_proj` (as in the starter code): the grader builds "
        "your module, loads the test's weights with `load_state_dict(..., strict=True)` (keys `q_proj.weight`, "
        "`q_proj.bias`, ...) and calls it under `torch.no_grad()`. `d_model` is divisible by `num_heads`.\n"
        "- `forward(self, query, key, value, key_padding_mask=None)` takes batch-first tensors: `query` is "
        "`(B, T_q, d_model)`, `key` and `value` are `(B, T_k, d_model)` (self-attention passes the same tensor "
        "three times).\n"
        "- Head $j$ uses features `j * d_head` to `(j + 1) * d_head - 1` of each projection.\n"
        "- `key_padding_mask` is `None` or a boolean `(B, T_k)` tensor where **True marks a padding key**, "
        "which no query may attend to: PyTorch's convention for `nn.MultiheadAttention` (the opposite of a "
        "mask where True means \"may attend\"). Every sequence keeps at least one key.\n"
        "- Return `(output, weights)`: `output` is `(B, T_q, d_model)` (after `out_proj`) and `weights` the "
        "attention weights **averaged over the heads**, `(B, T_q, T_k)`, as `nn.MultiheadAttention` returns "
        "them with `average_attn_weights=True`. Keep the input's dtype and device.\n\n"
        "Your result is checked against `nn.MultiheadAttention(d_model, num_heads, batch_first=True)` loaded "
        "with the same weights.\n\n"
        f"The two examples are shown with their results; the hidden tests cover {also}.\n\n"
        f"Source: {SOURCE}."
    )


# The stated weight layout, given in the starter code and kept by the solution.
LAYOUT = '''import math

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
'''

STARTER = LAYOUT + '''
    def forward(self, query, key, value, key_padding_mask=None):
        """query (B, T_q, d_model), key and value (B, T_k, d_model); key_padding_mask (B, T_k), True = padding.
        Returns (output (B, T_q, d_model), weights averaged over the heads (B, T_q, T_k))."""
        raise NotImplementedError
'''

SOLUTION = LAYOUT + '''
    def split(self, x):
        """(B, T, d_model) -> (B, h, T, d_head)"""
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_head).transpose(1, 2)

    def forward(self, query, key, value, key_padding_mask=None):
        """query (B, T_q, d_model), key and value (B, T_k, d_model); key_padding_mask (B, T_k), True = padding.
        Returns (output (B, T_q, d_model), weights averaged over the heads (B, T_q, T_k))."""
        q = self.split(self.q_proj(query))
        k = self.split(self.k_proj(key))
        v = self.split(self.v_proj(value))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, h, T_q, T_k)
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        B, T_q, _ = query.shape
        heads = (weights @ v).transpose(1, 2).reshape(B, T_q, self.d_model)
        return self.out_proj(heads), weights.mean(dim=1)
'''

MHA = CodeKind(
    name="code_mha_module", title="Write a multi-head attention module in PyTorch",
    topics=("multi-head-attention", "pytorch-multihead-attention"), framework="torch", entry_point="MultiHeadAttention",
    signature=SIGNATURE, call="module", returns=("output", "weights"), task=_task, starter=STARTER, solution=SOLUTION,
    reference=reference, second_route=second_route, second_route_name="torch-nn-MultiheadAttention-float64",
    draw=draw_tests, examples=2, wrong=WRONG, misconceptions=MISCONCEPTIONS,
)
