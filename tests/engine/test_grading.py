"""The generic grader on a hand-made variant (no kind involved)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_engine.grading import (
    cells_match,
    detect_misconception,
    format_error_probe,
    grade_response,
)
from attention_engine.variant import (
    Part,
    Tolerance,
    Variant,
    Verification,
    quantised_diff,
    to_jsonable,
)

TOL = Tolerance(rel=0.0, abs=0.01)


def make_variant():
    # a scalar "x" (step 1), a vector "twice" = 2x per entry (step 2), a matrix "m" (step 3)
    return Variant(
        kind="toy",
        seed=0,
        difficulty="easy",
        params={},
        prompt="",
        parts=(
            Part("x", "x", (), 1, TOL),
            Part("twice", "twice", (2,), 2, TOL),
            Part("m", "m", (2, 2), 3, TOL),
        ),
        answer={"x": 1.5, "twice": [3.0, 3.0], "m": [[1.0, 2.0], [3.0, 4.0]]},
        steps=(),
        verification=Verification(("a", "b"), 1e-12),
    )


def carry(variant, learner):
    return {"twice": np.array([2 * learner["x"], 2 * learner["x"]])}


MESSAGES = {"halved": "You halved instead of doubling.", "also_halved": "Same numbers, later in the catalogue."}


def grade(response, answers=None):
    answers = answers if answers is not None else {"halved": {"x": 1.5, "twice": [0.75, 0.75]}}
    return grade_response(make_variant(), response, misconceptions=MESSAGES, misconception_answers=answers,
                          carry_forward=carry)


KEY = {"x": 1.5, "twice": [3, 3], "m": [[1, 2], [3, 4]]}


def test_tolerance_rule():
    # |g - k| <= abs + rel |k|: with abs 0.01, rel 0.1 and k = 10 the band is 1.01
    tol = Tolerance(rel=0.1, abs=0.01)
    assert cells_match(np.array(10.0), np.array(11.0), tol)
    assert not cells_match(np.array(10.0), np.array(11.02), tol)
    assert cells_match(np.array([0.0]), np.array([0.009]), tol).tolist() == [True]


def test_key_scores_one_and_text_is_accepted():
    assert grade(KEY).score == 1.0
    assert grade({"x": "3/2", "twice": "3 3", "m": "1 2; 3 4"}).score == 1.0


def test_partial_credit_is_the_mean_of_part_fractions():
    result = grade({**KEY, "m": [[1, 2], [3, 5]]})
    assert result.parts["m"].cells == [[True, True], [True, False]]
    assert result.parts["m"].score == 0.75
    assert result.score == pytest.approx((1 + 1 + 0.75) / 3)
    assert result.misconception is None


def test_error_carried_forward_and_feedback():
    result = grade({**KEY, "x": 2, "twice": [4, 4]})
    assert result.parts["x"].score == 0.0
    assert result.parts["twice"].score == 1.0 and "carried forward" in result.parts["twice"].message
    assert result.parts["twice"].carried_forward and not result.parts["x"].carried_forward
    assert "carried forward" in result.feedback
    # Right against the key beats right against the slip: no ECF message then.
    result = grade({**KEY, "x": 2})
    assert result.parts["twice"].score == 1.0 and "carried" not in result.parts["twice"].message
    assert not result.parts["twice"].carried_forward


def test_misconception_first_match_in_catalogue_order():
    answers = {"halved": {"twice": [0.75, 0.75]}, "also_halved": {"twice": [0.75, 0.75]}}
    result = grade({**KEY, "twice": [0.75, 0.75]}, answers)
    assert result.misconception == "halved" and result.misconception_message == MESSAGES["halved"]
    # A wrong part not covered by the misconception's answer: no name.
    result = grade({**KEY, "twice": [0.75, 0.75], "m": [[0, 0], [0, 0]]}, answers)
    assert result.misconception is None


def test_detect_needs_a_wrong_part():
    learner = {k: np.asarray(v, dtype=float) for k, v in KEY.items()}
    assert detect_misconception(make_variant(), learner, {"halved": {"x": 1.5}}) is None


@pytest.mark.parametrize("blank", [None, "", "   ", [None, ""], [["", " "], ["", ""]]])
def test_a_blank_part_is_graded_blank_and_the_rest_is_graded(blank):
    """Issue #13: one part left blank no longer makes the whole answer unreadable: it scores 0,
    says so, and the parts given are graded (their weights count)."""
    name = "m" if isinstance(blank, list) and blank and isinstance(blank[0], list) else (
        "twice" if isinstance(blank, list) else "x")
    response = {**KEY, name: blank} if blank is not None else {k: v for k, v in KEY.items() if k != name}
    result = grade(response, {})
    assert not result.format_errors
    assert result.parts[name].score == 0.0 and result.parts[name].message == "Left blank"
    assert all(result.parts[p].correct for p in KEY if p != name)
    assert 0 < result.score < 1


def test_an_answer_with_every_part_blank_is_unreadable():
    result = grade({name: "" for name in KEY}, {})
    assert result.format_errors and result.score == 0.0


@pytest.mark.parametrize(
    ("response", "where"),
    [
        ({**KEY, "x": [1.5]}, ("x", None, None)),  # list for a scalar
        ({**KEY, "x": "1.5.5"}, ("x", None, None)),
        ({**KEY, "twice": [3, None]}, ("twice", None, 1)),
        ({**KEY, "m": "1 2\n3 oops"}, ("m", 1, 1)),
        ({**KEY, "m": [[1, 2]]}, ("m", None, None)),
        ({**KEY, "m": [[1, 2], [3, float("nan")]]}, ("m", 1, 1)),
    ],
)
def test_format_errors(response, where):
    result = grade(response)
    assert result.score == 0.0 and result.misconception is None
    first = result.format_errors[0]
    assert (first.part, first.row, first.col) == where
    assert "does not count as an attempt" in result.feedback


def test_format_error_probe_is_refused():
    assert grade({**KEY, **format_error_probe(make_variant())}).format_errors


def test_jsonable_and_quantised_diff():
    from fractions import Fraction

    assert to_jsonable({"a": np.array([[-0.0, 1.5]]), "b": Fraction(3, 7), "c": np.int64(4)}) == {
        "a": [[0.0, 1.5]], "b": "3/7", "c": 4}
    with pytest.raises(ValueError):
        to_jsonable(float("inf"))
    assert quantised_diff(3e-16) == 1e-12 and quantised_diff(2e-11) == 1e-10


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(response=st.dictionaries(st.sampled_from(["x", "twice", "m", "other"]), JSON_VALUES))
def test_any_response_is_graded_without_raising(response):
    result = grade(response)
    assert 0.0 <= result.score <= 1.0
    if result.format_errors:
        assert result.score == 0.0
