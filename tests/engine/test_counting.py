"""Counting: every formula against torch (meta-device modules, FlopCounterMode, real tensors)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attention_engine import counting
from attention_engine.counting import (
    Count,
    attention_overtakes_seq_len,
    attention_params,
    bert_params,
    decoder_block_params,
    encoder_block_params,
    flops,
    flops_per_token,
    gpt3_attention_only_params,
    gpt_params,
    kv_cache_bytes,
    torch_flops,
    verify_count,
)

GPT2_SMALL = {
    "vocab": 50257,
    "context": 1024,
    "d_model": 768,
    "heads": 12,
    "layers": 12,
    "d_ff": 3072,
}
BERT_BASE = {
    "vocab": 30522,
    "context": 512,
    "type_vocab": 2,
    "d_model": 768,
    "heads": 12,
    "layers": 12,
    "d_ff": 3072,
}
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small = st.integers(min_value=1, max_value=48)


@st.composite
def heads_and_width(draw: st.DrawFn) -> tuple[int, int]:
    """(heads, d_model) with d_model divisible by heads."""
    heads = draw(st.integers(1, 8))
    return heads, heads * draw(st.integers(1, 16))


def assert_consistent(count: Count) -> None:
    assert sum(count.breakdown.values()) == count.total
    assert count.to_dict() == {"total": count.total, "breakdown": count.breakdown}
    assert all(isinstance(v, int) for v in count.breakdown.values())


# --- published figures -----------------------------------------------------------------------


def test_gpt2_small_has_124_439_808_parameters() -> None:
    count = gpt_params(**GPT2_SMALL)
    assert count.total == 124_439_808
    assert_consistent(count)
    assert verify_count("gpt", **GPT2_SMALL) == (124_439_808, 124_439_808)


def test_untied_head_adds_one_embedding_matrix() -> None:
    tied, untied = gpt_params(**GPT2_SMALL), gpt_params(**GPT2_SMALL, tied=False)
    assert untied.total - tied.total == 50257 * 768
    assert verify_count("gpt", **GPT2_SMALL, tied=False) == (untied.total, untied.total)


def test_bert_base_has_109_482_240_parameters() -> None:
    count = bert_params(**BERT_BASE)
    assert count.total == 109_482_240
    assert_consistent(count)
    assert verify_count("bert", **BERT_BASE) == (109_482_240, 109_482_240)
    without = bert_params(**BERT_BASE, pooler=False)
    assert count.total - without.total == 768 * 768 + 768
    assert verify_count("bert", **BERT_BASE, pooler=False) == (without.total, without.total)


def test_gpt3_attention_matches_3blue1brown() -> None:
    count = gpt3_attention_only_params()
    assert count.total == 57_982_058_496
    assert count.breakdown == dict.fromkeys(
        ("query", "key", "value_down", "value_up"), 12288 * 128 * 96 * 96
    )
    # "about 600 million" per block, 6,291,456 per head.
    assert gpt3_attention_only_params(layers=1).total == 603_979_776
    assert gpt3_attention_only_params(heads=1, layers=1).total == 6_291_456
    assert verify_count("gpt3_attention") == (57_982_058_496, 57_982_058_496)


def test_gpt3_attention_is_bias_free_attention_with_d_head() -> None:
    assert (
        gpt3_attention_only_params().total
        == attention_params(12288, 96, d_head=128, bias=False, layers=96).total
    )


def test_transformer_base_encoder_block() -> None:
    # Vaswani et al. base: d=512, h=8, d_ff=2048.
    count = encoder_block_params(512, 8, 2048)
    assert count.total == 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512
    assert verify_count("encoder_block", d_model=512, heads=8, d_ff=2048) == (count.total,) * 2


# --- properties against torch on the meta device ---------------------------------------------


@FEW
@given(
    hw=heads_and_width(),
    bias=st.booleans(),
    kdim=st.none() | small,
    vdim=st.none() | small,
    layers=st.integers(1, 3),
)
def test_attention_matches_nn_multihead_attention(
    hw: tuple[int, int], bias: bool, kdim: int | None, vdim: int | None, layers: int
) -> None:
    heads, d_model = hw
    config = {"d_model": d_model, "heads": heads, "bias": bias, "kdim": kdim, "vdim": vdim}
    ours, theirs = verify_count("attention", **config, layers=layers)
    assert ours == theirs
    assert_consistent(attention_params(**config, layers=layers))


@FEW
@given(d_model=small, heads=st.integers(1, 8), d_head=small, bias=st.booleans())
def test_attention_with_any_d_head(d_model: int, heads: int, d_head: int, bias: bool) -> None:
    ours, theirs = verify_count("attention", d_model=d_model, heads=heads, d_head=d_head, bias=bias)
    assert ours == theirs
    inner = heads * d_head
    assert ours == 4 * d_model * inner + (3 * inner + d_model if bias else 0)


@FEW
@given(hw=heads_and_width(), d_ff=small, bias=st.booleans(), layers=st.integers(1, 3))
def test_encoder_and_decoder_blocks_match_torch_layers(
    hw: tuple[int, int], d_ff: int, bias: bool, layers: int
) -> None:
    heads, d_model = hw
    config = {"d_model": d_model, "heads": heads, "d_ff": d_ff, "bias": bias, "layers": layers}
    for kind in ("encoder_block", "decoder_block"):
        ours, theirs = verify_count(kind, **config)
        assert ours == theirs, kind


@FEW
@given(
    d_model=small,
    heads=st.integers(1, 4),
    d_head=small,
    d_ff=small,
    memory_dim=small,
    bias=st.booleans(),
)
def test_decoder_block_with_own_d_head_and_memory(
    d_model: int, heads: int, d_head: int, d_ff: int, memory_dim: int, bias: bool
) -> None:
    config = {
        "d_model": d_model,
        "heads": heads,
        "d_head": d_head,
        "d_ff": d_ff,
        "memory_dim": memory_dim,
        "bias": bias,
    }
    ours, theirs = verify_count("decoder_block", **config)
    assert ours == theirs
    assert_consistent(decoder_block_params(**config))


@FEW
@given(
    vocab=st.integers(1, 300),
    context=st.integers(1, 64),
    hw=heads_and_width(),
    layers=st.integers(1, 3),
    d_ff=small,
    tied=st.booleans(),
)
def test_gpt_matches_meta_model(
    vocab: int, context: int, hw: tuple[int, int], layers: int, d_ff: int, tied: bool
) -> None:
    heads, d_model = hw
    config = {
        "vocab": vocab,
        "context": context,
        "d_model": d_model,
        "heads": heads,
        "layers": layers,
        "d_ff": d_ff,
        "tied": tied,
    }
    ours, theirs = verify_count("gpt", **config)
    assert ours == theirs
    assert_consistent(gpt_params(**config))


@FEW
@given(
    vocab=st.integers(1, 300),
    context=st.integers(1, 64),
    type_vocab=st.integers(1, 4),
    hw=heads_and_width(),
    layers=st.integers(1, 3),
    d_ff=small,
    pooler=st.booleans(),
)
def test_bert_matches_meta_model(
    vocab: int,
    context: int,
    type_vocab: int,
    hw: tuple[int, int],
    layers: int,
    d_ff: int,
    pooler: bool,
) -> None:
    heads, d_model = hw
    config = {
        "vocab": vocab,
        "context": context,
        "type_vocab": type_vocab,
        "d_model": d_model,
        "heads": heads,
        "layers": layers,
        "d_ff": d_ff,
        "pooler": pooler,
    }
    ours, theirs = verify_count("bert", **config)
    assert ours == theirs
    assert_consistent(bert_params(**config))


def test_tied_head_shares_one_parameter_in_torch() -> None:
    model = counting._torch_gpt(
        vocab=10, context=4, d_model=8, heads=2, layers=1, d_ff=16, tied=True
    )
    assert model["lm_head"].weight is model["wte"].weight


# --- KV cache ---------------------------------------------------------------------------------


@FEW
@given(
    layers=st.integers(1, 4),
    kv_heads=st.integers(1, 4),
    group=st.integers(1, 3),
    d_head=st.integers(1, 16),
    seq_len=st.integers(1, 32),
    batch=st.integers(1, 3),
    dtype=st.sampled_from(sorted(counting.DTYPE_BYTES)),
)
def test_kv_cache_matches_real_tensor_bytes(
    layers: int, kv_heads: int, group: int, d_head: int, seq_len: int, batch: int, dtype: str
) -> None:
    config = {
        "layers": layers,
        "heads": kv_heads * group,
        "kv_heads": kv_heads,
        "d_head": d_head,
        "seq_len": seq_len,
        "batch": batch,
        "dtype": dtype,
    }
    ours, theirs = verify_count("kv_cache", **config)
    assert ours == theirs
    count = kv_cache_bytes(**config)
    assert count.breakdown["K"] == count.breakdown["V"] == ours // 2


def test_kv_cache_llama2_7b_is_two_gib_at_4k_fp16() -> None:
    # 32 layers, 32 heads of 128, 4096 tokens, fp16: 2 * 32 * 4096 * 4096 * 2 bytes = 2 GiB.
    config = {
        "layers": 32,
        "heads": 32,
        "d_head": 128,
        "seq_len": 4096,
        "batch": 1,
        "dtype": "fp16",
    }
    assert kv_cache_bytes(**config).total == 2 * 2**30
    assert verify_count("kv_cache", **config) == (2 * 2**30, 2 * 2**30)  # meta route
    assert kv_cache_bytes(**config, kv_heads=8).total == 2**29  # GQA shares K/V over 4 heads


@pytest.mark.parametrize("dtype", ["float32", "fp64", "FP16", "int4"])
def test_kv_cache_rejects_unknown_dtypes(dtype: str) -> None:
    with pytest.raises(ValueError, match="dtype"):
        kv_cache_bytes(1, 1, 1, 1, 1, dtype)


def test_kv_cache_rejects_kv_heads_not_dividing_heads() -> None:
    with pytest.raises(ValueError, match="kv_heads"):
        kv_cache_bytes(1, 6, 8, 16, 1, "fp16", kv_heads=4)


# --- FLOPs ------------------------------------------------------------------------------------


@FEW
@given(
    d_model=small,
    heads=st.integers(1, 4),
    d_head=st.none() | small,
    seq_len=st.integers(1, 64),
    d_ff=small,
    layers=st.integers(1, 2),
)
def test_flops_match_flop_counter_term_by_term(
    d_model: int, heads: int, d_head: int | None, seq_len: int, d_ff: int, layers: int
) -> None:
    if d_head is None:
        d_model *= heads  # keep d_model divisible by heads
    config = {
        "d_model": d_model,
        "heads": heads,
        "seq_len": seq_len,
        "d_ff": d_ff,
        "layers": layers,
        "d_head": d_head,
    }
    assert torch_flops(**config) == flops(**config).breakdown
    assert_consistent(flops(**config))


def test_gpt2_small_layer_flops_at_1024_tokens() -> None:
    config = {"d_model": 768, "heads": 12, "seq_len": 1024, "d_ff": 3072}
    count = flops(**config)
    # 24 n d^2 for the projections and MLP plus 4 n^2 d for the two attention matmuls.
    assert count.total == 24 * 1024 * 768**2 + 4 * 1024**2 * 768
    assert verify_count("flops", **config) == (count.total, count.total)


def test_flops_per_token_is_flops_over_n() -> None:
    config = {"d_model": 512, "heads": 8, "seq_len": 300, "d_ff": 2048, "layers": 6}
    whole, per_token = flops(**config), flops_per_token(**config)
    assert {k: v * 300 for k, v in per_token.breakdown.items()} == whole.breakdown
    # Per token, the projections and MLP cost 2 FLOPs per weight: 2 * 12 d^2 per layer.
    linear = (
        per_token.total
        - per_token.breakdown["attention_scores"]
        - per_token.breakdown["attention_values"]
    )
    assert linear == 2 * 12 * 512**2 * 6


@pytest.mark.parametrize(
    ("d_model", "d_ff", "heads", "d_head", "expected"),
    [(768, 3072, 12, None, 6 * 768), (512, 2048, 8, None, 3072), (100, 300, 4, 10, 200 + 750)],
)
def test_attention_overtakes_where_formula_says(
    d_model: int, d_ff: int, heads: int, d_head: int | None, expected: int
) -> None:
    n = attention_overtakes_seq_len(d_model, d_ff, heads=heads, d_head=d_head)
    assert n == expected

    def split(seq_len: int) -> tuple[int, int]:
        terms = flops(d_model, heads, seq_len, d_ff, d_head=d_head).breakdown
        quadratic = terms["attention_scores"] + terms["attention_values"]
        return quadratic, sum(terms.values()) - quadratic

    quadratic, linear = split(n)
    assert quadratic >= linear
    quadratic, linear = split(n - 1)
    assert quadratic < linear


@FEW
@given(d_model=small, d_ff=small, heads=st.integers(1, 4), d_head=small)
def test_attention_overtakes_is_the_smallest_such_n(
    d_model: int, d_ff: int, heads: int, d_head: int
) -> None:
    n = attention_overtakes_seq_len(d_model, d_ff, heads=heads, d_head=d_head)
    inner = heads * d_head

    def attention_wins(seq_len: int) -> bool:
        return 4 * seq_len**2 * inner >= seq_len * (8 * d_model * inner + 4 * d_model * d_ff)

    assert attention_wins(n) and not attention_wins(n - 1)


# --- contract details -------------------------------------------------------------------------


def test_count_rejects_inconsistent_breakdown() -> None:
    with pytest.raises(ValueError, match="breakdown"):
        Count(total=3, breakdown={"a": 1, "b": 1})


@pytest.mark.parametrize(
    "call",
    [
        lambda: attention_params(10, 3),  # not divisible
        lambda: attention_params(0, 1),
        lambda: gpt_params(10, 4, 8, 2, 0, 16),
        lambda: flops(8, 2, -1, 16),
        lambda: attention_params(8, 2, layers=True),
    ],
)
def test_invalid_sizes_are_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_unknown_verify_kind() -> None:
    with pytest.raises(ValueError, match="unknown count kind"):
        verify_count("mamba", d_model=8)


def test_importing_counting_does_not_import_torch() -> None:
    code = "import sys, attention_engine.counting; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
