"""Code kinds of masks and decoding (issue #14): code_stable_softmax, code_causal_attention,
code_padding_attention, code_cross_attention, code_kv_cache_step.

The generic tests of ``test_code_kinds.py`` (determinism, two routes, vetting, the model solution
passes) cover these kinds too. Here: each catalogued mistake, written as code a learner would
write, is graded below 1 and named; each wrong procedure is named for its own results (no
earlier procedure matches its failed tests) and fails a test by its numbers, not only by the
float64 dtype the procedures compute in; the hard tests hold the edge cases the prompts promise.
"""

import numpy as np
import pytest

from attention_engine import code
from attention_engine.code import decoding, exercise, masks
from attention_engine.variant import DIFFICULTIES

KINDS = ("code_stable_softmax", "code_causal_attention", "code_padding_attention", "code_cross_attention",
         "code_kv_cache_step")
SEED = 4



_VARIANTS: dict[str, dict] = {}


def hard_variant(kind: str) -> dict:
    """One hard variant per kind, shared by the mistakes of that kind."""
    if kind not in _VARIANTS:
        _VARIANTS[kind] = code.generate(kind, SEED, "hard")
    return _VARIANTS[kind]




def _replace_from(solution: str, start: str, new_tail: str) -> str:
    """The solution up to the line that begins with ``start``, then ``new_tail``."""
    assert start in solution
    return solution[: solution.index(start)] + new_tail


_PADDING_AFTER_SOFTMAX = _replace_from(masks.PADDING_SOLUTION, "    scores = np.where(real", (
    "    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))\n"
    "    weights = exps / exps.sum(axis=-1, keepdims=True) * real\n"
    "    return weights @ V, weights\n"
))
_KV_BEFORE_APPENDING = _replace_from(decoding.KV_SOLUTION, "    if cache_k is None:", (
    "    weights = torch.softmax(q @ cache_k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)\n"
    "    output = weights @ cache_v\n"
    "    if cache_k is None:\n"
    "        return output, k, v\n"
    "    return output, torch.cat([cache_k, k], dim=1), torch.cat([cache_v, v], dim=1)\n"
))

# (kind, misconception, the learner's code: a list of (old, new) edits of the model solution, or the code)
MISTAKES = [
    ("code_stable_softmax", "axis_ignored", [("axis=axis", "axis=-1")]),
    ("code_stable_softmax", "sum_without_keepdims", [("np.sum(exps, axis=axis, keepdims=True)", "np.sum(exps, axis=axis)")]),
    ("code_stable_softmax", "divided_by_max", [("np.sum(exps", "np.max(exps")]),
    ("code_stable_softmax", "global_max_subtracted", [("np.max(x, axis=axis, keepdims=True)", "np.max(x)")]),
    ("code_stable_softmax", "naive_exp", [("np.exp(x - top)", "np.exp(x)")]),
    ("code_causal_attention", "mask_missing", [('    scores = scores.masked_fill(~allowed, float("-inf"))\n', "")]),
    ("code_causal_attention", "future_visible", [(".tril()", ".triu()")]),
    ("code_causal_attention", "diagonal_excluded", [(".tril()", ".tril(-1)")]),
    ("code_causal_attention", "masked_to_zero", [('float("-inf")', "0.0")]),
    ("code_causal_attention", "mask_after_softmax", [
        ('    scores = scores.masked_fill(~allowed, float("-inf"))\n', ""),
        ("weights = torch.softmax(scores, dim=-1)", "weights = torch.softmax(scores, dim=-1) * allowed")]),
    ("code_causal_attention", "no_scaling", [(" / math.sqrt(Q.shape[-1])", "")]),
    ("code_causal_attention", "softmax_overflows", [
        ("torch.softmax(scores, dim=-1)", "torch.exp(scores) / torch.exp(scores).sum(dim=-1, keepdim=True)")]),
    ("code_padding_attention", "mask_ignored", [
        ("np.arange(K.shape[-2])[None, None, :] < np.asarray(lengths)[:, None, None]",
         "np.ones((1, 1, K.shape[-2]), dtype=bool)")]),
    ("code_padding_attention", "mask_inverted", [("] < np.asarray(lengths)", "] >= np.asarray(lengths)")]),
    ("code_padding_attention", "off_by_one", [("] < np.asarray(lengths)", "] <= np.asarray(lengths)")]),
    ("code_padding_attention", "queries_padded", [
        ("np.arange(K.shape[-2])[None, None, :]", "np.arange(Q.shape[-2])[None, :, None]")]),
    ("code_padding_attention", "mask_after_softmax", _PADDING_AFTER_SOFTMAX),
    ("code_padding_attention", "nan_for_empty_sequence", [
        ("np.where(total > 0, exps / np.where(total > 0, total, 1.0), 0.0)", "exps / total")]),
    ("code_cross_attention", "roles_swapped", [
        ("Q = x_dec @ W_q", "Q = x_enc @ W_q"), ("K = x_enc @ W_k", "K = x_dec @ W_k"), ("V = x_enc @ W_v", "V = x_dec @ W_v")]),
    ("code_cross_attention", "no_scaling", [(" / math.sqrt(K.shape[-1])", "")]),
    ("code_cross_attention", "scaled_by_d_model", [("math.sqrt(K.shape[-1])", "math.sqrt(x_dec.shape[-1])")]),
    ("code_cross_attention", "scaled_by_d_v", [("math.sqrt(K.shape[-1])", "math.sqrt(V.shape[-1])")]),
    ("code_cross_attention", "softmax_over_queries", [("dim=-1", "dim=-2")]),
    ("code_kv_cache_step", "attended_before_appending", _KV_BEFORE_APPENDING),
    ("code_kv_cache_step", "cache_overwritten", [
        ("torch.cat([cache_k, k], dim=1)", "k"), ("torch.cat([cache_v, v], dim=1)", "v")]),
    ("code_kv_cache_step", "cache_prepended", [
        ("torch.cat([cache_k, k], dim=1)", "torch.cat([k, cache_k], dim=1)"),
        ("torch.cat([cache_v, v], dim=1)", "torch.cat([v, cache_v], dim=1)")]),
    ("code_kv_cache_step", "no_scaling", [(" / math.sqrt(q.shape[-1])", "")]),
]


