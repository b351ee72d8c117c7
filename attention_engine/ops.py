"""Attention operations: the float64 numpy reference route, written from the formulas.

Conventions used throughout the engine
    * Row vectors: tokens are rows, ``Q = X W_q`` with ``W_q`` of shape ``(d_model, d_k)``
      (the textbook convention; torch's ``nn.Linear`` stores the transpose).
    * **Masks are boolean with True = "may attend"** (this key takes part for this query), the
      same reading as the boolean ``attn_mask`` of ``F.scaled_dot_product_attention``.
      ``nn.MultiheadAttention``'s ``key_padding_mask`` / boolean ``attn_mask`` use the opposite
      reading (True = ignore); ``attention_engine.torch_ops`` converts with ``~mask``.
    * Masked scores are filled with ``fill`` before the softmax. ``-inf`` (nanoGPT) makes a
      fully masked row ``0/0 = NaN``; a finite ``-1e9`` (The Annotated Transformer) makes it
      uniform, which silently attends to padding (and ``-1e9`` overflows fp16).

Every function is pure and works on any leading batch dimensions. The torch route in
``attention_engine.torch_ops`` computes the same things with torch built-ins; the two are
compared for every key the engine hands out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""Numerically stable softmax along ``axis``.

    $$\operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j$$

    Subtracting the max changes nothing mathematically (it cancels) but keeps every exponent
    $\le 0$, so nothing overflows. A slice that is entirely ``-inf`` gives NaN (there is
    nothing to normalise), matching torch.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):  # -inf - -inf in fully masked slices -> NaN, on purpose
        e = np.exp(x - m)
        return e / np.sum(e, axis=axis, keepdims=True)


def attention_scores(q: np.ndarray, k: np.ndarray, scale: float | None = None) -> np.ndarray:
    r"""Scaled scores $S = \dfrac{Q K^\top}{\sqrt{d_k}}$, shape ``(..., T_q, T_k)``.

    ``scale`` overrides $1/\sqrt{d_k}$ (e.g. ``1.0`` to show the unscaled scores).
    """
    q = np.asarray(q, dtype=np.float64)  # (..., T_q, d_k)
    k = np.asarray(k, dtype=np.float64)  # (..., T_k, d_k)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    return (q @ np.swapaxes(k, -1, -2)) * scale  # (..., T_q, T_k)


def apply_mask(scores: np.ndarray, mask: np.ndarray | None, fill: float = -np.inf) -> np.ndarray:
    """Scores with every position where ``mask`` is False replaced by ``fill`` (True = attend)."""
    if mask is None:
        return scores
    return np.where(np.asarray(mask, dtype=bool), scores, fill)


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    fill: float = -np.inf,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Attention returning the output **and** the weights.

    $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V$$

    The softmax runs over the key axis (the last one): each query's weights sum to 1.
    ``mask`` broadcasts to ``(..., T_q, T_k)``, True = attend.
    Returns ``(output (..., T_q, d_v), weights (..., T_q, T_k))``.
    """
    scores = apply_mask(attention_scores(q, k, scale), mask, fill)  # (..., T_q, T_k)
    weights = softmax(scores, axis=-1)  # (..., T_q, T_k)
    return weights @ np.asarray(v, dtype=np.float64), weights  # (..., T_q, d_v)


def causal_mask(t_q: int, t_k: int | None = None) -> np.ndarray:
    r"""Boolean ``(T_q, T_k)`` mask, True where key $j \le i$ (query $i$ may see the past only).

    With ``t_k > t_q`` (decoding with a cache) the queries are the *last* ``t_q`` positions, so
    query $i$ sees keys $j \le i + (T_k - T_q)$.
    """
    t_k = t_q if t_k is None else t_k
    return np.tril(np.ones((t_q, t_k), dtype=bool), k=t_k - t_q)


