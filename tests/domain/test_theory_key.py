"""One key per theory question: `theory_key` (what reviews, previews and mock reviews show) is
the answer that grading gives full marks, for every question of the bank."""

from pathlib import Path

import pytest

from questions.catalogue.schema import load_valid_bank
from questions.catalogue.theory import grade_theory, theory_key

BANK = Path(__file__).resolve().parents[2] / "questions" / "bank"
QUESTIONS = [q for doc in load_valid_bank(BANK) for q in doc.questions if q["type"] != "essay"]


def _response_from_key(question: dict, key: dict):
    kind = question["type"]
    if kind == "single_choice":
        return key["correct_choices"][0]
    if kind == "multiple_response":
        return key["correct_choices"]
    if kind == "true_false":
        return key["answer"]
    if kind == "numeric":
        return str(key["answers"][0])
    if kind == "short_answer":
        return key["answers"][0].replace("*", "x")
    if kind == "matching":
        return key["pairs"]
    return key["order"]


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["slug"] for q in QUESTIONS])
def test_the_key_shown_is_the_answer_grading_gives_full_marks(question):
    key = theory_key(question)
    result = grade_theory(question, _response_from_key(question, key))
    assert result["score"] == pytest.approx(1.0) and result["correct"], result
    assert key["explanation"] and key["source"]


def test_a_single_choice_key_is_the_full_credit_choice_not_a_partial_one():
    question = {
        "type": "single_choice", "explanation": "e", "source": "s",
        "choices": [{"text": "half", "weight": 50}, {"text": "right", "weight": 100}, {"text": "no", "weight": 0}],
    }
    assert theory_key(question)["correct_choices"] == [1]
    assert "“right”" in grade_theory(question, 0)["reveals"]
