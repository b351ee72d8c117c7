"""The counting kinds (mha_params, model_params, flops, kv_cache, variance_scaling).

Keys are re-derived here by routes of the test's own (torch built-ins used directly, formulas
written out again, sampling with numpy), so a shared mistake in ``counting`` and a kind cannot
pass unseen. Mistakes are written out by hand, not taken from the kinds' catalogues.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from attention_engine import api, counting
from attention_engine.variant import VerificationError

COUNT_KINDS = ("mha_params", "model_params", "flops", "kv_cache")
KINDS = (*COUNT_KINDS, "variance_scaling")
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = settings(max_examples=12, deadline=None)


def first_variant(kind: str, difficulty: str, match: Any, limit: int = 400) -> dict[str, Any]:
    """The first seed's variant whose params satisfy ``match`` (to reach a named model)."""
    for seed in range(limit):
        v = api.generate(kind, seed, difficulty)
        if match(v["params"]):
            return v
    raise AssertionError(f"no {kind}/{difficulty} variant matched in {limit} seeds")


def grade(v: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return api.grade(v, {**v["answer"], **changes})


# --- contract shared by the five kinds ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_deterministic_keyed_and_private(kind: str, difficulty: str) -> None:
    a, b = api.generate(kind, 11, difficulty), api.generate(kind, 11, difficulty)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert (
        a != api.generate(kind, 12, difficulty)
        or a["params"] != api.generate(kind, 13, difficulty)["params"]
    )
    assert api.grade(a, a["answer"])["score"] == 1.0
    assert "answer" not in api.public(a) and "steps" not in api.public(a)
    assert a["verification"]["agreed"] and len(a["verification"]["routes"]) >= 2


@pytest.mark.parametrize("kind", COUNT_KINDS)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_count_keys_are_exact_integers(kind: str, difficulty: str) -> None:
    v = api.generate(kind, 5, difficulty)
    for part in v["parts"]:
        if part["tolerance"]["rel"] == 0:
            assert isinstance(v["answer"][part["name"]], int)


@pytest.mark.parametrize("kind", KINDS)
def test_format_errors_cost_nothing(kind: str) -> None:
    v = api.generate(kind, 2, "medium")
    first = v["parts"][0]["name"]
    for bad in ("abc", "1.05 M", "12 34", [1, 2]):
        result = grade(v, **{first: bad})
        assert result["score"] == 0.0 and result["format_errors"], bad
        assert result["format_errors"][0]["part"] == first
    # A blank part is graded as blank when another part is given; alone, it is unreadable.
    blank = grade(v, **{first: ""})
    if len(v["parts"]) > 1:
        assert not blank["format_errors"] and blank["parts"][first]["message"] == "Left blank"
        assert blank["parts"][first]["score"] == 0.0 and blank["score"] < 1
    else:
        assert blank["format_errors"] and blank["score"] == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_options_are_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="option"):
        api.generate(kind, 0, "easy", heads=3)


# --- typed precision ---------------------------------------------------------------------------


def test_exact_in_full_abbreviated_never() -> None:
    # The prompt asks for the exact number (issue #16): abbreviations are judged at their own
    # precision and never score full; one that also fits a catalogued mistake scores 0 and
    # names it (2.36M is also the 2,359,296 of a layer without biases).
    v = first_variant("mha_params", "easy", lambda p: p["d_model"] == 768 and p["bias"])
    key = v["answer"]["params"]
    assert key == 4 * 768 * 768 + 4 * 768 == 2_362_368
    for typed in ("2362368", "2,362,368", "4*768^2 + 4*768"):
        assert grade(v, params=typed)["score"] == 1.0, typed
    for typed in ("2.362M", "2.3624M", "2.36237e6"):
        result = grade(v, params=typed)
        assert result["score"] == 0.5 and "exact number" in result["parts"]["params"]["message"], typed
    for typed in ("2.36M", "2.36e6"):
        result = grade(v, params=typed)
        assert result["score"] == 0.0 and result["misconception"] == "forgot_bias", typed
    for typed in ("2362369", "2362367", "2.37M", "2.4M", "2M", "2.3M", "2.4e6", "2.3640M"):
        assert grade(v, params=typed)["score"] == 0.0, typed


