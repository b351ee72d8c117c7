"""Grading faults found by the expert review (issue #16), one block per item."""

import math

import numpy as np
import pytest

from attention_engine import api
from attention_engine.kinds import softmax_stability


def first(kind, difficulty, accept, seeds=400):
    """The first variant (as JSON) of ``kind`` whose params (or whole variant) pass ``accept``."""
    for seed in range(seeds):
        v = api.generate(kind, seed, difficulty)
        if accept(v):
            return v
    raise AssertionError(f"no {kind} {difficulty} variant passes the filter")


def sig(x, digits):
    return round(x, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0.0


# ------------------------------------------------------------------ 1. softmax_stability precision


def test_lse_to_four_significant_digits_scores_full():
    # The review's case: 107.7 for 107.7466 is what "at least 4 significant digits" asks for.
    # A key between 100 and 200 whose 4-digit rounding is off by more than the old tolerance
    # (1e-4 relative + 5e-3 <= 0.025) allowed.
    v = first(
        "softmax_stability", "medium",
        lambda v: 100 <= v["answer"]["logsumexp"] < 200
        and abs(sig(v["answer"]["logsumexp"], 4) - v["answer"]["logsumexp"]) > 0.03,
    )
    key = v["answer"]["logsumexp"]
    typed = sig(key, 4)
    result = api.grade(v, {**v["answer"], "logsumexp": typed})
    assert result["parts"]["logsumexp"]["correct"], (key, typed)
    assert result["score"] == 1.0
    # Two units off in the 4th digit is wrong.
    assert not api.grade(v, {**v["answer"], "logsumexp": typed + 0.2})["parts"]["logsumexp"]["correct"]


def test_lse_tolerance_is_half_a_unit_of_the_stated_precision():
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(15):
            v = api.generate("softmax_stability", seed, difficulty)
            key = v["answer"]["logsumexp"]
            places = max(1, 3 - math.floor(math.log10(abs(key))))
            tol = next(p["tolerance"] for p in v["parts"] if p["name"] == "logsumexp")
            assert tol == {"rel": 0.0, "abs": 0.5 * 10.0**-places}
            rounded = {
                "shifted": [sig(x, 4) for x in v["answer"]["shifted"]],
                "probabilities": [sig(x, 4) for x in v["answer"]["probabilities"]],
                "logsumexp": round(key, places),
            }
            assert api.grade(v, rounded)["score"] == 1.0, (difficulty, seed, key)


def test_lse_max_only_is_named_and_never_within_tolerance():
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(15):
            v = api.generate("softmax_stability", seed, difficulty)
            z, tau = np.array(v["params"]["z"], dtype=float), v["params"]["tau"]
            result = api.grade(v, {**v["answer"], "logsumexp": round(z.max() / tau, 1)})
            assert result["score"] < 1.0
            assert result["misconception"] == "lse_max_only"
    assert "lse_max_only" in softmax_stability.MISCONCEPTIONS


# ------------------------------------------------------------------ 2. abbreviated counts


def abbreviations(count, figures=(3, 4, 5, 6)):
    """``count`` rounded to each number of significant figures, written as a learner would."""
    return [f"{count:.{f - 1}e}" for f in figures] + [f"{count / 1e6:.{max(0, f - 1 - int(math.log10(count)) + 6)}f}M" for f in figures]


def test_mha_abbreviation_that_fits_the_bias_mistake_is_not_full_credit():
    v = first("mha_params", "easy", lambda v: (v["params"]["d_model"], v["params"]["heads"], v["params"]["bias"]) == (512, 4, False))
    assert v["answer"]["params"] == 1_048_576
    result = api.grade(v, {"params": "1.05M"})
    assert result["score"] < 1.0
    assert result["misconception"] == "bias_when_none"
    # The exact count with biases was already a named 0; its abbreviation must not beat it.
    assert api.grade(v, {"params": "1050624"})["misconception"] == "bias_when_none"
    assert api.grade(v, {"params": "1048576"})["score"] == 1.0


def test_model_params_abbreviated_mistakes_never_score_full_and_are_named():
    from attention_engine.kinds import model_params

    checked = 0
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(22):
            v = api.generate("model_params", seed, difficulty)
            stored = model_params.Variant.from_dict(v)
            for code, answer in model_params.misconception_answers(stored).items():
                for part, count in answer.items():
                    if count == v["answer"][part]:
                        continue
                    for typed in abbreviations(count):
                        result = api.grade(v, {**v["answer"], part: typed})
                        assert result["score"] < 1.0, (difficulty, seed, code, part, typed)
                        assert result["misconception"] is not None, (difficulty, seed, code, part, typed)
                        checked += 1
    assert checked > 500


def test_abbreviated_key_earns_half_credit_at_most():
    for kind in ("mha_params", "model_params"):
        for difficulty in ("easy", "medium", "hard"):
            v = api.generate(kind, 3, difficulty)
            for part in v["answer"]:
                for typed in abbreviations(v["answer"][part]):
                    result = api.grade(v, {**v["answer"], part: typed})
                    assert result["parts"][part]["score"] in (0.0, 0.5), (kind, difficulty, part, typed)
                    if result["parts"][part]["score"] == 0.0:
                        assert result["misconception"] is not None


# ------------------------------------------------------------------ 3. masks: K Q^T, d_k, axis


def _attention_by(v, *, transpose=False, scale="sqrt", axis=-1):
    """Scores, weights and output of one (possibly wrong) procedure, written with torch."""
    import torch

    x = torch.tensor(v["params"]["X"], dtype=torch.float64)
    q, k, val = (x @ torch.tensor(v["params"][w], dtype=torch.float64) for w in ("W_q", "W_k", "W_v"))
    d_k = q.shape[-1]
    raw = k @ q.T if transpose else q @ k.T
    scores = raw / (math.sqrt(d_k) if scale == "sqrt" else d_k)
    t = len(x)
    if v["kind"] == "causal_mask":
        allowed = torch.ones(t, t, dtype=torch.bool).tril()
    else:
        allowed = (torch.arange(t) < v["params"]["length"]).expand(t, t)
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=axis).nan_to_num(0.0)
    return {"scores": scores.tolist(), "weights": weights.tolist(), "output": (weights @ val).tolist()}


