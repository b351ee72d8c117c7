"""Bulk generation and grading (issue #15): ``generate_batch`` and ``grade_batch`` give exactly
what ``generate`` and ``grade`` give one at a time, for every kind and difficulty."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from attention_engine import api, registry
from attention_engine.grading import check_misconceptions_distinct, format_error_probe
from attention_engine.kinds import _attention as att
from attention_engine.kinds import _attention_batch as att_batch
from attention_engine.variant import DIFFICULTIES, Variant, make_rng

ROOT = Path(__file__).resolve().parents[2]
KINDS = registry.available_names()
ATTENTION_KINDS = [k for k in KINDS if isinstance(getattr(registry.get_kind(k), "SPEC", None), att.AttentionKind)]
# Seeds where most first draws are rejected and redrawn (see test_the_seeds_include_redraws).
SEEDS = range(1000, 1200)
GRADED_SEEDS = range(1000, 1012)


def dumps(value):
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("kind", KINDS)
def test_generate_batch_is_generate_byte_for_byte(kind, difficulty):
    batch = api.generate_batch(kind, SEEDS, difficulty, device="cpu")
    assert len(batch) == len(SEEDS)
    for seed, variant in zip(SEEDS, batch, strict=True):
        assert dumps(variant) == dumps(api.generate(kind, seed, difficulty)), (kind, difficulty, seed)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_the_seeds_include_redraws(kind):
    """The byte-for-byte test covers seeds whose first draw is rejected (vetting, then mistake
    vetting), so a batch that redrew differently from ``generate`` would show."""
    spec = registry.get_kind(kind).SPEC
    for difficulty in DIFFICULTIES:
        sizes = spec.sizes[difficulty]
        redrawn = 0
        for seed in SEEDS:
            params, mask = att.draw(spec, make_rng(kind, seed, difficulty), sizes)
            redrawn += not att.vetted(att.solve(*att._inputs(spec, params), mask=mask), sizes.max_raw, mask)
        assert redrawn >= 10, (kind, difficulty, redrawn)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_mistake_table_decides_as_grading_does(kind):
    """The batch's mistake vetting (one match table) accepts and rejects exactly the draws that
    ``check_misconceptions_distinct`` (about ten gradings) accepts and rejects."""
    module = registry.get_kind(kind)
    spec = module.SPEC
    decisions = []
    for difficulty in DIFFICULTIES:
        sizes = spec.sizes[difficulty]
        rng = make_rng(kind, 7, difficulty)
        while len(decisions) < 30 * (DIFFICULTIES.index(difficulty) + 1):
            params, mask = att.draw(spec, rng, sizes)
            sol = att.solve(*att._inputs(spec, params), mask=mask)
            if not att.vetted(sol, sizes.max_raw, mask):
                continue
            variant = att.assemble(spec, 7, difficulty, params, mask, sol, att.verify_with_torch(sol, mask, spec.causal))
            wrong = module.misconception_answers(variant)
            table = att_batch.mistakes_distinct_each(
                variant.parts, {n: sol[n][None] for n in spec.parts},
                {code: {n: np.asarray(a)[None] for n, a in answer.items()} for code, answer in wrong.items()},
            )
            graded = check_misconceptions_distinct(variant, module.grade, wrong, att.stated_precision(variant))
            assert table == [graded], (kind, difficulty, params)
            decisions.append(graded)
    # Both outcomes occur in these draws, except that no cross_attention draw here is rejected.
    assert True in decisions and (False in decisions or kind == "cross_attention")


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("kind", KINDS)
def test_grade_batch_is_grade(kind, difficulty):
    module = registry.get_kind(kind)
    variants, answers = [], []
    for variant in api.generate_batch(kind, GRADED_SEEDS, difficulty):
        typed = [variant["answer"], format_error_probe(Variant.from_dict(variant))]
        # each mistake's full answer: its parts over the key's (as the generators vet them)
        typed += [{**variant["answer"], **wrong} for wrong in module.misconception_answers(Variant.from_dict(variant)).values()]
        variants += [variant] * len(typed)
        answers += typed
    expected = [api.grade(v, a) for v, a in zip(variants, answers, strict=True)]
    got = api.grade_batch(variants, answers)
    assert [dumps(g) for g in got] == [dumps(e) for e in expected]
    assert any(g["misconception"] for g in got)
    assert any(g["format_errors"] for g in got)


def test_bad_arguments():
    assert api.generate_batch("self_attention", [], "easy") == []
    with pytest.raises(ValueError, match="unknown kind"):
        api.generate_batch("nope", [1], "easy")
    with pytest.raises(ValueError, match="difficulty"):
        api.generate_batch("self_attention", [1], "extreme")
    with pytest.raises(ValueError, match="seed"):
        api.generate_batch("self_attention", [1, -1], "easy")
    with pytest.raises(ValueError, match="device"):
        api.generate_batch("self_attention", [1], "easy", device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            api.generate_batch("self_attention", [1], "easy", device="cuda")
    with pytest.raises(ValueError, match="answers"):
        api.grade_batch([api.generate("self_attention", 1, "easy")], [])


def test_chunks_join_seamlessly():
    from attention_engine.batch import iter_variants

    seeds = range(40, 47)
    chunked = [dumps(v) for v in iter_variants("padding_mask", seeds, "medium", chunk=3)]
    assert chunked == [dumps(api.generate("padding_mask", s, "medium")) for s in seeds]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attention_engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ATTN_DEVICE": "cpu"})


def test_cli_batch_writes_one_variant_per_line_in_seed_order(tmp_path):
    expected = [dumps(api.generate("causal_mask", s, "hard")) for s in range(5, 9)]
    proc = cli("batch", "causal_mask", "--difficulty", "hard", "--seeds", "5:9", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert [dumps(json.loads(line)) for line in proc.stdout.splitlines()] == expected
    path = tmp_path / "variants.jsonl"
    proc = cli("batch", "flops", "--seeds", "0:2", "--jsonl", str(path))
    assert proc.returncode == 0 and proc.stdout == ""
    lines = path.read_text().splitlines()
    assert [dumps(json.loads(line)) for line in lines] == [dumps(api.generate("flops", s, "medium")) for s in range(2)]
    assert all(list(json.loads(line)) == sorted(json.loads(line)) for line in lines)  # keys sorted
    assert cli("batch", "flops", "--seeds", "3:1").returncode == 2
    assert cli("batch", "nope", "--seeds", "0:1").returncode == 2
    if not torch.cuda.is_available():
        assert cli("batch", "flops", "--seeds", "0:1", "--device", "cuda").returncode == 2


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch.cuda.is_available() is false)")
@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_cuda_batch_is_cpu_generate(kind):
    for difficulty in DIFFICULTIES:
        on_cuda = api.generate_batch(kind, SEEDS, difficulty, device="cuda")
        assert [dumps(v) for v in on_cuda] == [dumps(api.generate(kind, s, difficulty)) for s in SEEDS]
        assert np.all([v["verification"]["agreed"] for v in on_cuda])


def test_one_call_draws_what_separate_calls_draw():
    """``generation.int_matrices`` (one generator call for several matrices, as the attention
    kinds, by_hand and layer_norm draw their inputs) hands out exactly what one ``int_matrix``
    call per matrix did, for odd and even sizes and every range used, and leaves the generator
    where they left it; otherwise every stored variant would change."""
    from attention_engine.generation import int_matrices, int_matrix

    for seed in range(200):
        for low, high, shapes in [(-2, 2, ((3, 3),)), (-1, 1, ((3, 2), (3, 2), (3, 2))), (-1, 1, ((3, 3),) * 3),
                                  (-2, 2, ((4, 3), (5, 2))), (-2, 2, ((5,), (5,))), (-1, 1, ((3, 4),) * 3)]:
            one, each = make_rng("self_attention", seed, "hard"), make_rng("self_attention", seed, "hard")
            drawn = int_matrices(one, shapes, low, high)
            expected = [int_matrix(each, shape, low, high) for shape in shapes]
            assert all(np.array_equal(d, e) and d.shape == e.shape for d, e in zip(drawn, expected, strict=True))
            assert one.integers(1 << 30, size=3).tolist() == each.integers(1 << 30, size=3).tolist()