def test_abbreviation_helpers() -> None:
    assert counting.is_abbreviated("1.05M") and counting.is_abbreviated("3e9")
    assert not counting.is_abbreviated("1,050,624") and not counting.is_abbreviated("1e6*2")
    assert not counting.is_abbreviated(1.05e6)
    assert counting.typed_precision("1.05M") == (3, 5000.0)
    assert counting.typed_precision("1.0506M") == (5, 50.0)
    assert counting.typed_precision("124M") == (3, 500000.0)
    assert counting.typed_precision("1.05e6") == (3, 5000.0)
    assert counting.abbreviated_tolerance(1_050_624) == 5000.0
    assert counting.abbreviated_tolerance(0) == 0.0


# --- mha_params -------------------------------------------------------------------------------


@SEEDS
@given(seed=st.integers(0, 10**6), difficulty=st.sampled_from(DIFFICULTIES))
def test_mha_key_from_torch_directly(seed: int, difficulty: str) -> None:
    v = api.generate("mha_params", seed, difficulty)
    p = v["params"]
    d, h, bias = p["d_model"], p["heads"], p["bias"]
    if p["d_head"] is None:
        layer = nn.MultiheadAttention(
            d, h, bias=bias, kdim=p["kdim"], vdim=p["vdim"], device="meta"
        )
        per_layer = sum(t.numel() for t in layer.parameters())
        inputs = per_layer - sum(t.numel() for t in layer.out_proj.parameters())
    else:
        inner = h * p["d_head"]
        layers = [nn.Linear(d, inner, bias=bias, device="meta") for _ in range(3)]
        layers.append(nn.Linear(inner, d, bias=bias, device="meta"))
        per_layer = sum(t.numel() for m in layers for t in m.parameters())
    if difficulty == "easy":
        expected = {"params": per_layer}
    elif difficulty == "medium":
        expected = {"input_projections": inputs, "total": per_layer}
    else:
        expected = {"per_layer": per_layer, "all_layers": per_layer * p["layers"]}
    assert v["answer"] == expected


def test_mha_misconceptions_by_hand() -> None:
    v = first_variant(
        "mha_params", "easy", lambda p: p["d_model"] == 512 and p["heads"] == 8 and p["bias"]
    )
    assert v["answer"]["params"] == 1_050_624
    cases = {
        "forgot_bias": 4 * 512 * 512,
        "forgot_output_projection": 3 * 512 * 512 + 3 * 512,
        "per_head_only": 3 * 512 * 64 + 3 * 64 + 64 * 512 + 512,
        "heads_times_full": 8 * 1_050_624,
    }
    for code, wrong in cases.items():
        result = grade(v, params=wrong)
        assert result["score"] == 0.0 and result["misconception"] == code, code
        assert result["misconception_message"]
    assert grade(v, params=1_050_623)["misconception"] is None


def test_mha_cross_attention_ecf_and_kdim() -> None:
    v = api.generate("mha_params", 4, "medium")
    p = v["params"]
    d, e = p["d_model"], p["kdim"]
    b = 1 if p["bias"] else 0
    assert v["answer"]["input_projections"] == d * d + 2 * e * d + 3 * d * b
    # K, V sized from d_model: both parts wrong the same way, the total follows from the first.
    wrong_inputs = 3 * d * d + 3 * d * b
    result = grade(v, input_projections=wrong_inputs, total=wrong_inputs + d * d + d * b)
    assert result["misconception"] == "ignored_kdim"
    assert result["parts"]["total"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)
    assert "no error-carried-forward credit" in result["parts"]["total"]["message"]
    assert result["score"] == 0.0