@pytest.mark.parametrize("kind", ["causal_mask", "padding_mask"])
def test_kq_transposed_and_dk_scaling_are_named(kind):
    procedures = {"kq_transposed": {"transpose": True}, "scaled_by_dk": {"scale": "d_k"}}
    if kind == "padding_mask":
        procedures["wrong_softmax_axis"] = {"axis": 0}
    for difficulty in ("easy", "medium"):
        for seed in range(40):
            v = api.generate(kind, seed, difficulty)
            for code, how in procedures.items():
                result = api.grade(v, _attention_by(v, **how))
                assert result["score"] < 1.0, (difficulty, seed, code)
                assert result["misconception"] == code, (difficulty, seed, code, result["misconception"])


# ------------------------------------------------------------------ 4. by_hand: d_k = 3, habits named


def test_by_hand_uses_d_k_3_and_relates_layout_to_the_paper():
    for difficulty in ("easy", "medium", "hard"):
        v = api.generate("by_hand", 0, difficulty)
        assert len(v["params"]["W_q"]) == 3  # d_k rows of W_Q
        assert "\\sqrt{3}" in v["prompt"] and "QK^\\top" in v["prompt"]


def _by_hand_habit(v, habit):
    """The worksheet with one learner habit, in float64 written here (not the kind's catalogue)."""
    x, w_q, w_k, w_v = (np.array(v["params"][n], dtype=float) for n in ("X", "W_q", "W_k", "W_v"))
    q, k, val = w_q @ x, w_k @ x, w_v @ x
    scaled = np.floor(k.T @ q / 2)
    e = np.exp(scaled) if habit == "exact_exp" else 3.0**scaled
    a = e / e.sum(axis=0, keepdims=True)
    if habit == "weights_rounded":  # halves up, as by hand (a float64 sum can sit a hair below x.x5)
        a = np.floor(a * 10 + 0.5 + 1e-9) / 10
    z = val @ a.T if habit == "output_v_a_transposed" else val @ a
    return {**v["answer"], "weights": a.tolist(), "output": z.tolist()}


@pytest.mark.parametrize("habit", ["output_v_a_transposed", "exact_exp", "weights_rounded"])
def test_by_hand_habits_are_named(habit):
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(10):
            v = api.generate("by_hand", seed, difficulty)
            result = api.grade(v, _by_hand_habit(v, habit))
            assert 0.0 < result["score"] < 1.0
            assert result["misconception"] == habit, (difficulty, seed, result["misconception"])


# ------------------------------------------------------------------ 9. part weights, named mistakes capped


