"""Grading in bulk (issue #15): ``grade_batch`` gives what ``grade`` gives answer by answer, byte
for byte, for every kind of answer a learner or the API sends to the attention kinds, whichever
path (arrays, or one by one with precomputed mistakes) grades it."""

import json

import numpy as np
import pytest

from attention_engine import api, grade_batch, registry
from attention_engine.grading import format_error_probe
from attention_engine.kinds import _attention as att
from attention_engine.variant import DIFFICULTIES, Variant

ATTENTION_KINDS = [k for k in registry.available_names()
                   if isinstance(getattr(registry.get_kind(k), "SPEC", None), att.AttentionKind)]
SEEDS = range(2000, 2050)


def dumps(value):
    return json.dumps(value, sort_keys=True)


def as_lists(answer):
    return {name: np.asarray(value, dtype=np.float64).tolist() for name, value in answer.items()}


def rounded(answer, decimals=3):
    return {name: np.round(np.asarray(value, dtype=np.float64), decimals).tolist() for name, value in answer.items()}


def consistent_from(variant, spec, learner):
    """The learner's earlier parts, and every later part worked out from them (so only the
    error carried forward can give the later parts credit)."""
    sol = att.solution(spec, variant)
    mask = att.mask_of(spec, variant.params)
    learner = {name: np.asarray(value, dtype=np.float64) for name, value in learner.items()}
    for part in sorted(variant.parts, key=lambda p: p.step):
        if part.name not in learner:
            learner[part.name] = att.carry_forward(variant, learner, mask, sol).get(part.name, variant.key(part.name))
    return as_lists(learner)


def as_text(matrix, cell=repr):
    return "; ".join(", ".join(cell(x) for x in row) for row in matrix)


def typed_answers(data, rng):
    """Every sort of answer to one variant (see the module docstring)."""
    variant = Variant.from_dict(data)
    module = registry.get_kind(variant.kind)
    key = as_lists(data["answer"])
    parts = [p.name for p in variant.parts]
    first, last = parts[0], parts[-1]
    mistakes = [as_lists({**key, **wrong}) for wrong in module.misconception_answers(variant).values()]
    slipped = np.array(key[first])
    slipped[0, 0] += 0.75
    slip = consistent_from(variant, module.SPEC, {first: slipped})
    answers = [key, rounded(key), slip, rounded(slip)]
    for mistake in mistakes:
        answers += [mistake, rounded(mistake)]
    mistake = mistakes[int(rng.integers(len(mistakes)))]
    answers.append({**mistake, last: (np.array(mistake[last]) + 0.5).tolist()})  # a mistake, and a slip on top
    late = np.array(mistake[parts[-2]])
    late[-1, -1] += 0.3
    # a mistake up to one part, a slip there, the rest worked out from it
    answers.append(consistent_from(variant, module.SPEC, {**{n: mistake[n] for n in parts[:-2]}, parts[-2]: late}))
    answers.append({n: rng.normal(scale=2.0, size=np.shape(v)).tolist() for n, v in key.items()})  # random numbers
    answers.append({n: rng.integers(-3, 4, size=np.shape(v)).tolist() for n, v in key.items()})  # random ints
    answers.append({**key, last: [[2**60 + 1] * len(row) for row in key[last]]})  # ints beyond 2**53
    answers.append({**key, last: [[10**400] * len(row) for row in key[last]]})  # an int beyond any float
    answers.append({**key, first: ""})  # a blank part
    answers.append({n: v for n, v in key.items() if n != last})  # a missing part
    answers.append({**key, last: None})
    answers.append(format_error_probe(variant))  # text where a number goes
    answers.append({**key, first: "abc"})
    answers.append({n: as_text(v) for n, v in key.items()})  # typed as text
    answers.append({**key, first: as_text(rounded(key)[first], cell=lambda x: f"{round(x * 3)}/3")})  # "1/3" style
    answers.append({**key, last: [[str(x) for x in row] for row in key[last]]})  # numbers as strings in lists
    answers.append({**key, last: [[True] + row[1:] for row in key[last]]})  # a true/false value
    answers.append({**key, last: [[float("nan")] + row[1:] for row in key[last]]})
    answers.append({**key, first: [row[:-1] + [float("inf")] for row in key[first]]})
    answers.append({**key, last: key[last][:-1]})  # a row short
    answers.append({**key, last: np.array(key[last]).T.tolist()})  # transposed (another shape when not square)
    answers.append({**key, last: [tuple(row) for row in key[last]]})  # tuples read as lists
    answers.append({**key, "notes": "ignored"})
    answers.append(list(key.values()))  # not a mapping
    answers.append(None)
    return answers


@pytest.fixture(scope="module")
def batch():
    """Variants of every attention kind and difficulty, each with every sort of answer, then
    shuffled together; a third of the answers come with a copy of their variant dict (equal,
    not the same object), the rest share it."""
    rng = np.random.default_rng(15)
    variants, answers = [], []
    for kind in ATTENTION_KINDS:
        for difficulty in DIFFICULTIES:
            for data in api.generate_batch(kind, SEEDS, difficulty):
                for answer in typed_answers(data, rng):
                    variants.append(json.loads(json.dumps(data)) if rng.random() < 0.3 else data)
                    answers.append(answer)
    order = rng.permutation(len(answers))
    return [variants[i] for i in order], [answers[i] for i in order]