def test_mha_hard_per_layer_only() -> None:
    v = api.generate("mha_params", 1, "hard")
    assert v["params"]["d_head"] * v["params"]["heads"] != v["params"]["d_model"]
    result = grade(v, all_layers=v["answer"]["per_layer"])
    assert result["misconception"] == "per_layer_only"
    d = v["params"]["d_model"]
    no_split = 4 * d * d + (4 * d if v["params"]["bias"] else 0)
    result = grade(v, per_layer=no_split, all_layers=no_split * v["params"]["layers"])
    assert result["misconception"] == "inner_width_is_d_model"


# --- model_params -----------------------------------------------------------------------------


def test_gpt2_small_as_a_question() -> None:
    v = first_variant(
        "model_params", "hard", lambda p: p.get("name") == "GPT-2 small" and p["tied"]
    )
    assert v["answer"] == {
        "embeddings": 50257 * 768 + 1024 * 768,
        "block": 7_087_872,
        "total": 124_439_808,
    }
    assert "GPT-2 small" in v["prompt"]
    # "124.4M" fits the key, but also a model without LayerNorms (124,401,408) or without the
    # final one (124,438,272): it cannot score full, and the first such mistake is named.
    abbreviated = grade(v, total="124.4M")
    assert abbreviated["score"] < 1.0 and abbreviated["misconception"] == "forgot_layernorm"
    assert grade(v, total="124.4398M")["score"] == pytest.approx((1 + 1 + 2 * 0.5) / 4)  # the total weighs 2
    assert grade(v, total=124_439_808 + 50257 * 768)["misconception"] == "untied_when_tied"
    assert grade(v, total=124_439_808 - 1536)["misconception"] == "forgot_final_layernorm"
    result = grade(v, embeddings=50257 * 768, total=124_439_808 - 1024 * 768)
    assert result["misconception"] == "forgot_position_embeddings"
    assert result["parts"]["total"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)


def test_bert_base_as_a_question() -> None:
    v = first_variant(
        "model_params", "hard", lambda p: p.get("name") == "BERT-base" and p["pooler"]
    )
    assert v["answer"]["total"] == 109_482_240
    assert grade(v, total=109_482_240 - 768 * 768 - 768)["misconception"] == "forgot_pooler"
    result = grade(v, embeddings=(30522 + 512) * 768 + 1536, total=109_482_240 - 2 * 768)
    assert result["misconception"] == "forgot_token_type_embeddings"


def test_bert_without_pooler_counted_pooler() -> None:
    v = first_variant("model_params", "hard", lambda p: p["model"] == "bert" and not p["pooler"])
    d = v["params"]["d_model"]
    assert "no pooler" in v["prompt"].lower() or "without its pooler" in v["prompt"]
    assert grade(v, total=v["answer"]["total"] + d * d + d)["misconception"] == "counted_pooler"


@SEEDS
@given(seed=st.integers(0, 10**6))
def test_blocks_match_torch_layers_directly(seed: int) -> None:
    easy, medium = (
        api.generate("model_params", seed, "easy"),
        api.generate("model_params", seed, "medium"),
    )
    e, m = easy["params"], medium["params"]
    encoder = nn.TransformerEncoderLayer(e["d_model"], e["heads"], e["d_ff"], device="meta")
    decoder = nn.TransformerDecoderLayer(m["d_model"], m["heads"], m["d_ff"], device="meta")
    assert easy["answer"]["block"] == sum(t.numel() for t in encoder.parameters())
    per_block = sum(t.numel() for t in decoder.parameters())
    assert medium["answer"] == {"block": per_block, "all_layers": per_block * m["layers"]}


def test_decoder_block_misconceptions() -> None:
    v = api.generate("model_params", 0, "medium")
    d, d_ff = v["params"]["d_model"], v["params"]["d_ff"]
    block = v["answer"]["block"]
    cases = {
        "forgot_cross_attention": block - (4 * d * d + 4 * d),
        "two_layernorms": block - 2 * d,
        "forgot_layernorm": block - 6 * d,
        "forgot_mlp": block - (2 * d * d_ff + d_ff + d),
    }
    for code, wrong in cases.items():
        result = grade(v, block=wrong, all_layers=wrong * v["params"]["layers"])
        assert result["misconception"] == code, code
        assert result["parts"]["all_layers"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)
    assert grade(v, all_layers=block)["misconception"] == "per_layer_only"