def test_part_weight_round_trips_and_old_variants_load():
    from attention_engine.variant import Variant

    v = api.generate("qkv_pipeline", 0, "medium")
    weights = {p["name"]: p["weight"] for p in v["parts"]}
    assert weights == {"Q": 1.0, "K": 1.0, "V": 1.0, "scores": 1.0, "weights": 2.0, "output": 3.0}
    assert Variant.from_dict(v).to_dict() == v
    old = {**v, "parts": [{k: val for k, val in p.items() if k != "weight"} for p in v["parts"]]}
    assert all(p.weight == 1.0 for p in Variant.from_dict(old).parts)
    assert api.grade(old, old["answer"])["score"] == 1.0


def test_score_is_the_weighted_mean_and_results_carry_the_weight():
    v = api.generate("self_attention", 0, "medium")
    wrong_output = [[x + 1 for x in row] for row in v["answer"]["output"]]
    result = api.grade(v, {**v["answer"], "output": wrong_output})
    assert {n: r["weight"] for n, r in result["parts"].items()} == {"scores": 1.0, "weights": 2.0, "output": 3.0}
    assert result["score"] == pytest.approx(3 / 6)


def test_named_misconception_earns_no_carried_forward_credit():
    # layer_norm with the unbiased variance: mean right, variance wrong, output consistent with it.
    v = api.generate("layer_norm", 0, "medium")
    x = np.array(v["params"]["X"], dtype=float)
    gamma, beta = np.array(v["params"]["gamma"]), np.array(v["params"]["beta"])
    mean, var = x.mean(axis=1), x.var(axis=1, ddof=1)
    out = gamma * (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5) + beta
    result = api.grade(v, {"mean": mean.tolist(), "variance": var.tolist(), "output": out.tolist()})
    assert result["misconception"] == "unbiased_variance"
    assert not any(r["carried_forward"] for r in result["parts"].values())
    assert result["score"] <= 0.5  # it was 2/3 with the output carried forward
    # An unnamed slip still carries forward.
    slip = var + np.array([0.5] + [0.0] * (len(var) - 1))
    out = gamma * (x - mean[:, None]) / np.sqrt(slip[:, None] + 1e-5) + beta
    result = api.grade(v, {"mean": mean.tolist(), "variance": slip.tolist(), "output": out.tolist()})
    assert result["misconception"] is None and result["parts"]["output"]["carried_forward"]


@pytest.mark.parametrize("kind", ["qkv_pipeline", "causal_mask", "softmax_stability", "mha_params", "model_params", "by_hand"])
def test_no_named_mistake_keeps_carried_forward_credit(kind):
    from attention_engine import registry

    module = registry.get_kind(kind)
    for difficulty in ("easy", "medium", "hard"):
        variant = module.generate(1, difficulty)
        for code, answer in module.misconception_answers(variant).items():
            result = module.grade(variant, {**variant.answer, **answer})
            assert result.misconception == code
            assert not any(r.carried_forward for r in result.parts.values()), (difficulty, code)


# ------------------------------------------------------------------ the review sweeps in `verify`


@pytest.mark.parametrize("kind", ["softmax_stability", "causal_mask", "padding_mask", "by_hand", "mha_params", "model_params"])
def test_review_sweeps_pass(kind):
    from attention_engine import registry
    from attention_engine.verify import check_review

    module = registry.get_kind(kind)
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(3):
            assert check_review(module, module.generate(seed, difficulty)) == []


def test_review_sweeps_catch_the_old_faults(monkeypatch):
    from attention_engine.kinds import causal_mask, mha_params
    from attention_engine.verify import check_review

    # (c) two procedures that agree: a "mistake" identical to another one.
    real = causal_mask.misconception_answers
    monkeypatch.setattr(causal_mask, "misconception_answers", lambda v: {**real(v), "kq_transposed": real(v)["no_mask"]})
    checks = {check for check, _ in check_review(causal_mask, causal_mask.generate(0, "easy"))}
    assert "distinct" in checks
    monkeypatch.undo()
    # (d) the old rule, where an abbreviation right to its digits scored full, is caught.
    from attention_engine import grading

    v = mha_params.generate(4, "easy")
    assert not [f for f in check_review(mha_params, v) if f[0] == "rounded"]
    monkeypatch.setattr(grading, "_coarse_result", lambda part, result, given, answers: (result, None))
    assert [f for f in check_review(mha_params, v) if f[0] == "rounded"]
