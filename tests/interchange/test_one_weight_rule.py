"""The bank's validator and the GIFT importer accept the same multiple-response weights: one
rule (`schema.positive_weights_sum_to_100`, Moodle's rounding), where there were two that
disagreed at the edges."""

import pytest

from questions.catalogue.interchange import ImportFormatError, gift
from questions.catalogue.schema import validate_question


def _question(weights: list[float]) -> dict:
    return {
        "slug": "mr", "type": "multiple_response", "difficulty": "easy", "title": "T", "prompt": "P?",
        "explanation": "E.", "source": "S.",
        "choices": [{"text": f"c{i}", "weight": w, "feedback": "f"} for i, w in enumerate(weights)],
    }


def _gift(weights: list[float]) -> str:
    return "::mr:: P? {" + " ".join(f"~%{w:g}%c{i}#f" for i, w in enumerate(weights)) + "}\n"


@pytest.mark.parametrize(
    "weights",
    [[33.33333, 33.33333, 33.33333, -100], [50, 50, -100], [90, 10, -100], [12.5, 12.5, 75, -100],
     [50, 33.33333, 16.66667, -100], [60, 40, 5, -100], [70, 25, -100]],
)
def test_the_validator_and_the_importer_agree(weights):
    bank_accepts = not [e for e in validate_question(_question(weights)) if "sum to 100" in e.message]
    try:
        gift.parse(_gift(weights))
        gift_accepts = True
    except ImportFormatError:
        gift_accepts = False
    assert bank_accepts == gift_accepts
    assert bank_accepts == (round(sum(w for w in weights if w > 0) / 100, 2) == 1)