# --- flops ------------------------------------------------------------------------------------


def sdpa_layer_flops(d: int, heads: int, d_head: int, n: int, d_ff: int) -> dict[str, int]:
    """FLOPs of one layer, counted by FlopCounterMode around torch built-ins (SDPA, Linear)."""
    inner = heads * d_head
    x = torch.empty(1, n, d, device="meta")
    lin = {
        "qkv": nn.Linear(d, 3 * inner, device="meta"),
        "o": nn.Linear(inner, d, device="meta"),
        "fc": nn.Linear(d, d_ff, device="meta"),
        "proj": nn.Linear(d_ff, d, device="meta"),
    }
    counts = {}
    with FlopCounterMode(display=False) as c:
        qkv = lin["qkv"](x)
    counts["qkv"] = c.get_total_flops()
    q, k, v = (t.view(1, n, heads, d_head).transpose(1, 2) for t in qkv.split(inner, dim=-1))
    with FlopCounterMode(display=False) as c:
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    counts["attention"] = c.get_total_flops()
    with FlopCounterMode(display=False) as c:
        out = lin["o"](y.transpose(1, 2).reshape(1, n, inner))
    counts["output"] = c.get_total_flops()
    with FlopCounterMode(display=False) as c:
        lin["proj"](F.gelu(lin["fc"](out)))
    counts["mlp"] = c.get_total_flops()
    return counts