def padding_mask(lengths: Sequence[int], seq_len: int) -> np.ndarray:
    """Boolean ``(B, T)`` mask, True for real tokens (position < length), False for padding.

    Use ``mask[:, None, :]`` to broadcast it over queries: ``(B, 1, T_k)``.
    """
    positions = np.arange(seq_len)  # (T,)
    return positions[None, :] < np.asarray(lengths)[:, None]  # (B, T)


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """``(..., T, d_model) -> (..., heads, T, d_head)`` with ``d_head = d_model / heads``.

    Head ``h`` owns columns ``h*d_head : (h+1)*d_head`` of the projected matrix.
    """
    *lead, t, d_model = x.shape
    if d_model % heads:
        raise ValueError(f"d_model={d_model} is not divisible by heads={heads}")
    x = x.reshape(*lead, t, heads, d_model // heads)  # (..., T, h, d_head)
    return np.swapaxes(x, -2, -3)  # (..., h, T, d_head)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(..., heads, T, d_head) -> (..., T, heads * d_head)``, the inverse of ``split_heads``."""
    x = np.swapaxes(x, -2, -3)  # (..., T, h, d_head)
    *lead, t, heads, d_head = x.shape
    return x.reshape(*lead, t, heads * d_head)  # (..., T, d_model)


def multi_head_attention(
    x_q: np.ndarray,
    x_kv: np.ndarray,
    w_q: np.ndarray,
    w_k: np.ndarray,
    w_v: np.ndarray,
    w_o: np.ndarray,
    heads: int,
    b_q: np.ndarray | None = None,
    b_k: np.ndarray | None = None,
    b_v: np.ndarray | None = None,
    b_o: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    fill: float = -np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Multi-head attention with the output projection.

    $$\operatorname{MultiHead}(X_q, X_{kv}) = \operatorname{Concat}(\text{head}_1, \dots, \text{head}_h)\, W_O,
      \quad \text{head}_i = \operatorname{Attention}(X_q W_Q^{(i)}, X_{kv} W_K^{(i)}, X_{kv} W_V^{(i)})$$

    Self-attention is ``x_q is x_kv``; cross-attention takes queries from the decoder and keys
    and values from the encoder. ``mask`` broadcasts to ``(..., heads, T_q, T_k)``.
    Returns ``(output (..., T_q, d_model), weights (..., heads, T_q, T_k))``.
    """

    def project(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        y = np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64)
        return y if b is None else y + np.asarray(b, dtype=np.float64)

    q = split_heads(project(x_q, w_q, b_q), heads)  # (..., h, T_q, d_head)
    k = split_heads(project(x_kv, w_k, b_k), heads)  # (..., h, T_k, d_head)
    v = split_heads(project(x_kv, w_v, b_v), heads)  # (..., h, T_k, d_head)
    heads_out, weights = scaled_dot_product_attention(q, k, v, mask=mask, fill=fill)
    concat = merge_heads(heads_out)  # (..., T_q, d_model)
    return project(concat, w_o, b_o), weights


def sinusoidal_positional_encoding(seq_len: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    r"""The fixed encoding of "Attention Is All You Need", shape ``(T, d_model)``.

    $$PE_{(pos,\,2i)} = \sin\!\left(\frac{pos}{base^{2i/d_{model}}}\right), \qquad
      PE_{(pos,\,2i+1)} = \cos\!\left(\frac{pos}{base^{2i/d_{model}}}\right)$$
    """
    if d_model % 2:
        raise ValueError("d_model must be even for sinusoidal encodings")
    pos = np.arange(seq_len, dtype=np.float64)[:, None]  # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, d_model/2)
    angle = pos / base ** (two_i / d_model)  # (T, d_model/2)
    pe = np.empty((seq_len, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe


def layer_norm(
    x: np.ndarray, gamma: np.ndarray | None = None, beta: np.ndarray | None = None, eps: float = 1e-5
) -> np.ndarray:
    r"""Layer normalisation over the last axis (biased variance, as in torch).

    $$\operatorname{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,
      \quad \mu = \tfrac{1}{d}\sum_i x_i,\ \sigma^2 = \tfrac{1}{d}\sum_i (x_i - \mu)^2$$
    """
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * np.asarray(gamma, dtype=np.float64)
    if beta is not None:
        y = y + np.asarray(beta, dtype=np.float64)
    return y