@pytest.fixture(scope="module")
def expected(batch):
    variants, answers = batch
    return [dumps(api.grade(v, a)) for v, a in zip(variants, answers, strict=True)]


@pytest.fixture(scope="module")
def graded_as_arrays(batch):
    """``grade_batch`` over the whole batch, and the results of the answers graded as arrays."""
    arrays = []
    original = grade_batch._grade_arrays

    def spy(*args):
        results = original(*args)
        arrays.extend(r for r in results if r is not None)
        return results

    grade_batch._grade_arrays = spy
    try:
        got = api.grade_batch(*batch)
    finally:
        grade_batch._grade_arrays = original
    return got, arrays


def test_grade_batch_is_grade_byte_for_byte(batch, expected, graded_as_arrays):
    got, _ = graded_as_arrays
    assert len(got) == len(expected)
    assert [dumps(g) for g in got] == expected


def test_every_outcome_occurs(graded_as_arrays):
    got, arrays = graded_as_arrays
    assert len(arrays) > len(got) / 3  # most plain-number answers are graded as arrays
    for results in (got, arrays):
        messages = [r["message"] for g in results for r in g["parts"].values()]
        assert any(r["carried_forward"] for g in results for r in g["parts"].values())
        assert any("no error-carried-forward credit" in m for m in messages)  # taken back for a named mistake
        assert any(g["misconception"] for g in results)
        assert any(g["score"] == 1.0 for g in results)
        assert any(0 < g["score"] < 1 and not g["misconception"] for g in results)
    assert any(g["format_errors"] for g in got)
    assert not any(g["format_errors"] for g in arrays)


def test_small_chunks_give_the_same(batch, expected, monkeypatch):
    monkeypatch.setattr(grade_batch, "CHUNK", 97)
    variants, answers = batch
    got = api.grade_batch(variants[:3000], answers[:3000])
    assert [dumps(g) for g in got] == expected[:3000]


def test_results_share_no_lists():
    """Answers graded alike get equal results, never the same lists (a caller may edit one)."""
    data = api.generate("self_attention", 3, "easy")
    first, second = api.grade_batch([data, data], [data["answer"], data["answer"]])
    assert first == second
    assert first["parts"]["scores"]["cells"] is not second["parts"]["scores"]["cells"]
    assert first["parts"]["scores"]["expected_shape"] is not second["parts"]["scores"]["expected_shape"]
    assert first["format_errors"] is not second["format_errors"]


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_stacks_give_the_bits_of_one_variant(kind):
    """Why the arrays agree with grading one by one: the stacked solution, mistakes and carried
    forward values are the same doubles as one variant's."""
    module = registry.get_kind(kind)
    spec = module.SPEC
    rng = np.random.default_rng(1)
    for difficulty in DIFFICULTIES:
        variants = [Variant.from_dict(v) for v in api.generate_batch(kind, range(40), difficulty)]
        group = grade_batch._Group(spec, variants[0].parts, variants, [att.mask_of(spec, v.params) for v in variants],
                                   [att._inputs(spec, v.params) for v in variants])
        group.solve()
        learner = {p.name: np.stack([v.key(p.name) for v in variants]) + rng.normal(size=(len(variants), *p.shape))
                   for p in variants[0].parts}
        carried = att.carried_parts({p.name for p in variants[0].parts}, learner, group.mask, group.sol)
        for b, variant in enumerate(variants):
            for code, answer in module.misconception_answers(variant).items():
                for name, value in answer.items():
                    assert np.array_equal(group.mistakes[code][name][b], value), (kind, code, name)
            mask = att.mask_of(spec, variant.params)
            one = att.carry_forward(variant, {n: v[b] for n, v in learner.items()}, mask, att.solution(spec, variant))
            assert one.keys() == carried.keys()
            for name, value in one.items():
                assert np.array_equal(carried[name][b], value), (kind, name)


def test_other_kinds_and_failures_as_one_by_one():
    data = [api.generate(kind, 4, "easy") for kind in ("flops", "self_attention", "layer_norm")]
    answers = [d["answer"] for d in data] + [format_error_probe(Variant.from_dict(d)) for d in data]
    variants = data + data
    assert [dumps(g) for g in api.grade_batch(variants, answers)] == [dumps(api.grade(v, a)) for v, a in
                                                                     zip(variants, answers, strict=True)]
    with pytest.raises(ValueError, match="not a full variant"):
        api.grade_batch([data[1], {"kind": "self_attention"}], [data[1]["answer"]] * 2)
    with pytest.raises(ValueError, match="unknown kind"):
        api.grade_batch([data[1], {"kind": "nope"}], [data[1]["answer"]] * 2)
    broken = {**data[1], "params": {}}  # no inputs: the kind's grade raises what it raises
    with pytest.raises(KeyError):
        api.grade(broken, data[1]["answer"])
    with pytest.raises(KeyError):
        api.grade_batch([data[1], broken], [data[1]["answer"]] * 2)
