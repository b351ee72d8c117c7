"""Mistake vetting from the match table (issue #15): ``vetting.mistakes_distinct`` decides, for
every kind, exactly what ``check_misconceptions_distinct`` (ten to twenty gradings) decides.

``generation.draw_verified`` trusts the table wherever it is not ``None``, so these tests are
what makes that byte-for-byte safe: over many unvetted draws of every kind and difficulty, the
table's decision equals grading's, it decides (almost) every draw, and both outcomes occur,
also for the kinds whose draws are never rejected, by answers made to collide on purpose.
"""

import numpy as np
import pytest

from attention_engine import registry, vetting
from attention_engine.grading import check_misconceptions_distinct
from attention_engine.kinds import _attention as att
from attention_engine.precision import Precision, decimals, significant
from attention_engine.variant import DIFFICULTIES, Part, make_rng

KINDS = registry.available_names()
DRAWS = 100  # per kind and difficulty
# Kinds none of whose first DRAWS draws (seed 7) the vetting rejects: their rejections are
# shown by the collided answers below.
NEVER_REJECTED = {"cross_attention", "multihead_shapes", "sinusoidal_positions", "model_params"}


def draws(kind: str, difficulty: str, count: int = DRAWS):
    """The first ``count`` variants ``build`` returns for seed 7, before mistake vetting."""
    module = registry.get_kind(kind)
    spec = getattr(module, "SPEC", None)
    if spec is not None:
        build, precision = (lambda rng: att._build(spec, rng, 7, difficulty)), att.stated_precision
    else:
        build, precision = (lambda rng: module._variant(rng, 7, difficulty)) if kind == "variance_scaling" else (
            lambda rng: module._build(rng, 7, difficulty)), module.stated_precision
    rng = make_rng(kind, 7, difficulty)
    found = 0
    while found < count:
        variant = build(rng)
        if variant is not None:
            found += 1
            yield variant, module.misconception_answers(variant), precision(variant)


def collided(variant, answers):
    """``answers`` with the last mistake giving the first one's answer (over the key), and
    ``answers`` with the first mistake giving the key: grading must reject both."""
    codes = list(answers)
    first = {**variant.answer, **answers[codes[0]]}
    twin = {**answers, codes[-1]: first} if len(codes) > 1 else None
    return [a for a in (twin, {**answers, codes[0]: dict(variant.answer)}) if a is not None]


@pytest.mark.parametrize("kind", KINDS)
def test_mistake_table_decides_as_grading_does(kind):
    grade = registry.get_kind(kind).grade
    decisions, undecided = [], 0
    for difficulty in DIFFICULTIES:
        for n, (variant, answers, precision) in enumerate(draws(kind, difficulty)):
            cases = [answers, *(collided(variant, answers) if n % 10 == 0 else [])]
            for case in cases:
                table = vetting.mistakes_distinct(variant, case, precision)
                graded = check_misconceptions_distinct(variant, grade, case, precision)
                assert table in (graded, None), (kind, difficulty, variant.params, case is answers)
                assert vetting.misconceptions_distinct(variant, grade, case, precision) == graded
                undecided += table is None
                decisions.append((case is answers, graded))
    assert undecided <= len(decisions) // 100, (kind, undecided)  # the table decides nearly every draw
    drawn = [graded for real, graded in decisions if real]
    assert True in drawn
    assert (False in drawn) == (kind not in NEVER_REJECTED), kind
    assert False in [graded for real, graded in decisions if not real]


def test_stacked_table_is_the_single_one():
    """``mistakes_distinct_each`` over a stack of attention draws decides as ``mistakes_distinct``
    does on each of them."""
    spec = registry.get_kind("padding_mask").SPEC
    variants = [v for v, _, _ in draws("padding_mask", "medium", 40)]
    sols = [att.solution(spec, v) for v in variants]
    masks = np.stack([att.mask_of(spec, v.params) for v in variants])
    sol = {name: np.stack([s[name] for s in sols]) for name in sols[0]}
    wrong = {code: {n: a[n] for n in spec.parts if n in a} for code, a in att.wrong_answers(sol, masks, spec.codes).items()}
    stacked = vetting.mistakes_distinct_each(
        variants[0].parts, {n: sol[n] for n in spec.parts}, wrong, att.stated_precision(variants[0])
    )
    single = [vetting.mistakes_distinct(v, att.misconception_answers(spec, v), att.stated_precision(v)) for v in variants]
    assert stacked == single
    assert True in single and False in single


def test_what_the_table_leaves_to_grading():
    """A typed answer grading would not read as the part's shape, a non-finite cell and a part
    of weight 0 are left to grading (``None``)."""
    variant, answers, precision = next(draws("layer_norm", "medium", 1))
    assert vetting.mistakes_distinct(variant, answers, precision) is not None
    code, name = next(iter(answers)), variant.parts[0].name
    assert vetting.mistakes_distinct(variant, {**answers, code: {name: [1.0]}}, precision) is None
    assert vetting.mistakes_distinct(variant, {**answers, code: {name: np.full(variant.parts[0].shape, np.nan)}},
                                     precision) is None
    weightless = tuple(Part(p.name, p.label, p.shape, p.step, p.tolerance, 0.0) for p in variant.parts)
    from dataclasses import replace

    assert vetting.mistakes_distinct(replace(variant, parts=weightless), answers, precision) is None


def test_rounding_cells_is_rounding_each():
    """``_round_cells`` is ``Precision.round``, also at halves, powers of ten, zero and for
    large and tiny numbers, for decimal places and significant digits."""
    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.normal(0, 3, 2000), rng.lognormal(0, 8, 2000) * rng.choice([-1, 1], 2000),
        np.arange(-2000, 2000) / 1000 + 0.0005, np.arange(-200, 200) / 100 + 0.005,
        [0.0, -0.0, 1.0, 10.0, 100.0, 0.001, 1e-7, 999.95, 0.09995, 1e13 + 0.5, 2.0**45, 123456.5, 1e30],
    ])
    for precision in (decimals(3), decimals(1), significant(3), significant(4), Precision(significant=3, decimals=2)):
        assert np.array_equal(vetting._round_cells(values, precision), precision.round(values)), precision
