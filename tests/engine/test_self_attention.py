"""The self_attention kind: key, verification, grading, partial credit, ECF, misconceptions."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_engine import api
from attention_engine.kinds import self_attention
from attention_engine.variant import Variant


@pytest.fixture(scope="module")
def variant():
    return api.generate("self_attention", 7, "medium")


def _matrices(v):
    x, w_q, w_k, w_v = (np.array(v["params"][n], dtype=float) for n in ("X", "W_q", "W_k", "W_v"))
    return x, x @ w_q, x @ w_k, x @ w_v


def test_contract_shape(variant):
    assert set(variant) == {"kind", "seed", "difficulty", "engine_version", "params", "prompt", "parts", "answer",
                            "steps", "verification"}
    assert [p["name"] for p in variant["parts"]] == ["scores", "weights", "output"]
    assert [p["step"] for p in variant["parts"]] == [1, 2, 3]
    for name in ("X", "W_q", "W_k", "W_v"):
        assert all(isinstance(x, int) for row in variant["params"][name] for x in row)
    assert variant["verification"]["agreed"] is True
    assert variant["verification"]["routes"] == ["numpy-float64", "torch-sdpa"]
    assert set(self_attention.MISCONCEPTIONS) >= {"no_scaling", "wrong_softmax_axis", "scaled_by_dk", "kq_transposed"}
    assert "$$X =" in variant["prompt"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**9), difficulty=st.sampled_from(["easy", "medium", "hard"]))
def test_key_matches_torch_sdpa_directly(seed, difficulty):
    v = api.generate("self_attention", seed, difficulty)
    x, q, k, vv = _matrices(v)
    out = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(vv)).numpy()
    weights = torch.softmax(torch.tensor(q @ k.T) / np.sqrt(q.shape[1]), dim=-1).numpy()
    np.testing.assert_allclose(v["answer"]["output"], out, atol=1e-12)
    np.testing.assert_allclose(v["answer"]["weights"], weights, atol=1e-12)
    np.testing.assert_allclose(np.sum(v["answer"]["weights"], axis=1), 1.0)
    # vetting: no constant score rows, no duplicate keys, human-sized raw scores
    scores = np.array(v["answer"]["scores"])
    assert np.all(scores.max(axis=1) - scores.min(axis=1) >= 0.3)
    assert len({tuple(r) for r in k.tolist()}) == k.shape[0]
    assert np.max(np.abs(q @ k.T)) <= 16
    assert api.grade(v, v["answer"])["score"] == 1.0


def test_difficulty_changes_sizes():
    sizes = {d: np.array(api.generate("self_attention", 3, d)["params"]["X"]).shape for d in ("easy", "medium", "hard")}
    assert sizes == {"easy": (2, 2), "medium": (3, 3), "hard": (4, 4)}


def test_answers_typed_as_text_are_accepted(variant):
    typed = {name: "\n".join(" ".join(f"{x:.4f}" for x in row) for row in value) for name, value in variant["answer"].items()}
    assert api.grade(variant, typed)["score"] == 1.0


def test_partial_credit_per_cell(variant):
    weights = [row[:] for row in variant["answer"]["weights"]]
    weights[0][0] += 0.3  # one of nine cells wrong
    result = api.grade(variant, {**variant["answer"], "weights": weights})
    part = result["parts"]["weights"]
    assert part["score"] == pytest.approx(8 / 9)
    assert part["cells"][0][0] is False and sum(map(sum, part["cells"])) == 8
    assert part["correct"] is False
    # output is the key's output, which is right (score vs key 1): total (1 + 8/9 + 1) / 3
    assert result["score"] == pytest.approx((1 + 8 / 9 + 1) / 3)
    assert result["format_errors"] == []


def test_rounding_within_tolerance_is_accepted(variant):
    rounded = {k: np.round(np.array(v), 2).tolist() for k, v in variant["answer"].items()}
    assert api.grade(variant, rounded)["score"] == 1.0


def test_error_carried_forward(variant):
    # A slip in the weights (row 0 made uniform) with an output computed correctly from them.
    x, q, k, vv = _matrices(variant)
    weights = np.array(variant["answer"]["weights"])
    bad = weights.copy()
    bad[0] = 1 / 3
    assert np.abs(bad - weights).max() > 0.05
    result = api.grade(variant, {"scores": variant["answer"]["scores"], "weights": bad.tolist(),
                                 "output": (bad @ vv).tolist()})
    assert result["parts"]["output"]["score"] == 1.0
    assert "error carried forward" in result["parts"]["output"]["message"]
    assert "error carried forward" in result["feedback"]
    assert result["parts"]["weights"]["score"] < 1
    # The same wrong weights with the key's output: the output is still right against the key.
    result_key_out = api.grade(variant, {**variant["answer"], "weights": bad.tolist()})
    assert result_key_out["parts"]["output"]["score"] == 1.0
    # Output inconsistent with both: no credit from either.
    result_bad = api.grade(variant, {**variant["answer"], "weights": bad.tolist(), "output": (bad @ vv + 5).tolist()})
    assert result_bad["parts"]["output"]["score"] == 0.0


@pytest.mark.parametrize("code", ["no_scaling", "scaled_by_dk", "wrong_softmax_axis", "kq_transposed"])
def test_misconceptions_are_named(variant, code):
    x, q, k, vv = _matrices(variant)
    d_k = q.shape[1]
    # Each wrong procedure, written out independently of the engine's catalogue.
    def softmax(s, axis):
        e = np.exp(s - s.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    raw = q @ k.T
    scores = {"no_scaling": raw, "scaled_by_dk": raw / d_k, "wrong_softmax_axis": raw / np.sqrt(d_k),
              "kq_transposed": k @ q.T / np.sqrt(d_k)}[code]
    weights = softmax(scores, axis=0 if code == "wrong_softmax_axis" else 1)
    answer = {"scores": scores.tolist(), "weights": weights.tolist(), "output": (weights @ vv).tolist()}
    result = api.grade(variant, answer)
    assert result["score"] < 1
    assert result["misconception"] == code
    assert result["misconception_message"] == self_attention.MISCONCEPTIONS[code]
    # Only the weights typed wrong in that way is still recognised.
    only_weights = api.grade(variant, {**variant["answer"], "weights": weights.tolist()})
    assert only_weights["misconception"] == code


def test_random_wrong_answer_names_no_misconception(variant):
    answer = {k: (np.array(v) + 0.77).tolist() for k, v in variant["answer"].items()}
    result = api.grade(variant, answer)
    assert result["misconception"] is None and result["score"] < 1


def test_format_errors_score_zero_and_never_raise(variant):
    for bad in ({}, {"scores": "abc"}, {"scores": [[1, 2]], "weights": "", "output": None},
                {**variant["answer"], "output": [[float("nan")] * 2] * 3}, {**variant["answer"], "weights": "1 2 3"}):
        result = api.grade(variant, bad)
        assert result["score"] == 0.0
        assert result["format_errors"]
        assert result["misconception"] is None
    text = {**variant["answer"], "weights": "0.1 0.2 x\n0.1 0.2 0.7\n0.1 0.2 0.7"}
    errors = api.grade(variant, text)["format_errors"]
    assert errors == [{"part": "weights", "row": 0, "col": 2, "message": errors[0]["message"]}]
    assert "row 1, column 3" in errors[0]["message"]
    assert api.grade(variant, "not a dict")["format_errors"]


def test_variant_round_trips_through_json(variant):
    stored = json.loads(json.dumps(variant))
    assert Variant.from_dict(stored).to_dict() == variant


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="does not take option"):
        api.generate("self_attention", 1, tokens=5)
