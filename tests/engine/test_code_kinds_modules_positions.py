"""Code kinds (issue #14): the multi-head attention module, the sinusoidal table and RoPE. Each
catalogued mistake, written as code a learner would write (an edit of the model solution), is
graded below 1 and named; the module's second route is ``nn.MultiheadAttention`` itself; the
tests hold what the issue asks (shapes, dtypes, head counts, offsets) and survive JSON."""

import json

import numpy as np
import pytest

from attention_engine import code
from attention_engine.code import exercise

MHA = "code_mha_module"
SINUSOIDAL = "code_sinusoidal_positions"
ROPE = "code_rope"





# Mistakes a learner makes, as edits (old, new) of the model solution: {kind: [(misconception, edits)]}.
MISTAKES = {
    SINUSOIDAL: [
        ("sin_cos_swapped", [("PE[:, 0::2] = np.sin(angle)\n    PE[:, 1::2] = np.cos(angle)",
                              "PE[:, 0::2] = np.cos(angle)\n    PE[:, 1::2] = np.sin(angle)")]),
        ("exponent_i_over_d", [("np.arange(0, d_model, 2, dtype=np.float64)", "np.arange(d_model // 2, dtype=np.float64)")]),
        ("exponent_per_column", [(
            "    two_i = np.arange(0, d_model, 2, dtype=np.float64)  # 2i for each pair i\n"
            "    angle = pos / 10000.0 ** (two_i / d_model)          # (T, d_model / 2)\n"
            "    PE = np.empty((T, d_model))\n"
            "    PE[:, 0::2] = np.sin(angle)\n"
            "    PE[:, 1::2] = np.cos(angle)\n",
            "    j = np.arange(d_model)\n"
            "    angle = pos / 10000.0 ** (j / d_model)\n"
            "    PE = np.where(j % 2 == 0, np.sin(angle), np.cos(angle))\n")]),
        ("halves_concatenated", [(
            "    PE = np.empty((T, d_model))\n    PE[:, 0::2] = np.sin(angle)\n    PE[:, 1::2] = np.cos(angle)\n",
            "    PE = np.concatenate([np.sin(angle), np.cos(angle)], axis=1)\n")]),
        ("frequency_inverted", [("pos / 10000.0 **", "pos * 10000.0 **")]),
        ("base_1000", [("10000.0", "1000.0")]),
        ("positions_from_one", [("np.arange(T, dtype=np.float64)", "np.arange(1, T + 1, dtype=np.float64)")]),
    ],
    ROPE: [
        ("rotate_half_pairs", [
            ("x1, x2 = x[..., 0::2], x[..., 1::2]", "x1, x2 = x[..., : d // 2], x[..., d // 2:]"),
            ("rotated = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)\n"
             "    return rotated.flatten(-2)",
             "return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)")]),
        ("rotated_backwards", [("x1 * cos - x2 * sin, x1 * sin + x2 * cos", "x1 * cos + x2 * sin, -x1 * sin + x2 * cos")]),
        ("theta_exponent_i_over_d", [("torch.arange(0, d, 2, dtype=torch.float64, device=x.device)",
                                      "torch.arange(d // 2, dtype=torch.float64, device=x.device)")]),
        ("positions_ignored", [("positions.to(torch.float64)[:, None]",
                                "torch.arange(x.shape[-2], dtype=torch.float64, device=x.device)[:, None]")]),
    ],
    MHA: [
        ("no_output_projection", [("return self.out_proj(heads), weights", "return heads, weights")]),
        ("heads_split_without_transpose", [
            ("x.view(B, T, self.num_heads, self.d_head).transpose(1, 2)", "x.reshape(B, self.num_heads, T, self.d_head)"),
            ("(weights @ v).transpose(1, 2).reshape(", "(weights @ v).reshape(")]),
        ("scaled_by_sqrt_d_model", [("math.sqrt(self.d_head)", "math.sqrt(self.d_model)")]),
        ("no_scaling", [(" / math.sqrt(self.d_head)", "")]),
        ("weights_of_last_head", [("weights.mean(dim=1)", "weights[:, -1]")]),
        ("weights_summed_over_heads", [("weights.mean(dim=1)", "weights.sum(dim=1)")]),
        ("weights_per_head", [("weights.mean(dim=1)", "weights")]),
        ("padding_inverted", [("masked_fill(key_padding_mask[", "masked_fill(~key_padding_mask[")]),
        ("padding_ignored", [("        if key_padding_mask is not None:\n"
                              "            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float(\"-inf\"))\n",
                              "")]),
    ],
}


def test_every_catalogued_mistake_has_an_edit_and_a_message():
    for kind, mistakes in MISTAKES.items():
        if kind not in code.CODE_KINDS:
            continue
        spec = code.get_code_kind(kind)
        assert [m for m, _ in mistakes] == list(spec.wrong) == list(spec.misconceptions)
        for _, edits in mistakes:
            for old, _new in edits:
                assert old in spec.solution, (kind, old)