def test_every_catalogued_mistake_has_its_code():
    for kind in KINDS:
        spec = code.get_code_kind(kind)
        written = {m for k, m, _ in MISTAKES if k == kind}
        assert written == set(spec.wrong) == set(spec.misconceptions), kind


@pytest.mark.parametrize(("kind", "misconception", "mistake"), MISTAKES, ids=[f"{k[5:]}-{m}" for k, m, _ in MISTAKES])
def test_each_mistake_written_as_code_is_caught_and_named(kind, misconception, mistake, sandboxed):
    variant = hard_variant(kind)
    solution = variant["answer"]["code"]
    if isinstance(mistake, str):
        wrong = mistake
    else:
        wrong = solution
        for old, new in mistake:
            assert old in wrong, (kind, old)
            wrong = wrong.replace(old, new)
    assert wrong != solution
    result = code.grade(variant, {"code": wrong})
    assert result["score"] < 1, (kind, misconception)
    assert result["misconception"] == misconception, (kind, result["feedback"], result["tests"])
    assert result["misconception_message"] in result["feedback"]


def test_softmax_hard_tests_overflow_underflow_and_mask():
    tests = exercise.stored_tests(code.generate("code_stable_softmax", 7, "hard"))
    assert any(t.inputs["x"].max() > 709 for t in tests)  # e^x overflows float64
    assert any(t.inputs["x"].max() < -745 for t in tests)  # e^x underflows to 0 everywhere
    far = [t for t in tests if t.name == "rows far apart"][0].inputs["x"]
    assert (far.max(axis=-1) - far.max() < -745).any()  # a row vanishes when the global max is subtracted
    masked = [t for t in tests if t.name == "masked entries"][0]
    assert (masked.inputs["x"] == masks.MASKED).all(axis=-1).any()  # a fully masked row: equal weights
    row = masked.expected[0][(masked.inputs["x"] == masks.MASKED).all(axis=-1)]
    np.testing.assert_allclose(row, 1.0 / masked.inputs["x"].shape[-1])
    assert {t.inputs["axis"] for t in tests} >= {-1, 0, 1, -2}
    assert all(np.isfinite(t.expected[0]).all() for t in tests)


