"""Grading theory questions: every type, partial credit, negative weights, and no exceptions."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questions.catalogue.theory import grade_theory


def q(kind: str, **fields) -> dict:
    return {"slug": "q", "type": kind, "explanation": "Because.", **fields}


SINGLE = q("single_choice", choices=[
    {"text": "right", "weight": 100, "feedback": "Yes."},
    {"text": "half", "weight": 50, "feedback": "Half right."},
    {"text": "wrong", "weight": 0, "feedback": "No: the softmax already sums to 1."},
])

MULTI = q("multiple_response", choices=[
    {"text": "a", "weight": 50, "feedback": "a is true."},
    {"text": "b", "weight": 50, "feedback": "b is true."},
    {"text": "c", "weight": -50, "feedback": "c is false."},
    {"text": "d", "weight": -100, "feedback": "d is very false."},
])

TF = q("true_false", answer=False, feedback_true="It is false: rows sum to 1.", feedback_false="Right.")

NUMERIC = q("numeric", answers=[
    {"value": 1050624, "tolerance": 0, "weight": 100, "feedback": "Right."},
    {"value": 1048576, "tolerance": 0, "weight": 0, "feedback": "You forgot the biases."},
    {"value": 1050000, "tolerance": 1000, "weight": 50, "feedback": "Close."},
], other_feedback="Count W_Q, W_K, W_V, W_O and their biases.")

SHORT = q("short_answer", case_sensitive=False, answers=[
    {"text": "teacher forcing", "weight": 100, "feedback": "Right."},
    {"text": "*shift*invarian*", "weight": 100},
    {"text": "permutation invarian*", "weight": 50, "feedback": "Equivariant, not invariant."},
    {"text": "beam*", "weight": 0, "feedback": "That is decoding."},
])

MATCHING = q("matching", pairs=[
    {"left": "Q", "right": "asks"}, {"left": "K", "right": "offers"},
    {"left": "V", "right": "content"}, {"left": "W_O", "right": "mixes heads"},
], distractors=["normalises"])

ORDERING = q("ordering", items=["project", "scores", "scale", "softmax", "weighted sum"])


def test_single_choice():
    assert grade_theory(SINGLE, 0) == {"score": 1.0, "correct": True, "feedback": "Yes.\n\nBecause.",
                                       "reveals": "", "format_error": None}
    half = grade_theory(SINGLE, "1")  # forms post strings
    assert half["score"] == 0.5 and half["correct"] is False and "Half right." in half["feedback"]
    wrong = grade_theory(SINGLE, 2)
    assert wrong["score"] == 0.0 and wrong["feedback"].startswith("No: the softmax")
    # A missed key is named, and marked as the part a quiz holds back until keys are due.
    assert wrong["reveals"] == "The right answer: “right”." and wrong["reveals"] in wrong["feedback"]


def test_multiple_response_partial_credit_and_negative_weights():
    assert grade_theory(MULTI, [0, 1])["score"] == 1.0
    assert grade_theory(MULTI, [0, 1])["correct"] is True
    assert grade_theory(MULTI, [0])["score"] == 0.5
    assert grade_theory(MULTI, [0, 1, 2])["score"] == 0.5
    assert grade_theory(MULTI, [0, 2])["score"] == 0.0
    assert grade_theory(MULTI, [0, 1, 2, 3])["score"] == 0.0  # -50 below zero, clamped
    assert grade_theory(MULTI, [3])["score"] == 0.0
    assert grade_theory(MULTI, [])["score"] == 0.0
    result = grade_theory(MULTI, [0, 2])
    assert "c is false." in result["feedback"] and "“b”" in result["feedback"]  # missed b is named
    assert result["correct"] is False


def test_true_false():
    assert grade_theory(TF, False)["score"] == 1.0
    wrong = grade_theory(TF, True)
    assert wrong["score"] == 0.0 and wrong["feedback"].startswith("It is false")
    assert grade_theory(TF, "false")["correct"] is True


@pytest.mark.parametrize(("response", "score"), [
    ("1050624", 1.0), (1050624, 1.0), ("1,050,624", 1.0), ("4*512^2 + 4*512", 1.0),
    ("1.05M", 0.5), ("1048576", 0.0), ("1049000", 0.5), ("7", 0.0),
])
def test_numeric(response, score):
    result = grade_theory(NUMERIC, response)
    assert result["format_error"] is None and result["score"] == score


def test_numeric_feedback():
    assert "forgot the biases" in grade_theory(NUMERIC, "1048576")["feedback"]
    assert "Count W_Q" in grade_theory(NUMERIC, "7")["feedback"]  # other_feedback for no match


def test_numeric_expressions_from_the_engine_parser():
    quarter = q("numeric", answers=[{"value": 0.25, "tolerance": 0, "weight": 100}])
    root = q("numeric", answers=[{"value": 0.35355339, "tolerance": 1e-6, "weight": 100}])
    assert grade_theory(quarter, "1/4")["score"] == 1.0
    assert grade_theory(root, "1/sqrt(8)")["score"] == 1.0


def test_numeric_tolerance_is_absolute_with_float_slack():
    third = q("numeric", answers=[{"value": 0.3, "tolerance": 0, "weight": 100}])
    assert grade_theory(third, "0.1 + 0.2")["score"] == 1.0
    assert grade_theory(third, "0.3001")["score"] == 0.0


@pytest.mark.parametrize(("response", "score"), [
    ("teacher forcing", 1.0), ("  Teacher   FORCING ", 1.0), ("teacherforcing", 0.0),
    ("shift invariance", 1.0), ("translation and shift-invariance", 1.0),
    ("Permutation invariance", 0.5), ("beam search", 0.0), ("something else", 0.0),
])
def test_short_answer(response, score):
    assert grade_theory(SHORT, response)["score"] == score


def test_short_answer_case_sensitive_and_literal_characters():
    exact = q("short_answer", case_sensitive=True, answers=[{"text": "[CLS]", "weight": 100}])
    assert grade_theory(exact, "[CLS]")["score"] == 1.0
    assert grade_theory(exact, "[cls]")["score"] == 0.0
    assert grade_theory(exact, "C")["score"] == 0.0  # brackets are not a regex class


def test_matching_partial_credit_per_pair():
    key = {p["left"]: p["right"] for p in MATCHING["pairs"]}
    assert grade_theory(MATCHING, key)["score"] == 1.0
    swapped = {**key, "Q": "offers", "K": "asks"}
    result = grade_theory(MATCHING, swapped)
    assert result["score"] == 0.5 and "“Q”" in result["feedback"] and "“K”" in result["feedback"]
    assert result["reveals"] == "Right matches: “Q” → “asks”; “K” → “offers”."
    assert grade_theory(MATCHING, {"Q": "asks"})["score"] == 0.25  # unanswered pairs earn nothing
    assert grade_theory(MATCHING, {**key, "V": "normalises"})["score"] == 0.75


def test_ordering_scores_pairs_in_the_right_relative_order():
    items = ORDERING["items"]  # 5 items: 10 pairs
    assert grade_theory(ORDERING, items)["score"] == 1.0
    assert grade_theory(ORDERING, items[::-1])["score"] == 0.0
    one_swap = [items[1], items[0], *items[2:]]
    assert grade_theory(ORDERING, one_swap)["score"] == 0.9
    last_first = [items[-1], *items[:-1]]  # one item moved 4 places: 4 pairs inverted
    assert grade_theory(ORDERING, last_first)["score"] == 0.6


def test_essay_is_not_auto_graded():
    result = grade_theory(q("essay"), "Attention is ...")
    assert result["score"] is None and result["correct"] is None and result["format_error"] is None


@pytest.mark.parametrize(("question", "response", "words"), [
    (SINGLE, 3, "no choice 3"), (SINGLE, -1, "no choice -1"), (SINGLE, True, "not true or false"),
    (SINGLE, "first", "Choose one"), (SINGLE, None, "Choose one"), (SINGLE, 1.0, "Choose one"),
    (MULTI, 0, "Tick the answers"), (MULTI, [0, 0], "more than once"), (MULTI, [9], "no choice 9"),
    (MULTI, [], "at least one"), (MULTI, ["abc"], "Choose one"),
    (TF, "yes", "True or False"), (TF, 1, "True or False"),
    (NUMERIC, "", "Type a number"), (NUMERIC, "   ", "Type a number"), (NUMERIC, "1.05 million", "Could not read"),
    (NUMERIC, "nan", "Could not read"), (NUMERIC, [1], "Could not read"), (NUMERIC, True, "Could not read"),
    (SHORT, 42, "as text"), (SHORT, "  ", "Type an answer"),
    (MATCHING, ["asks"], "mapping"), (MATCHING, {"X": "asks"}, "not one of the items"),
    (MATCHING, {"Q": "listens"}, "not one of the offered"), (MATCHING, {"Q": ["asks"]}, "not one of the offered"),
    (ORDERING, "project", "list"), (ORDERING, ["project", "scores"], "different position from 1 to 5"),
    (ORDERING, ["project"] * 5, "different position"), (ORDERING, [1, 2, 3, 4, 5], "list"),
    (q("essay"), 5, "as text"),
])
def test_bad_response_shapes_are_format_errors(question, response, words):
    result = grade_theory(question, response)
    assert result["format_error"] and words in result["format_error"], result
    assert result["score"] == 0.0 and result["correct"] is False


def test_unknown_question_type_is_a_bank_bug():
    with pytest.raises(ValueError):
        grade_theory(q("fill_in"), "x")


json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**12) | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=10,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(response=json_like, index=st.integers(min_value=0))
def test_no_response_ever_raises(bank_questions, response, index):
    question = bank_questions[index % len(bank_questions)]
    result = grade_theory(question, response)
    assert set(result) == {"score", "correct", "feedback", "reveals", "format_error"}
    assert result["reveals"] in result["feedback"]
    assert result["format_error"] is None or isinstance(result["format_error"], str)
    assert 0.0 <= result["score"] <= 1.0


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_permutation_of_an_ordering_is_graded(bank_questions, data):
    orderings = [q for q in bank_questions if q["type"] == "ordering"]
    question = data.draw(st.sampled_from(orderings))
    response = data.draw(st.permutations(question["items"]))
    result = grade_theory(question, response)
    assert result["format_error"] is None
    assert (result["score"] == 1.0) == (response == question["items"])