@SEEDS
@given(seed=st.integers(0, 10**6), difficulty=st.sampled_from(DIFFICULTIES))
def test_flops_key_from_sdpa_flop_counter(seed: int, difficulty: str) -> None:
    v = api.generate("flops", seed, difficulty)
    p = v["params"]
    d, h, n, d_ff, layers = p["d_model"], p["heads"], p["seq_len"], p["d_ff"], p["layers"]
    d_head = p["d_head"] or d // h
    c = sdpa_layer_flops(d, h, d_head, n, d_ff)
    layer = sum(c.values())
    if difficulty == "easy":
        assert v["answer"] == {
            "projections": c["qkv"] + c["output"],
            "attention": c["attention"],
            "total": layer,
        }
    elif difficulty == "medium":
        assert v["answer"] == {"total": layer * layers, "per_token": layer * layers // n}
    else:
        assert v["answer"]["total"] == layer * layers
        crossover = v["answer"]["crossover"]
        at = sdpa_layer_flops(d, h, d_head, crossover, d_ff)
        assert at["attention"] == at["qkv"] + at["output"] + at["mlp"]


def test_flops_misconceptions_by_hand() -> None:
    v = api.generate("flops", 3, "easy")
    a = v["answer"]
    n, d = v["params"]["seq_len"], v["params"]["d_model"]
    halves = {k: x // 2 for k, x in a.items()}
    assert grade(v, **halves)["misconception"] == "macs_not_flops"
    assert (
        grade(v, total=a["total"] - a["attention"])["misconception"] == "forgot_attention_matmuls"
    )
    once = a["attention"] // 2
    result = grade(v, attention=once, total=a["total"] - once)
    assert result["misconception"] == "attention_counted_once"
    assert result["parts"]["total"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)
    assert grade(v, total=a["projections"] + a["attention"])["misconception"] == "forgot_mlp"
    assert (
        grade(v, projections=a["projections"] - 2 * n * d * d)["misconception"]
        == "forgot_output_projection"
    )


def test_flops_crossover_mistakes() -> None:
    v = api.generate("flops", 2, "hard")
    d = v["params"]["d_model"]
    assert grade(v, crossover=2 * d)["misconception"] == "forgot_mlp"
    assert (
        grade(v, crossover=2 * v["answer"]["crossover"])["misconception"]
        == "attention_counted_once"
    )


# --- kv_cache ---------------------------------------------------------------------------------


@SEEDS
@given(seed=st.integers(0, 10**6), difficulty=st.sampled_from(DIFFICULTIES))
def test_kv_cache_key_from_tensor_sizes(seed: int, difficulty: str) -> None:
    v = api.generate("kv_cache", seed, difficulty)
    p = v["params"]
    dtype = {
        "fp32": torch.float32,
        "fp16": torch.float16,
        "bf16": torch.bfloat16,
        "int8": torch.int8,
    }[p["dtype"]]
    k = torch.empty(
        p["batch"], p["kv_heads"], p["seq_len"], p["d_head"], dtype=dtype, device="meta"
    )
    total = 2 * p["layers"] * k.numel() * k.element_size()
    assert v["answer"]["bytes"] == total
    if difficulty != "easy":
        assert v["answer"]["gib"] == pytest.approx(total / 2**30, rel=1e-15)
    if difficulty == "hard":
        fits = p["budget_gib"] * 2**30 // (total // p["batch"])
        assert v["answer"]["max_batch"] == fits
        assert (
            fits * (total // p["batch"])
            <= p["budget_gib"] * 2**30
            < (fits + 1) * (total // p["batch"])
        )


def test_llama2_7b_cache() -> None:
    v = first_variant(
        "kv_cache", "easy", lambda p: p["name"] == "Llama 2 7B" and p["seq_len"] == 4096
    )
    assert v["answer"]["bytes"] == 2 * 2**30  # the well-known 2 GiB at 4k tokens in fp16
    assert grade(v, bytes=2**30)["misconception"] == "forgot_k_or_v"
    assert grade(v, bytes=2**26)["misconception"] == "per_layer_only"
    assert grade(v, bytes=4 * 2**30)["misconception"] == "wrong_dtype_bytes"
    assert grade(v, bytes="2.15G")["score"] == 0.5  # right to three figures, but the exact count was asked
    assert grade(v, bytes="2G")["score"] == 0.0  # 2e9 is not 2 GiB


def test_kv_cache_gib_and_gqa_mistakes() -> None:
    v = api.generate("kv_cache", 6, "hard")
    p, a = v["params"], v["answer"]
    assert p["kv_heads"] < p["heads"]
    assert grade(v, gib=a["bytes"] / 1e9)["misconception"] == "gib_vs_gb"
    wrong = a["bytes"] * p["heads"] // p["kv_heads"]
    result = grade(
        v,
        bytes=wrong,
        gib=wrong / 2**30,
        max_batch=p["budget_gib"] * 2**30 // (wrong // p["batch"]),
    )
    assert result["misconception"] == "query_heads_for_kv"
    assert result["parts"]["gib"]["score"] == 0.0 and result["parts"]["max_batch"]["score"] == 0.0
    assert grade(v, bytes=a["bytes"] // p["batch"])["misconception"] == "forgot_batch"


def test_kv_cache_rejects_unknown_dtype() -> None:
    with pytest.raises(ValueError):
        counting.kv_cache_bytes(2, 2, 8, 16, 1, "fp8")


# --- variance_scaling -------------------------------------------------------------------------


@SEEDS
@given(seed=st.integers(0, 10**6), difficulty=st.sampled_from(DIFFICULTIES))
def test_variance_key_by_numpy_sampling(seed: int, difficulty: str) -> None:
    v = api.generate("variance_scaling", seed, difficulty)
    p = v["params"]
    d_k = p["d_k"]
    mu_q, mu_k, s_q, s_k = (float(Fraction(p[k])) for k in ("mu_q", "mu_k", "sigma_q", "sigma_k"))
    rng = np.random.default_rng(seed)
    n = 20_000
    dots = np.einsum("nd,nd->n", rng.normal(mu_q, s_q, (n, d_k)), rng.normal(mu_k, s_k, (n, d_k)))
    var = float(Fraction(v["answer"]["var"]))
    # Sample variance of n draws: relative standard error sqrt((kurtosis - 1) / n) < 0.03 here.
    assert dots.var(ddof=1) == pytest.approx(var, rel=0.08)
    exact_term = s_q**2 * s_k**2 + s_q**2 * mu_k**2 + mu_q**2 * s_k**2
    assert var == pytest.approx(d_k * exact_term, rel=1e-12)
    answer = {k: float(Fraction(x)) for k, x in v["answer"].items()}
    if difficulty == "easy":
        assert answer == {"var": d_k, "std": math.sqrt(d_k), "std_scaled": 1.0}
    elif difficulty == "medium":
        assert answer["std_scaled"] == pytest.approx(math.sqrt(var / d_k))
        assert answer["scale"] == pytest.approx(1 / math.sqrt(var))
    else:
        assert answer["mean"] == pytest.approx(d_k * mu_q * mu_k)
        assert answer["var_scaled"] == pytest.approx(var / d_k)


def test_variance_misconceptions_by_hand() -> None:
    v = first_variant("variance_scaling", "easy", lambda p: p["d_k"] == 64)
    assert v["answer"] == {"var": "64", "std": "8", "std_scaled": "1"}
    assert grade(v, std_scaled=8)["misconception"] == "no_scaling"
    assert grade(v, std_scaled="1/8")["misconception"] == "scaled_by_dk"
    assert grade(v, std=64)["misconception"] == "std_vs_variance"
    assert grade(v, var="sqrt(64)", std=64)["misconception"] == "std_vs_variance"
    assert grade(v, std_scaled="0.125")["score"] == pytest.approx(2 / 3)


def test_variance_hard_means_and_carry_forward() -> None:
    v = api.generate("variance_scaling", 3, "hard")
    p = v["params"]
    d_k = p["d_k"]
    s2 = float(Fraction(p["sigma_q"]) ** 2 * Fraction(p["sigma_k"]) ** 2)
    result = grade(v, mean=0, var=d_k * s2, var_scaled=s2)
    assert result["misconception"] == "ignored_means"
    assert result["parts"]["var_scaled"]["score"] == 0.0  # a named mistake earns no carried-forward credit (issue #16)
    var = float(Fraction(v["answer"]["var"]))
    assert grade(v, var_scaled=var / d_k**2)["misconception"] == "scaled_by_dk"
    assert grade(v, var_scaled=var)["misconception"] == "no_scaling"


def test_monte_carlo_is_seeded_and_within_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from attention_engine.kinds import variance_scaling

    monkeypatch.setenv("ATTN_DEVICE", "cpu")
    params = {"d_k": 64, "mu_q": "1/2", "mu_k": "-1", "sigma_q": "2", "sigma_k": "1"}
    first = variance_scaling.monte_carlo_moments(params, seed=7)
    assert first == variance_scaling.monte_carlo_moments(params, seed=7)
    assert first != variance_scaling.monte_carlo_moments(params, seed=8)
    exact_var = 64 * (4 * 1 + 4 * 1 + 0.25 * 1)
    assert abs(first["var"] - exact_var) < 6 * first["var_se"]
    assert abs(first["mean"] - 64 * 0.5 * -1) < 6 * first["mean_se"]
    assert first["var_se"] < 0.03 * exact_var  # the check has teeth: ~1% standard error


def test_wrong_formula_is_caught_by_monte_carlo(monkeypatch: pytest.MonkeyPatch) -> None:
    from attention_engine.kinds import variance_scaling

    real = variance_scaling._moments

    def half_again(params: dict[str, Any]) -> tuple[Fraction, Fraction]:
        mean, var = real(params)
        return mean, var * Fraction(3, 2)

    # Both exact routes agree with each other on the wrong formula; only sampling can object.
    monkeypatch.setattr(variance_scaling, "_moments", half_again)
    monkeypatch.setattr(
        variance_scaling, "_moments_float64", lambda p: tuple(float(x) for x in half_again(p))
    )
    with pytest.raises(VerificationError, match="Monte-Carlo"):
        api.generate("variance_scaling", 0, "hard")


def test_disagreeing_torch_count_means_no_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    real = counting.torch_param_count
    monkeypatch.setattr(counting, "torch_param_count", lambda kind, **c: real(kind, **c) + 1)
    with pytest.raises(VerificationError):
        api.generate("mha_params", 0, "easy")
    with pytest.raises(VerificationError):
        api.generate("model_params", 0, "hard")
