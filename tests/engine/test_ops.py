"""The numpy reference ops against torch built-ins, and the mask conventions."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_engine import ops, torch_ops
from attention_engine.variant import max_abs_diff

TOL = 1e-10


def rand(rng, *shape):
    return rng.standard_normal(shape)


def test_softmax_small_case_by_hand():
    # softmax([0, ln 3]) = [1, 3] / 4
    np.testing.assert_allclose(ops.softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75], rtol=1e-15)


def test_softmax_axis_is_respected():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    rows = ops.softmax(x, axis=-1)
    cols = ops.softmax(x, axis=0)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(cols.sum(axis=0), 1.0)
    assert not np.allclose(rows, cols)
    np.testing.assert_allclose(cols, torch.softmax(torch.tensor(x), dim=0).numpy(), atol=TOL)


def test_softmax_is_stable_for_large_inputs():
    # Without max-subtraction exp(1000) overflows to inf and the result is NaN.
    x = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(x) / np.exp(x).sum()
    assert np.isnan(naive).all()
    np.testing.assert_allclose(ops.softmax(x), ops.softmax(x - 1000.0), atol=1e-15)
    assert np.isfinite(ops.softmax(x)).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    batch=st.integers(1, 3),
    t_q=st.integers(1, 6),
    t_k=st.integers(1, 6),
    d_k=st.integers(1, 8),
    d_v=st.integers(1, 5),
)
def test_sdpa_matches_torch(seed, batch, t_q, t_k, d_k, d_v):
    rng = np.random.default_rng(seed)
    q, k, v = rand(rng, batch, t_q, d_k), rand(rng, batch, t_k, d_k), rand(rng, batch, t_k, d_v)
    out, weights = ops.scaled_dot_product_attention(q, k, v)
    expected = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v)).numpy()
    assert max_abs_diff(out, expected) < TOL
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)
    t_out, t_weights = torch_ops.scaled_dot_product_attention(q, k, v)
    assert max_abs_diff(out, t_out) < TOL and max_abs_diff(weights, t_weights) < TOL


def test_causal_mask_convention_matches_sdpa():
    # Ours and SDPA's boolean attn_mask agree: True = may attend.
    rng = np.random.default_rng(0)
    q, k, v = rand(rng, 4, 3), rand(rng, 4, 3), rand(rng, 4, 2)
    mask = ops.causal_mask(4)
    assert mask.tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
        [True, True, True, True],
    ]
    out, weights = ops.scaled_dot_product_attention(q, k, v, mask=mask)
    sdpa = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), attn_mask=torch.tensor(mask))
    causal = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), is_causal=True)
    assert max_abs_diff(out, sdpa.numpy()) < TOL
    assert max_abs_diff(out, causal.numpy()) < TOL
    assert np.all(weights[~mask] == 0)
    # Passing the mask inverted (nn.MultiheadAttention's reading) gives a different answer.
    inverted = F.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), attn_mask=torch.tensor(~mask | np.eye(4, dtype=bool))
    )
    assert max_abs_diff(out, inverted.numpy()) > 1e-3


def test_causal_mask_with_cache_offset():
    # 2 new queries over 4 keys: the queries are positions 2 and 3.
    assert ops.causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]


def test_padding_mask_matches_multihead_attention_inverted_convention():
    rng = np.random.default_rng(1)
    b, t, d, h = 2, 4, 4, 2
    x = rand(rng, b, t, d)
    w = [rand(rng, d, d) for _ in range(4)]
    biases = [rand(rng, d) for _ in range(4)]
    valid = ops.padding_mask([3, 2], t)  # (B, T) True = real token
    assert valid.tolist() == [[True, True, True, False], [True, True, False, False]]
    out, weights = ops.multi_head_attention(x, x, *w, heads=h, b_q=biases[0], b_k=biases[1], b_v=biases[2], b_o=biases[3],
                                            mask=valid[:, None, None, :])
    # Directly with nn.MultiheadAttention, whose key_padding_mask reads True = ignore.
    mha = torch.nn.MultiheadAttention(d, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate(w[:3], axis=1).T))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate(biases[:3])))
        mha.out_proj.weight.copy_(torch.tensor(w[3].T))
        mha.out_proj.bias.copy_(torch.tensor(biases[3]))
        tx = torch.tensor(x)
        t_out, t_w = mha(tx, tx, tx, key_padding_mask=torch.tensor(~valid), average_attn_weights=False)
        wrong_out, _ = mha(tx, tx, tx, key_padding_mask=torch.tensor(valid), average_attn_weights=False)
    assert max_abs_diff(out, t_out.numpy()) < TOL
    assert max_abs_diff(weights, t_w.numpy()) < TOL
    assert np.all(weights[0, :, :, 3] == 0) and np.all(weights[1, :, :, 2:] == 0)
    assert max_abs_diff(out, wrong_out.numpy()) > 1e-3
    # And through the engine's torch route (which does the inversion itself).
    r_out, r_w = torch_ops.multi_head_attention(x, x, *w, heads=h, b_q=biases[0], b_k=biases[1], b_v=biases[2],
                                                b_o=biases[3], key_padding=valid)
    assert max_abs_diff(out, r_out) < TOL and max_abs_diff(weights, r_w) < TOL


def test_fully_masked_row_minus_inf_gives_nan_minus_1e9_gives_uniform():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    k = np.array([[1.0, 2.0], [3.0, -1.0]])
    v = np.array([[1.0], [3.0]])
    mask = np.array([[True, True], [False, False]])  # the second query may attend to nothing
    out_inf, w_inf = ops.scaled_dot_product_attention(q, k, v, mask=mask, fill=-np.inf)
    out_big, w_big = ops.scaled_dot_product_attention(q, k, v, mask=mask, fill=-1e9)
    assert np.isnan(w_inf[1]).all() and np.isnan(out_inf[1]).all()
    np.testing.assert_allclose(w_big[1], [0.5, 0.5])  # uniform: silently attends to padding
    np.testing.assert_allclose(out_big[1], [2.0])  # (1 + 3) / 2
    np.testing.assert_allclose(w_inf[0], w_big[0])  # rows with something to attend to agree
    # torch agrees on both behaviours
    tq, tk, tv = (torch.tensor(a) for a in (q, k, v))
    scores = tq @ tk.T / np.sqrt(2)
    t_inf = torch.softmax(scores.masked_fill(~torch.tensor(mask), float("-inf")), dim=-1)
    t_big = torch.softmax(scores.masked_fill(~torch.tensor(mask), -1e9), dim=-1)
    assert torch.isnan(t_inf[1]).all()
    np.testing.assert_allclose(t_big.numpy(), w_big, atol=TOL)
    # -1e9 does not even fit in fp16 (max ~65504): it overflows to -inf there.
    assert torch.tensor(-1e9, dtype=torch.float16).isinf()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), heads=st.sampled_from([1, 2, 4]), t_q=st.integers(1, 5), t_k=st.integers(1, 5),
       bias=st.booleans())
def test_multi_head_and_cross_attention_match_torch(seed, heads, t_q, t_k, bias):
    rng = np.random.default_rng(seed)
    d = 8
    x_dec, x_enc = rand(rng, 1, t_q, d), rand(rng, 1, t_k, d)
    w = [rand(rng, d, d) for _ in range(4)]
    b = [rand(rng, d) for _ in range(4)] if bias else [None] * 4
    out, weights = ops.multi_head_attention(x_dec, x_enc, *w, heads=heads, b_q=b[0], b_k=b[1], b_v=b[2], b_o=b[3])
    t_out, t_weights = torch_ops.multi_head_attention(x_dec, x_enc, *w, heads=heads, b_q=b[0], b_k=b[1], b_v=b[2], b_o=b[3])
    assert out.shape == (1, t_q, d) and weights.shape == (1, heads, t_q, t_k)
    assert max_abs_diff(out, t_out) < 1e-9 and max_abs_diff(weights, t_weights) < 1e-12


def test_multi_head_with_kdim_vdim_matches_torch():
    rng = np.random.default_rng(3)
    x_dec, x_enc = rand(rng, 2, 3, 4), rand(rng, 2, 5, 6)  # the encoder has a different width
    w_q, w_k, w_v, w_o = rand(rng, 4, 4), rand(rng, 6, 4), rand(rng, 6, 4), rand(rng, 4, 4)
    out, weights = ops.multi_head_attention(x_dec, x_enc, w_q, w_k, w_v, w_o, heads=2)
    t_out, t_weights = torch_ops.multi_head_attention(x_dec, x_enc, w_q, w_k, w_v, w_o, heads=2)
    assert max_abs_diff(out, t_out) < 1e-9 and max_abs_diff(weights, t_weights) < 1e-12


def test_split_merge_heads_shapes_and_inverse():
    x = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)  # (B, T, d_model)
    heads = ops.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)  # (B, h, T, d_head)
    # head 1 of token 0 of batch 0 holds columns 2:4
    np.testing.assert_array_equal(heads[0, 1, 0], x[0, 0, 2:4])
    np.testing.assert_array_equal(ops.merge_heads(heads), x)
    # The same layout as torch's view + transpose (nanoGPT's CausalSelfAttention).
    t = torch.tensor(x).view(2, 3, 4, 2).transpose(1, 2)
    np.testing.assert_array_equal(heads, t.numpy())
    with pytest.raises(ValueError):
        ops.split_heads(x, 3)


def test_sinusoidal_encoding_by_hand_and_vs_torch_route():
    pe = ops.sinusoidal_positional_encoding(3, 4)
    # position 1, d_model 4: angles 1/10000^(0/4) = 1 and 1/10000^(2/4) = 0.01
    np.testing.assert_allclose(pe[1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)], rtol=1e-15)
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1])
    assert max_abs_diff(pe, torch_ops.sinusoidal_positional_encoding(3, 4)) < 1e-12
    big = ops.sinusoidal_positional_encoding(50, 16)
    assert max_abs_diff(big, torch_ops.sinusoidal_positional_encoding(50, 16)) < 1e-10
    with pytest.raises(ValueError):
        ops.sinusoidal_positional_encoding(3, 5)


def test_layer_norm_by_hand_and_vs_torch():
    x = np.array([[1.0, 2.0, 3.0, 6.0]])
    # mean 3, deviations [-2, -1, 0, 3], variance (4 + 1 + 0 + 9) / 4 = 3.5
    expected = np.array([[-2.0, -1.0, 0.0, 3.0]]) / np.sqrt(3.5 + 1e-5)
    np.testing.assert_allclose(ops.layer_norm(x), expected, rtol=1e-14)
    rng = np.random.default_rng(4)
    x, gamma, beta = rand(rng, 3, 5), rand(rng, 5), rand(rng, 5)
    ours = ops.layer_norm(x, gamma, beta)
    theirs = F.layer_norm(torch.tensor(x), (5,), torch.tensor(gamma), torch.tensor(beta), 1e-5).numpy()
    assert max_abs_diff(ours, theirs) < TOL
    assert max_abs_diff(ours, torch_ops.layer_norm(x, gamma, beta)) < TOL


def test_device_setting(monkeypatch):
    from attention_engine.device import requested_device, resolve_device

    monkeypatch.setenv("ATTN_DEVICE", "cpu")
    assert resolve_device().type == "cpu"
    monkeypatch.setenv("ATTN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="ATTN_DEVICE"):
        requested_device()
    monkeypatch.setenv("ATTN_DEVICE", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            resolve_device()
