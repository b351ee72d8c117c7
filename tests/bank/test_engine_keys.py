"""Numbers in theory questions come from the engine: every ``engine:`` entry must reproduce its value.

An entry sits on the question (it computes the value of the fully right answer) or on any
single answer (it computes that answer's value, for example a misconception's).
"""

from typing import Any

import pytest

from attention_engine import counting


def engine_value(engine: dict[str, Any]) -> int:
    """``counting.<function>(**args)`` reduced to one number by ``field``."""
    result = getattr(counting, engine["function"])(**engine["args"])
    field = engine.get("field")
    if field is None:
        assert isinstance(result, int), f"{engine['function']} returns a {type(result).__name__}; name a field"
        return result
    if field == "total":
        return result.total
    key = field.removeprefix("breakdown.")
    assert key in result.breakdown, f"{engine['function']} has no breakdown key {key!r}: {sorted(result.breakdown)}"
    return result.breakdown[key]


def engine_checks(questions: list[dict]) -> list[tuple[str, dict, float]]:
    """(slug, engine entry, value it must produce) for every entry in the bank."""
    checks = []
    for q in questions:
        if q["type"] != "numeric":
            continue
        if "engine" in q:
            best = next(a for a in q["answers"] if a["weight"] == 100)
            checks.append((q["slug"], q["engine"], best["value"]))
        for answer in q["answers"]:
            if "engine" in answer:
                checks.append((q["slug"], answer["engine"], answer["value"]))
    return checks


def test_every_engine_entry_matches_the_engine(bank_questions):
    checks = engine_checks(bank_questions)
    assert len(checks) >= 15
    mismatches = [(slug, entry, value, engine_value(entry)) for slug, entry, value in checks
                  if engine_value(entry) != value]
    assert mismatches == []


def test_engine_functions_named_in_the_bank_exist(bank_questions):
    for slug, entry, _ in engine_checks(bank_questions):
        assert callable(getattr(counting, entry["function"], None)), (slug, entry["function"])


@pytest.mark.parametrize("unit", ["parameters", "bytes", "FLOPs"])
def test_counts_the_engine_can_compute_carry_an_engine_entry(bank_questions, unit):
    """Parameter counts always come from the engine; byte and FLOP counts do when it has a counter.

    The exceptions are the size of a materialised attention matrix (``heads * n^2 * bytes``) and
    Kaplan's training compute (``6 N D``), which no counting function computes, listed here so a
    new one is noticed.
    """
    without = {"cm-score-matrix-memory",
               # Training compute (6ND, PF-days): no counting function computes it.
               "tr-gpt3-training-flops", "tr-pf-day", "tr-flops-per-token-gpt2"}
    missing = [q["slug"] for q in bank_questions
               if q["type"] == "numeric" and q.get("unit") == unit and "engine" not in q
               and q["slug"] not in without]
    assert missing == []


def test_the_headline_numbers(bank_questions):
    by_slug = {q["slug"]: q for q in bank_questions}

    def key(slug: str) -> float:
        return next(a["value"] for a in by_slug[slug]["answers"] if a["weight"] == 100)

    assert key("pc-gpt2-small-total") == 124_439_808
    assert key("pc-bert-base-total") == 109_482_240
    assert key("pc-gpt3-attention-58b") == 57_982_058_496
    assert key("mha-torch-param-count") == 1_050_624


def test_multi_head_counts_against_torch_modules(bank_questions):
    """A second, independent route for the two nn.MultiheadAttention questions: count the module."""
    torch = pytest.importorskip("torch")
    by_slug = {q["slug"]: q for q in bank_questions}

    def key(slug: str) -> float:
        return next(a["value"] for a in by_slug[slug]["answers"] if a["weight"] == 100)

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    with torch.device("meta"):
        assert count(torch.nn.MultiheadAttention(512, 8)) == key("mha-torch-param-count")
        assert count(torch.nn.MultiheadAttention(512, 8, kdim=768, vdim=768)) == key("cross-attention-params-kdim")
        assert count(torch.nn.LayerNorm(768)) == key("ln-param-count")
