"""Contract checks for every registered kind (including the counting kinds), and the verifier."""

import json
import math

import pytest

from attention_engine import api, registry
from attention_engine.verify import check_variant, run_verification

KINDS = registry.registered_names()


def _numbers(value):
    if isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    else:
        yield value


@pytest.mark.parametrize("kind", KINDS)
def test_variant_contract(kind):
    v = api.generate(kind, 0, "easy")
    assert v["kind"] == kind and v["seed"] == 0 and v["difficulty"] == "easy"
    names = [p["name"] for p in v["parts"]]
    assert len(names) == len(set(names)) and set(names) == set(v["answer"])
    for p in v["parts"]:
        assert set(p) == {"name", "label", "shape", "step", "tolerance", "weight"}
        assert p["weight"] > 0
        assert isinstance(p["step"], int) and p["step"] >= 1
        assert len(p["shape"]) <= 2 and set(p["tolerance"]) == {"rel", "abs"}
    for value in v["answer"].values():
        for n in _numbers(value):
            if isinstance(n, str):
                assert "/" in n or n.lstrip("-").isdigit()  # exact fractions only
            else:
                assert math.isfinite(n)
    assert v["steps"] and all(set(s) == {"title", "text", "values"} for s in v["steps"])
    assert v["verification"]["agreed"] is True and len(v["verification"]["routes"]) >= 2
    json.dumps(v, allow_nan=False)


@pytest.mark.parametrize("kind", KINDS)
def test_determinism_and_variety(kind):
    first = [json.dumps(api.generate(kind, s, "medium"), sort_keys=True) for s in range(3)]
    again = [json.dumps(api.generate(kind, s, "medium"), sort_keys=True) for s in range(3)]
    assert first == again
    assert len(set(first)) == 3  # different seeds, different variants


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_passes_the_verifier(kind):
    module = registry.get_kind(kind)
    for difficulty in ("easy", "medium", "hard"):
        for seed in (0, 1):
            assert check_variant(module, seed, difficulty) == []


def test_routes_disagreeing_means_no_variant(monkeypatch, capsys):
    # If the second route disagreed (a bug in either), generate must refuse and the sweep fail.
    from attention_engine import torch_ops
    from attention_engine.variant import VerificationError

    real = torch_ops.scaled_dot_product_attention

    def off_by_a_little(*args, **kwargs):
        out, weights = real(*args, **kwargs)
        return out + 1e-6, weights

    monkeypatch.setattr(torch_ops, "scaled_dot_product_attention", off_by_a_little)
    with pytest.raises(VerificationError):
        api.generate("self_attention", 0)
    report = run_verification(["self_attention"], 1, ["easy"])
    assert report["ok"] is False
    assert report["rows"][0]["failures"][0]["check"] == "generate"
    # ... and the CLI exits 1 with the failure in its table.
    from attention_engine.__main__ import main

    assert main(["verify", "--seeds", "1", "--kind", "self_attention", "--difficulty", "easy", "--jobs", "1"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_verifier_catches_an_unnamed_misconception(monkeypatch):
    from attention_engine.kinds import layer_norm

    real = layer_norm.misconception_answers

    def extra(variant):
        answers = dict(real(variant))
        answers["forgot_affine"] = dict(variant.answer)  # "mistake" identical to the key
        return answers

    monkeypatch.setattr(layer_norm, "misconception_answers", extra)
    failures = check_variant(layer_norm, 0, "easy")
    assert ("misconception" in {check for check, _ in failures})
