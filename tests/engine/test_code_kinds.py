"""Code kinds (issue #14): verified, vetted tests drawn from the seed; the model solution passes
them all; each catalogued mistake, written as code a learner would write, is caught and named."""

import json

import numpy as np
import pytest

from attention_engine import code
from attention_engine.code import attention as att
from attention_engine.code import exercise
from attention_engine.variant import DIFFICULTIES

SEEDS = (0, 1, 2)



def dumps(value):
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("kind", list(code.CODE_KINDS))
def test_a_seed_gives_the_same_variant_and_seeds_differ(kind):
    for difficulty in DIFFICULTIES:
        first = [dumps(code.generate(kind, seed, difficulty)) for seed in SEEDS]
        assert first == [dumps(code.generate(kind, seed, difficulty)) for seed in SEEDS]
        assert len(set(first)) == len(SEEDS)


@pytest.mark.parametrize("kind", list(code.CODE_KINDS))
def test_every_test_is_verified_by_two_routes_and_tells_every_mistake_apart(kind):
    spec = code.get_code_kind(kind)
    for difficulty in DIFFICULTIES:
        for seed in range(20):
            variant = code.generate(kind, seed, difficulty)
            tests = exercise.stored_tests(variant)
            assert variant["verification"]["agreed"] and variant["verification"]["tests"] == len(tests)
            for test in tests:  # the stored key is the reference's, and the second route agrees with it
                for stored, second in zip(test.expected, spec.second_route(test), strict=True):
                    np.testing.assert_allclose(stored, second, rtol=1e-9, atol=1e-9)
            assert exercise.distinct(spec.procedures(difficulty), tests, spec)


def test_the_learner_sees_examples_but_neither_hidden_tests_nor_solution():
    from attention_engine import api

    variant = code.generate("code_attention_numpy", 5, "hard")
    public = api.public(variant)
    assert "answer" not in public and "verification" not in public
    assert len(public["examples"]) == 2 and all("expected" in e for e in public["examples"])
    assert [t["name"] for t in public["hidden_tests"]] == [t["name"] for t in variant["answer"]["tests"][2:]]
    assert all(set(t) == {"name", "description"} for t in public["hidden_tests"])  # no inputs, no results


def test_the_hard_tests_include_what_the_issue_asks():
    variant = code.generate("code_attention_torch", 9, "hard")
    tests = exercise.stored_tests(variant)
    assert any(t.dtype == "float32" for t in tests) and any(t.dtype == "float64" for t in tests)
    assert any(t.inputs["Q"].ndim == 4 for t in tests)  # two batch dimensions
    assert any(t.inputs["Q"].shape[-2] != t.inputs["K"].shape[-2] for t in tests)  # non-square
    masks = [np.broadcast_to(t.inputs["mask"], t.expected[1].shape) for t in tests if "mask" in t.inputs]
    assert any((~m).all(axis=-1).any() for m in masks)  # a query with no key
    scores = [np.abs(t.inputs["Q"] @ np.swapaxes(t.inputs["K"], -1, -2)).max() for t in tests]
    assert max(scores) / np.sqrt(tests[0].inputs["Q"].shape[-1]) > 709  # exp overflows float64


# Mistakes a learner makes, as edits of the model solutions: (misconception, numpy edit, torch edit).
MISTAKES = [
    ("no_scaling", ("/ np.sqrt(Q.shape[-1])", ""), ("/ math.sqrt(Q.shape[-1])", "")),
    ("scaled_by_d_k", ("/ np.sqrt(Q.shape[-1])", "/ Q.shape[-1]"), ("/ math.sqrt(Q.shape[-1])", "/ Q.shape[-1]")),
    ("softmax_over_queries", None, ("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)")),
    ("k_q_transposed", ("scores = Q @ np.swapaxes(K, -1, -2)", "scores = K @ np.swapaxes(Q, -1, -2)"),
     ("scores = Q @ K.transpose(-2, -1)", "scores = K @ Q.transpose(-2, -1)")),
    ("mask_inverted", None, ("masked_fill(~mask,", "masked_fill(mask,")),
    ("mask_ignored", ("mask = np.broadcast_to(mask, scores.shape)", "mask = np.ones(scores.shape, dtype=bool)"),
     ('        scores = scores.masked_fill(~mask, float("-inf"))\n', "        pass\n")),
    ("nan_for_empty_rows", None, ("    weights = torch.nan_to_num(weights, nan=0.0)  # a row with nothing allowed: 0/0\n", "")),
    ("softmax_overflows", ("top = np.where(np.isfinite(top), top, 0.0)", "top = np.zeros_like(top)"),
     ("weights = torch.softmax(scores, dim=-1)  # subtracts each row's maximum",
      "weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)")),
]


