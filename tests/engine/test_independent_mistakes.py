"""Sweep (b) for the eight kinds that used to rely on their own catalogue.

``verify.INDEPENDENT`` recomputes each kind's catalogued mistakes on a route of its own (torch
built-ins, modules on the ``meta`` device, plain integer or ``Fraction`` arithmetic). Here each
recomputed answer must equal the kind's own ``misconception_answers`` for the same code, within
the part's tolerance, on every part (the parts a mistake leaves alone are the key's), and must
grade below 1 with that code named: the two routes check each other.
"""

import pytest

from attention_engine import registry, verify
from attention_engine.grading import matches
from attention_engine.variant import as_array

KINDS = (
    "by_hand", "model_params", "flops", "kv_cache", "layer_norm", "sinusoidal_positions",
    "variance_scaling", "multihead_shapes",
)  # fmt: skip
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = 25


def test_every_kind_has_an_independent_route():
    assert set(KINDS) <= set(verify.INDEPENDENT)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("kind", KINDS)
def test_independent_mistakes_agree_with_the_catalogue(kind, difficulty):
    module = registry.get_kind(kind)
    problems = []
    for seed in range(SEEDS):
        variant = module.generate(seed, difficulty)
        key = dict(variant.answer)
        catalogue = module.misconception_answers(variant)
        ours = verify.INDEPENDENT[kind](variant)
        if set(ours) != set(catalogue):
            problems.append(f"seed {seed}: recomputed {sorted(ours)}, catalogued {sorted(catalogue)}")
        for code in set(ours) & set(catalogue):
            mine, theirs = {**key, **ours[code]}, {**key, **catalogue[code]}
            for part in variant.parts:
                if not matches(theirs[part.name], as_array(mine[part.name]), part.tolerance):
                    problems.append(f"seed {seed} {code} {part.name}: recomputed {as_array(mine[part.name])}, "
                                    f"catalogued {as_array(theirs[part.name])}")
            result = module.grade(variant, mine)
            if result.score >= 1.0 or result.misconception != code:
                problems.append(f"seed {seed} {code}: grades {result.score}, named {result.misconception!r}")
    assert not problems, "\n".join(problems[:20])


def test_the_sweep_catches_a_planted_catalogue_fault(monkeypatch):
    from attention_engine.kinds import kv_cache, layer_norm
    from attention_engine.verify import check_review

    variant = layer_norm.generate(0, "medium")
    assert not [f for f in check_review(layer_norm, variant) if f[0] == "independent"]
    # A catalogue whose unbiased variance is wrong: the independent route still gives the
    # d - 1 answer, and the sweep reports that the two differ.
    real = layer_norm.misconception_answers

    def planted(v):
        answers = real(v)
        key = layer_norm.solve(*layer_norm._params(v))
        return {**answers, "unbiased_variance": {"variance": key["variance"] * 1.5, "output": key["output"] + 1}}

    monkeypatch.setattr(layer_norm, "misconception_answers", planted)
    failures = [m for check, m in check_review(layer_norm, variant) if check == "independent"]
    assert "unbiased_variance (recomputed) differs from the catalogue on variance, output" in failures, failures
    monkeypatch.undo()

    # A catalogue that forgets a factor (K only, no V) is caught the same way on a counting kind.
    v = kv_cache.generate(3, "hard")
    assert not [f for f in check_review(kv_cache, v) if f[0] == "independent"]
    real_kv = kv_cache.misconception_answers
    monkeypatch.setattr(kv_cache, "misconception_answers",
                        lambda v: {**real_kv(v), "forgot_k_or_v": {"bytes": v.answer["bytes"] // 4}})
    failures = [m for check, m in check_review(kv_cache, v) if check == "independent"]
    assert any(m.startswith("forgot_k_or_v (recomputed) differs from the catalogue on bytes") for m in failures), failures
    monkeypatch.undo()

    # And a catalogued mistake with no independent route is reported as such.
    monkeypatch.setattr(verify, "INDEPENDENT", {**verify.INDEPENDENT, "kv_cache": lambda v: {}})
    assert ("independent", "forgot_k_or_v is catalogued but not recomputed independently") in check_review(kv_cache, v)


def test_by_hand_rounded_weights_round_halves_up_as_people_do():
    """A weight of exactly 1/4 rounds to 0.3 by hand; the catalogue rounded halves to even (0.2),
    so a learner who rounded as taught got no named mistake in 45 of 600 variants."""
    from fractions import Fraction

    from attention_engine.api import grade as grade_variant
    from attention_engine.kinds import by_hand

    found = 0
    for seed in range(200):
        variant = by_hand.generate(seed, "medium")
        weights = [[Fraction(w) for w in row] for row in variant.answer["weights"]]
        if not any((w * 20).denominator == 1 and (w * 20).numerator % 2 == 1 for row in weights for w in row):
            continue  # no weight exactly half-way between two tenths
        found += 1
        mistake = by_hand.misconception_answers(variant)["weights_rounded"]
        by_hand_rounding = [[float((w * 20 + 1) // 2) / 10 for w in row] for row in weights]
        assert [[float(x) for x in row] for row in mistake["weights"]] == by_hand_rounding
        result = grade_variant(variant.to_dict(), {**variant.to_dict()["answer"], **{
            k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in mistake.items()}})
        assert result["misconception"] == "weights_rounded"
        if found >= 5:
            break
    assert found == 5, "fewer than 5 variants with a half-way weight in 200 seeds"