@pytest.mark.parametrize("kind", [SINUSOIDAL, ROPE, MHA])
def test_each_mistake_written_as_code_is_caught_and_named(kind, sandboxed):
    variant = code.generate(kind, 4, "hard")  # every wrong procedure applies at hard
    for misconception, edits in MISTAKES[kind]:
        source = variant["answer"]["code"]
        for old, new in edits:
            source = source.replace(old, new)
        result = code.grade(variant, {"code": source})
        assert result["score"] < 1, (kind, misconception)
        assert result["misconception"] == misconception, (kind, misconception, result["feedback"])
        assert result["misconception_message"] in result["feedback"]


def test_the_module_reference_is_nn_multihead_attention_with_the_same_weights():
    import torch
    from torch import nn

    spec = code.get_code_kind(MHA)
    assert spec.call == "module" and spec.second_route_name == "torch-nn-MultiheadAttention-float64"
    for seed in range(3):
        for test in exercise.stored_tests(code.generate(MHA, seed, "hard")):
            d, h = test.init["d_model"], test.init["num_heads"]
            module = nn.MultiheadAttention(d, h, batch_first=True).double().eval()
            s = {k: torch.from_numpy(v) for k, v in test.state.items()}
            with torch.no_grad():
                module.in_proj_weight.copy_(torch.cat([s["q_proj.weight"], s["k_proj.weight"], s["v_proj.weight"]]))
                module.in_proj_bias.copy_(torch.cat([s["q_proj.bias"], s["k_proj.bias"], s["v_proj.bias"]]))
                module.out_proj.weight.copy_(s["out_proj.weight"])
                module.out_proj.bias.copy_(s["out_proj.bias"])
                mask = test.inputs.get("key_padding_mask")
                output, weights = module(*(torch.from_numpy(test.inputs[n]) for n in ("query", "key", "value")),
                                         key_padding_mask=None if mask is None else torch.from_numpy(mask),
                                         need_weights=True, average_attn_weights=True)
            np.testing.assert_allclose(test.expected[0], output.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(test.expected[1], weights.numpy(), rtol=1e-10, atol=1e-12)


def test_the_module_tests_cover_what_the_issue_asks_and_survive_json():
    spec = code.get_code_kind(MHA)
    variant = code.generate(MHA, 7, "hard")
    tests = exercise.stored_tests(variant)
    assert {t.dtype for t in tests} == {"float32", "float64"}
    assert {t.init["num_heads"] for t in tests} >= {1, 2, 3, 4, 8}
    assert all(t.init["d_model"] % t.init["num_heads"] == 0 for t in tests)
    assert any(t.inputs["query"] is t.inputs["key"] or np.array_equal(t.inputs["query"], t.inputs["key"]) for t in tests)
    assert any(t.inputs["query"].shape[1] != t.inputs["key"].shape[1] for t in tests)  # cross-attention
    assert any(not np.array_equal(t.inputs["key"], t.inputs["value"]) for t in tests)
    padded = [t for t in tests if "key_padding_mask" in t.inputs]
    assert padded and all(m.any(axis=1).all() and (~m).any(axis=1).all() for m in (t.inputs["key_padding_mask"] for t in padded))
    for data, test in zip(variant["answer"]["tests"], tests, strict=True):
        assert json.loads(json.dumps(exercise._test_json(test, with_expected=True))) == data  # round trip
        assert sorted(test.state) == sorted(f"{p}.{w}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")
                                            for w in ("weight", "bias"))
        case = exercise._case(spec, test)
        assert case.call == "module" and case.init == test.init and case.dtype == test.dtype
        assert all(v.dtype == np.dtype(test.dtype) for v in case.state.values())
        assert all(np.array_equal(case.state[k].astype(np.float64), v) for k, v in test.state.items())  # exact
        assert [a.dtype.kind for a in case.args] == ["f", "f", "f"] + (["b"] if "key_padding_mask" in test.inputs else [])


def test_the_position_tests_cover_what_the_issue_asks():
    sin_tests = exercise.stored_tests(code.generate(SINUSOIDAL, 3, "hard"))
    shapes = [(t.inputs["T"], t.inputs["d_model"]) for t in sin_tests]
    assert any(t % 2 for t, _ in shapes) and len({d for _, d in shapes}) >= 4 and max(t for t, _ in shapes) > 200
    assert all(d % 2 == 0 and d >= 4 for _, d in shapes)
    rope_tests = exercise.stored_tests(code.generate(ROPE, 3, "hard"))
    assert {t.dtype for t in rope_tests} == {"float32", "float64"}
    assert {t.inputs["x"].ndim for t in rope_tests} >= {2, 3, 4}  # no batch, batch, batch and heads
    assert any(t.inputs["positions"][0] > 0 for t in rope_tests)  # an offset, as in decoding
    assert any(np.any(np.diff(t.inputs["positions"]) > 1) for t in rope_tests)  # not consecutive
    assert all(t.inputs["positions"].dtype == np.int64 for t in rope_tests)
    for kind in (SINUSOIDAL, ROPE):
        prompt = code.generate(kind, 0, "easy")["prompt"]
        assert "Source:" in prompt and "interleaved" in prompt
    assert "rotate-half" in code.generate(ROPE, 0, "easy")["prompt"]
