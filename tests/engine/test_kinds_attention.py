"""qkv_pipeline, causal_mask, padding_mask and cross_attention against torch, directly."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_engine import api

DIFFICULTIES = st.sampled_from(["easy", "medium", "hard"])
SEEDS = st.integers(0, 10**9)


def arr(v, name):
    return np.array(v["params"][name], dtype=float)


def softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_causal_key_matches_sdpa_is_causal(seed, difficulty):
    v = api.generate("causal_mask", seed, difficulty)
    x = arr(v, "X")
    q, k, vv = (torch.tensor(x @ arr(v, w)) for w in ("W_q", "W_k", "W_v"))
    out = F.scaled_dot_product_attention(q, k, vv, is_causal=True).numpy()
    np.testing.assert_allclose(v["answer"]["output"], out, atol=1e-12)
    weights = np.array(v["answer"]["weights"])
    assert np.all(np.triu(weights, k=1) == 0)  # nothing from the future
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert weights[0, 0] == 1.0  # the first token sees only itself


def test_causal_misconceptions_named():
    v = api.generate("causal_mask", 4, "medium")
    s = np.array(v["answer"]["scores"])
    x = arr(v, "X")
    val = x @ arr(v, "W_v")
    t = len(s)
    future = np.triu(np.ones((t, t), dtype=bool), k=1)
    after = softmax_rows(s) * ~future  # zeroed after the softmax, not renormalised
    upper = softmax_rows(np.where(np.tril(np.ones((t, t), dtype=bool), k=-1), -np.inf, s))
    for code, weights in (("mask_after_softmax", after), ("no_mask", softmax_rows(s)), ("wrong_triangle", upper)):
        result = api.grade(v, {"scores": s.tolist(), "weights": weights.tolist(), "output": (weights @ val).tolist()})
        assert result["misconception"] == code, code
        assert 0 < result["score"] < 1


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_padding_key_ignores_pad_keys(seed, difficulty):
    v = api.generate("padding_mask", seed, difficulty)
    x = arr(v, "X")
    length = v["params"]["length"]
    t = len(x)
    assert 2 <= length < t
    q, k, vv = (x @ arr(v, w) for w in ("W_q", "W_k", "W_v"))
    # torch's other convention: key_padding-style boolean, True = ignore, via masked_fill.
    ignore = torch.arange(t) >= length
    scores = torch.tensor(q @ k.T / np.sqrt(q.shape[1])).masked_fill(ignore[None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1).numpy()
    np.testing.assert_allclose(v["answer"]["weights"], weights, atol=1e-12)
    np.testing.assert_allclose(v["answer"]["output"], weights @ vv, atol=1e-12)
    assert np.all(np.array(v["answer"]["weights"])[:, length:] == 0)
    # Changing the pad tokens' embeddings changes nothing for the real queries' outputs
    # (their keys and values are masked out).
    x2 = x.copy()
    x2[length:] += 1.0
    q2, k2, v2 = (x2 @ arr(v, w) for w in ("W_q", "W_k", "W_v"))
    s2 = torch.tensor(q2 @ k2.T / np.sqrt(q.shape[1])).masked_fill(ignore[None, :], float("-inf"))
    out2 = torch.softmax(s2, dim=-1).numpy() @ v2
    np.testing.assert_allclose(out2[:length], np.array(v["answer"]["output"])[:length], atol=1e-12)


def test_padding_masked_queries_named():
    v = api.generate("padding_mask", 2, "medium")
    s = np.array(v["answer"]["scores"])
    length = v["params"]["length"]
    val = arr(v, "X") @ arr(v, "W_v")
    weights = softmax_rows(s)
    weights[length:] = 0.0  # masked the pad *rows* instead of the pad columns
    result = api.grade(v, {"scores": s.tolist(), "weights": weights.tolist(), "output": (weights @ val).tolist()})
    assert result["misconception"] == "masked_queries"


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_cross_attention_shapes_and_key(seed, difficulty):
    v = api.generate("cross_attention", seed, difficulty)
    x_dec, x_enc = arr(v, "X_dec"), arr(v, "X_enc")
    assert len(x_dec) != len(x_enc)
    q = x_dec @ arr(v, "W_q")
    k, vv = x_enc @ arr(v, "W_k"), x_enc @ arr(v, "W_v")
    out = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(vv)).numpy()
    np.testing.assert_allclose(v["answer"]["output"], out, atol=1e-12)
    shapes = {p["name"]: p["shape"] for p in v["parts"]}
    assert shapes["weights"] == [len(x_dec), len(x_enc)]
    assert shapes["output"] == [len(x_dec), q.shape[1]]


def test_qkv_pipeline_carries_errors_through_every_step():
    v = api.generate("qkv_pipeline", 9, "medium")
    a = {k: np.array(val, dtype=float) for k, val in v["answer"].items()}
    assert [p["step"] for p in v["parts"]] == [1, 1, 1, 2, 3, 4]
    # A slip in Q (one cell), then everything computed consistently from it.
    q = a["Q"].copy()
    q[0, 0] += 1
    scores = q @ a["K"].T / np.sqrt(q.shape[1])
    weights = softmax_rows(scores)
    output = weights @ a["V"]
    result = api.grade(v, {**{k: val.tolist() for k, val in a.items()}, "Q": q.tolist(), "scores": scores.tolist(),
                           "weights": weights.tolist(), "output": output.tolist()})
    parts = result["parts"]
    assert parts["Q"]["score"] == pytest.approx(5 / 6)  # one of six cells wrong
    for name in ("scores", "weights", "output"):
        assert parts[name]["score"] == 1.0, name
        assert "error carried forward" in parts[name]["message"]
    assert result["score"] == pytest.approx((5 / 6 + 1 + 1 + 1 + 2 + 3) / 9)  # weights Q, K, V, S 1; A 2; O 3
    # The same wrong Q with the key's later parts: the later parts are right against the key.
    plain = api.grade(v, {**{k: val.tolist() for k, val in a.items()}, "Q": q.tolist()})
    assert all(plain["parts"][n]["score"] == 1.0 for n in ("scores", "weights", "output"))


def test_qkv_projection_tolerance_is_tight():
    v = api.generate("qkv_pipeline", 9, "medium")
    q = np.array(v["answer"]["Q"], dtype=float) + 0.01
    result = api.grade(v, {**v["answer"], "Q": q.tolist()})
    assert result["parts"]["Q"]["score"] == 0.0  # Q is an integer matrix: 0.01 off is wrong