def test_causal_hard_tests_hold_one_token_and_overflowing_scores():
    tests = exercise.stored_tests(code.generate("code_causal_attention", 7, "hard"))
    assert any(t.inputs["Q"].shape[-2] == 1 for t in tests)
    assert any(t.inputs["Q"].ndim == 4 for t in tests) and any(t.dtype == "float32" for t in tests)
    scores = [np.abs(t.inputs["Q"] @ np.swapaxes(t.inputs["K"], -1, -2)).max() / np.sqrt(t.inputs["Q"].shape[-1])
              for t in tests]
    assert max(scores) > 709
    for t in tests:  # nothing above the diagonal, each row sums to 1
        weights = t.expected[1]
        assert np.all(np.triu(weights, 1) == 0)
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0)


def test_padding_hard_tests_hold_a_full_length_and_a_length_of_zero():
    tests = exercise.stored_tests(code.generate("code_padding_attention", 7, "hard"))
    for t in tests:
        assert t.inputs["lengths"].dtype == np.int64
    empty = [(t, b) for t in tests for b, n in enumerate(t.inputs["lengths"]) if n == 0]
    assert empty
    for t, b in empty:  # the stated convention: zero weights and a zero output
        assert not t.expected[0][b].any() and not t.expected[1][b].any()
    assert any((t.inputs["lengths"] == t.inputs["K"].shape[-2]).any() for t in tests)
    for t in tests:  # no weight on padding
        k = t.inputs["K"].shape[-2]
        padded = np.arange(k)[None, None, :] >= t.inputs["lengths"][:, None, None]
        assert not np.broadcast_to(padded, t.expected[1].shape)[t.expected[1] != 0].any()


def test_cross_tests_have_other_lengths_and_widths():
    for difficulty in DIFFICULTIES:
        tests = exercise.stored_tests(code.generate("code_cross_attention", 7, difficulty))
        for t in tests:
            d_model, d_k, d_v = t.inputs["x_dec"].shape[-1], t.inputs["W_k"].shape[-1], t.inputs["W_v"].shape[-1]
            assert len({d_model, d_k, d_v}) == 3
        assert all(t.inputs["x_dec"].shape[-2] != t.inputs["x_enc"].shape[-2] for t in tests[:3])
    assert any(t.inputs["x_enc"].shape[-2] == 1 for t in tests)  # hard: a single encoder state


def test_kv_cache_hard_tests_hold_the_first_step_of_a_batch():
    tests = exercise.stored_tests(code.generate("code_kv_cache_step", 7, "hard"))
    first = [t for t in tests if t.inputs["cache_k"] is None]
    assert first and all(t.inputs["cache_v"] is None for t in first)
    assert any(t.inputs["x_t"].shape[0] > 1 for t in first)
    for t in tests:  # the caches grow by one position, the new one last
        batch = t.inputs["x_t"].shape[0]
        cached = 0 if t.inputs["cache_k"] is None else t.inputs["cache_k"].shape[1]
        output, cache_k, cache_v = t.expected
        assert output.shape == (batch, 1, t.inputs["W_v"].shape[-1])
        assert cache_k.shape[:2] == cache_v.shape[:2] == (batch, cached + 1)
        if cached:
            np.testing.assert_array_equal(cache_k[:, :cached], t.inputs["cache_k"])
        np.testing.assert_allclose(cache_k[:, -1:], t.inputs["x_t"] @ t.inputs["W_k"])


def test_a_kv_cache_solution_through_sdpa_passes(sandboxed):
    """Another correct solution: F.scaled_dot_product_attention over the grown caches."""
    variant = hard_variant("code_kv_cache_step")
    solution = (
        "import torch\nimport torch.nn.functional as F\n\n\n"
        "def decode_step(x_t, W_q, W_k, W_v, cache_k, cache_v):\n"
        "    k, v = x_t @ W_k, x_t @ W_v\n"
        "    cache_k = k if cache_k is None else torch.cat([cache_k, k], dim=-2)\n"
        "    cache_v = v if cache_v is None else torch.cat([cache_v, v], dim=-2)\n"
        "    return F.scaled_dot_product_attention(x_t @ W_q, cache_k, cache_v), cache_k, cache_v\n"
    )
    result = code.grade(variant, {"code": solution})
    assert result["score"] == 1.0, result["tests"]
