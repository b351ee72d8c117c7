"""multihead_shapes, sinusoidal_positions, softmax_stability, layer_norm and by_hand."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_engine import api
from attention_engine.kinds import by_hand

DIFFICULTIES = st.sampled_from(["easy", "medium", "hard"])
SEEDS = st.integers(0, 10**9)


# ------------------------------------------------------------------ multihead_shapes


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_multihead_shapes_match_real_tensors(seed):
    v = api.generate("multihead_shapes", seed, "easy")
    p = v["params"]
    b, t, d, h = p["B"], p["T"], p["d_model"], p["heads"]
    mha = torch.nn.MultiheadAttention(d, h, batch_first=True)
    x = torch.randn(b, t, d)
    out, weights = mha(x, x, x, average_attn_weights=False)
    assert list(weights.shape) == v["answer"]["scores"]
    assert list(out.shape) == v["answer"]["merged"]
    q = torch.randn(b, t, d).view(b, t, h, d // h).transpose(1, 2)
    assert list(q.shape) == v["answer"]["q_heads"] == v["answer"]["head_out"]
    assert v["answer"]["d_head"] == d // h


def test_multihead_wrong_d_head_is_carried_forward():
    v = api.generate("multihead_shapes", 3, "medium")
    p = v["params"]
    b, t, d, h = p["B"], p["T"], p["d_model"], p["heads"]
    answer = {"d_head": d, "q_heads": [b, h, t, d], "scores": [b, h, t, t], "head_out": [b, h, t, d],
              "merged": [b, t, h * d]}
    result = api.grade(v, answer)
    assert result["misconception"] == "d_head_is_d_model"
    assert result["parts"]["d_head"]["score"] == 0.0
    assert result["parts"]["merged"]["score"] == pytest.approx(2 / 3)  # a named mistake earns no carried-forward credit (issue #16)
    assert result["score"] == pytest.approx((0 + 3 / 4 + 1 + 3 / 4 + 2 * 2 / 3) / 6)  # merged weighs 2
    text = api.grade(v, {**v["answer"], "q_heads": f"{b}, {h}, {t}, {d // h}"})
    assert text["score"] == 1.0


# ------------------------------------------------------------------ sinusoidal_positions


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_sinusoidal_key(seed, difficulty):
    v = api.generate("sinusoidal_positions", seed, difficulty)
    d, pos = v["params"]["d_model"], v["params"]["pos"]
    i = np.arange(d // 2)
    angle = pos / 10000 ** (2 * i / d)
    expected = np.ravel(np.column_stack([np.sin(angle), np.cos(angle)]))
    np.testing.assert_allclose(v["answer"]["encoding"], expected, atol=1e-12)
    frequencies = v["steps"][0]["text"]
    assert "\\omega_0 = 10000^0 = 1$" in frequencies and "^{-0}" not in frequencies


def test_sinusoidal_degrees_mode_named():
    v = api.generate("sinusoidal_positions", 5, "easy")
    d, pos = v["params"]["d_model"], v["params"]["pos"]
    angle_deg = pos / 10000 ** (2 * np.arange(d // 2) / d)
    enc = np.ravel(np.column_stack([np.sin(np.radians(angle_deg)), np.cos(np.radians(angle_deg))]))
    result = api.grade(v, {"frequencies": v["answer"]["frequencies"], "encoding": enc.tolist()})
    assert result["misconception"] == "degrees_mode"
    # frequencies right; in the encoding only cells where degrees and radians happen to agree
    # within tolerance (cos of a tiny angle is ~1 either way) score
    assert result["parts"]["frequencies"]["score"] == 1.0
    assert result["parts"]["encoding"]["score"] < 1.0


# ------------------------------------------------------------------ softmax_stability


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_softmax_stability_key(seed, difficulty):
    v = api.generate("softmax_stability", seed, difficulty)
    z = np.array(v["params"]["z"], dtype=float)
    tau = v["params"]["tau"]
    assert tau != 1.0 and len(set(z.tolist())) == len(z)
    t = torch.tensor(z / tau)
    np.testing.assert_allclose(v["answer"]["probabilities"], torch.softmax(t, 0).numpy(), atol=1e-12)
    assert v["answer"]["logsumexp"] == pytest.approx(float(torch.logsumexp(t, 0)), rel=1e-12)
    assert max(v["answer"]["shifted"]) == 0.0


def test_softmax_stability_medium_overflows_naively():
    v = api.generate("softmax_stability", 1, "hard")
    z = np.array(v["params"]["z"], dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z / v["params"]["tau"]) / np.exp(z / v["params"]["tau"]).sum()
    assert np.isnan(naive).any()  # the reason for the question
    assert np.isfinite(v["answer"]["probabilities"]).all()


def test_shift_by_min_only_loses_the_shift_part():
    v = api.generate("softmax_stability", 2, "medium")
    z = np.array(v["params"]["z"], dtype=float)
    tau = v["params"]["tau"]
    shifted = (z - z.min()) / tau
    result = api.grade(v, {**v["answer"], "shifted": shifted.tolist()})
    assert result["misconception"] == "shift_by_min"
    assert result["parts"]["probabilities"]["score"] == 1.0
    assert result["score"] == pytest.approx((0 + 2 + 2) / 5)  # shifted 1, probabilities 2, LSE 2


# ------------------------------------------------------------------ layer_norm


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_layer_norm_key_matches_module(seed, difficulty):
    v = api.generate("layer_norm", seed, difficulty)
    x = torch.tensor(v["params"]["X"], dtype=torch.float64)
    ln = torch.nn.LayerNorm(x.shape[-1], eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(v["params"]["gamma"]))
        ln.bias.copy_(torch.tensor(v["params"]["beta"]))
        out = ln(x).numpy()
    np.testing.assert_allclose(v["answer"]["output"], out, atol=1e-12)


def test_layer_norm_unbiased_variance_named_and_carried_forward():
    v = api.generate("layer_norm", 0, "medium")
    x = np.array(v["params"]["X"], dtype=float)
    gamma, beta = np.array(v["params"]["gamma"]), np.array(v["params"]["beta"])
    mean = x.mean(axis=1)
    var = x.var(axis=1, ddof=1)
    out = gamma * (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5) + beta
    result = api.grade(v, {"mean": mean.tolist(), "variance": var.tolist(), "output": out.tolist()})
    assert result["misconception"] == "unbiased_variance"
    assert result["parts"]["output"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)
    assert "no error-carried-forward credit" in result["parts"]["output"]["message"]


# ------------------------------------------------------------------ by_hand


def test_by_hand_tiny_case_by_hand():
    # X columns are tokens x1 = (1, 0), x2 = (0, 1); W_Q = W_K = W_V = I (2x2).
    # Q = K = V = X. S = K^T Q = I. floor(S/2) = [[0, 0], [0, 0]] -> 3^0 = 1 everywhere,
    # so each column of A is (1/2, 1/2) and Z = V A = [[1/2, 1/2], [1/2, 1/2]].
    eye = np.eye(2)
    route = by_hand.exact_route(eye, eye, eye, eye)
    assert route["weights"] == [[Fraction(1, 2)] * 2] * 2
    assert route["output"] == [[Fraction(1, 2)] * 2] * 2
    # With X = 2I: S = 4I -> floor(S/2) = 2I -> column 1 is (3^2, 3^0) = (9, 1) -> (9/10, 1/10).
    route = by_hand.exact_route(2 * eye, eye, eye, eye)
    assert route["weights"] == [[Fraction(9, 10), Fraction(1, 10)], [Fraction(1, 10), Fraction(9, 10)]]
    # Z = V A with V = 2I: column 1 = 2 * (9/10, 1/10)
    assert route["output"] == [[Fraction(9, 5), Fraction(1, 5)], [Fraction(1, 5), Fraction(9, 5)]]
    # floor vs trunc on S = -3I: floor(-3/2) = -2 but trunc gives -1
    floor = by_hand.integer_steps(eye, -3 * eye, eye, eye)["scaled"]
    trunc = by_hand.integer_steps(eye, -3 * eye, eye, eye, halve="trunc")["scaled"]
    assert floor.tolist() == [[-2, 0], [0, -2]] and trunc.tolist() == [[-1, 0], [0, -1]]


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS, difficulty=DIFFICULTIES)
def test_by_hand_keys_are_exact_fractions(seed, difficulty):
    v = api.generate("by_hand", seed, difficulty)
    weights = [[Fraction(s) for s in row] for row in v["answer"]["weights"]]
    for j in range(len(weights)):
        assert sum(row[j] for row in weights) == 1  # exact column sums
    assert all(isinstance(s, str) for row in v["answer"]["output"] for s in row)
    assert v["verification"]["routes"] == ["fractions-exact", "numpy-float64"]
    # Typed as fractions or as 3-decimal numbers, the key grades 1.
    assert api.grade(v, v["answer"])["score"] == 1.0
    decimals = {k: np.round(np.array([[float(Fraction(str(c))) for c in row] for row in val]), 3).tolist()
                for k, val in v["answer"].items()}
    assert api.grade(v, decimals)["score"] == 1.0


def test_by_hand_misconceptions_named():
    v = api.generate("by_hand", 6, "medium")
    a = {k: [[Fraction(str(c)) for c in row] for row in val] for k, val in v["answer"].items()}
    e = [[Fraction(3) ** int(s) for s in row] for row in a["scaled"]]
    t = len(e)
    row_norm = [[e[i][j] / sum(e[i]) for j in range(t)] for i in range(t)]
    val = a["V"]
    out = [[sum(val[r][i] * row_norm[i][j] for i in range(t)) for j in range(t)] for r in range(len(val))]
    result = api.grade(v, {**v["answer"], "weights": [[str(c) for c in row] for row in row_norm],
                           "output": [[str(c) for c in row] for row in out]})
    assert result["misconception"] == "row_normalised"
    trunc = [[int(np.trunc(int(s) / 2)) for s in row] for row in a["scores"]]
    result = api.grade(v, {**v["answer"], "scaled": trunc})
    assert result["misconception"] == "truncated_toward_zero"
