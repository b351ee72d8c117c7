"""The second route: the same operations computed with torch built-ins, in float64.

This module imports torch at the top, so only import it inside functions (kinds do so in
``generate``). Inputs and outputs are numpy arrays; the work happens on the device chosen by
``ATTN_DEVICE`` (``attention_engine.device``). Mask convention on the way in is the engine's
(True = may attend); each function converts to what the torch built-in expects.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attention_engine.device import resolve_device

DTYPE = torch.float64


def tensor(x: np.ndarray, device: torch.device | None = None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=DTYPE, device=device or resolve_device())


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu").numpy().astype(np.float64)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``torch.softmax`` along ``axis``."""
    return numpy(torch.softmax(tensor(x), dim=axis))


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``torch.logsumexp`` along ``axis``."""
    return numpy(torch.logsumexp(tensor(x), dim=axis))


def var_mean(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """``torch.var_mean`` with the biased (population) variance, as layer norm uses."""
    var, mean = torch.var_mean(tensor(x), dim=axis, unbiased=False)
    return numpy(var), numpy(mean)


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    scale: float | None = None,
    is_causal: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Output and weights from ``F.scaled_dot_product_attention`` (boolean mask: True = attend).

    SDPA returns only the output; the weights come from a second SDPA call with ``V = I``
    (``weights @ I = weights``), so they too come from the built-in, not from our own softmax.
    ``is_causal`` lets SDPA build its own causal mask (an independent check of ours).
    """
    device = resolve_device()
    tq, tk, tv = tensor(q, device), tensor(k, device), tensor(v, device)
    attn_mask = None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool), device=device)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=attn_mask, scale=scale, is_causal=is_causal)
    t_k = tk.shape[-2]
    eye = torch.eye(t_k, dtype=DTYPE, device=device).expand(*tk.shape[:-2], t_k, t_k)
    weights = F.scaled_dot_product_attention(tq, tk, eye, attn_mask=attn_mask, scale=scale, is_causal=is_causal)
    return numpy(out), numpy(weights)


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
    key_padding: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``nn.MultiheadAttention`` loaded with our weights; returns output and per-head weights.

    Our ``W`` act on row vectors (``x W``); ``nn.Linear`` stores ``W^T``. ``mask``
    ``(T_q, T_k)`` and ``key_padding`` ``(B, T_k)`` use the engine's True = attend and are
    inverted here because ``nn.MultiheadAttention`` reads True as "ignore".
    Inputs are ``(B, T, d)``; outputs ``(B, T_q, d_model)`` and ``(B, heads, T_q, T_k)``.
    """
    device = resolve_device()
    d_model, d_k = np.shape(w_q)
    kdim, vdim = np.shape(w_k)[0], np.shape(w_v)[0]
    has_bias = b_q is not None
    mha = nn.MultiheadAttention(
        embed_dim=d_model, num_heads=heads, bias=has_bias, batch_first=True, kdim=kdim, vdim=vdim,
        device=device, dtype=DTYPE,
    )
    with torch.no_grad():
        if mha._qkv_same_embed_dim:
            mha.in_proj_weight.copy_(tensor(np.concatenate([w_q, w_k, w_v], axis=1).T, device))
        else:
            mha.q_proj_weight.copy_(tensor(np.asarray(w_q).T, device))
            mha.k_proj_weight.copy_(tensor(np.asarray(w_k).T, device))
            mha.v_proj_weight.copy_(tensor(np.asarray(w_v).T, device))
        mha.out_proj.weight.copy_(tensor(np.asarray(w_o).T, device))
        if has_bias:
            mha.in_proj_bias.copy_(tensor(np.concatenate([b_q, b_k, b_v]), device))
            mha.out_proj.bias.copy_(tensor(b_o, device))
        attn_mask = None if mask is None else ~torch.as_tensor(np.asarray(mask, dtype=bool), device=device)
        padding = None if key_padding is None else ~torch.as_tensor(np.asarray(key_padding, dtype=bool), device=device)
        out, weights = mha(
            tensor(x_q, device), tensor(x_kv, device), tensor(x_kv, device),
            key_padding_mask=padding, attn_mask=attn_mask, need_weights=True, average_attn_weights=False,
        )
    return numpy(out), numpy(weights)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """``F.layer_norm`` over the last axis."""
    device = resolve_device()
    tx = tensor(x, device)
    return numpy(F.layer_norm(tx, tx.shape[-1:], tensor(gamma, device), tensor(beta, device), eps))


def sinusoidal_positional_encoding(seq_len: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The Annotated Transformer's formulation: ``div_term = exp(-2i * log(base) / d_model)``.

    Written differently from the numpy route (exp/log instead of a power) on purpose, so a slip
    in either formula shows up as a disagreement.
    """
    device = resolve_device()
    position = torch.arange(seq_len, dtype=DTYPE, device=device).unsqueeze(1)  # (T, 1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=DTYPE, device=device) * -(math.log(base) / d_model))
    pe = torch.zeros(seq_len, d_model, dtype=DTYPE, device=device)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return numpy(pe)