def as_jsonb(value):
    """``value`` with every object's keys in PostgreSQL jsonb's order (shorter keys first, then
    by bytes), as a variant reads back from the database: "K" before "Q", "mask" after "V"."""
    if isinstance(value, dict):
        return {k: as_jsonb(value[k]) for k in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [as_jsonb(v) for v in value]
    return value


@pytest.mark.parametrize("kind", list(code.CODE_KINDS))
def test_the_model_solution_passes_every_test(kind, sandboxed):
    """Also as the variant reads back from PostgreSQL: the arguments are passed in the
    signature's order, not in the stored inputs' key order."""
    for difficulty in DIFFICULTIES:
        variant = as_jsonb(code.generate(kind, 11, difficulty))
        result = code.grade(variant, {"code": variant["answer"]["code"]})
        assert result["score"] == 1.0, result
        assert all(t["passed"] for t in result["tests"]) and len(result["tests"]) == len(variant["answer"]["tests"])
        assert result["misconception"] is None


@pytest.mark.parametrize(("misconception", "numpy_edit", "torch_edit"), MISTAKES)
def test_each_mistake_is_caught_and_named(misconception, numpy_edit, torch_edit, sandboxed):
    for framework, solution, edit in (("numpy", att.NUMPY_SOLUTION, numpy_edit), ("torch", att.TORCH_SOLUTION, torch_edit)):
        if edit is None:
            continue
        assert edit[0] in solution
        variant = code.generate(f"code_attention_{framework}", 4, "hard")
        result = code.grade(variant, {"code": solution.replace(*edit)})
        assert result["score"] < 1, (framework, misconception)
        assert result["misconception"] == misconception, (framework, result["feedback"])
        assert result["misconception_message"] in result["feedback"]


def test_run_examples_runs_only_the_visible_tests(sandboxed):
    variant = code.generate("code_attention_numpy", 2, "medium")
    result = code.grade(variant, {"code": att.NUMPY_SOLUTION}, examples_only=True)
    assert [t["name"] for t in result["tests"]] == [e["name"] for e in variant["examples"]]
    assert not any(t["hidden"] for t in result["tests"]) and result["feedback"].startswith("2 of 2 examples")


def test_wrong_shapes_types_dtypes_and_nans_are_named_per_test(sandboxed):
    variant = code.generate("code_attention_torch", 6, "medium")
    cases = {
        "returns one value": ("return weights @ V, weights", "return weights @ V", "returned 1 value(s), expected 2"),
        "weights transposed": ("return weights @ V, weights", "return weights @ V, weights.transpose(-2, -1)",
                               "weights has shape"),
        "a list": ("return weights @ V, weights", "return (weights @ V).tolist(), weights",
                   "returned value 1 is list"),
        "float64 always": ("return weights @ V, weights", "return (weights @ V).double(), weights.double()",
                           "float64 for float32 inputs"),
        "a NaN": ("return weights @ V, weights", "return weights @ V, weights * float('nan')", "NaN or inf"),
    }
    for label, (old, new, message) in cases.items():
        result = code.grade(variant, {"code": att.TORCH_SOLUTION.replace(old, new)})
        assert result["score"] < 1, label
        assert any(message in t["message"] for t in result["tests"]), (label, [t["message"] for t in result["tests"]])


def test_bad_code_gets_a_clear_message_and_no_score(sandboxed):
    variant = code.generate("code_attention_numpy", 1, "easy")
    assert code.grade(variant, {"code": "  "})["format_errors"]
    assert code.grade(variant, {})["format_errors"]
    assert "longer than" in code.grade(variant, {"code": "#" * 30_000})["feedback"]
    broken = code.grade(variant, {"code": "def attention(Q, K, V, mask=None)\n    return Q\n"})
    assert broken["score"] == 0 and broken["error"]["status"] == "syntax_error" and "(line 1)" in broken["feedback"]
    missing = code.grade(variant, {"code": "def attend(Q, K, V):\n    return Q\n"})
    assert "defines no 'attention'" in missing["feedback"]


def test_the_cli_lists_generates_and_grades_in_the_sandbox(tmp_path, sandboxed):
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "attention_engine", *args], capture_output=True, text=True,
                              timeout=120)

    listed = json.loads(cli("code-kinds", "--json").stdout)
    assert [k["name"] for k in listed] == list(code.CODE_KINDS) and {k["answer_type"] for k in listed} == {"code"}
    generated = json.loads(cli("code-generate", "code_attention_numpy", "--seed", "2", "--json").stdout)
    assert generated == code.generate("code_attention_numpy", 2, "medium")
    solution = tmp_path / "solution.py"
    solution.write_text(att.NUMPY_SOLUTION.replace("/ np.sqrt(Q.shape[-1])", ""))
    graded = cli("code-grade", "code_attention_numpy", "--seed", "2", str(solution))
    assert graded.returncode == 0 and "FAIL" in graded.stdout and "not divided by" in graded.stdout
    examples = json.loads(cli("code-grade", "code_attention_numpy", "--seed", "2", str(solution), "--examples",
                              "--json").stdout)
    assert len(examples["tests"]) == 2 and examples["misconception"] == "no_scaling"


def test_code_is_not_run_on_a_device_the_sandbox_cannot_hold():
    """CODE_DEVICE=cuda is refused before any sandbox starts: never run with weaker limits."""
    from attention_engine.code.sandbox import SandboxUnavailable

    variant = code.generate("code_attention_torch", 3, "easy")
    with pytest.raises(SandboxUnavailable, match="CPU only"):
        code.grade(variant, {"code": variant["answer"]["code"]}, device="cuda")
