"""Short answers with `*` wildcards: the same verdicts as a full-match regular expression, in
linear time (the regex backtracked long enough to stall a web worker)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questions.catalogue.theory import grade_theory, wildcard_match


def _regex(pattern: str, text: str) -> bool:
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(body, text, re.DOTALL) is not None


@given(st.text(alphabet="ab*", max_size=8), st.text(alphabet="ab", max_size=10))
@settings(max_examples=2000, deadline=None, derandomize=True)
def test_same_verdict_as_the_full_match_regex(pattern, text):
    assert wildcard_match(pattern, text) == _regex(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [("soft*max", "softmax", True), ("soft*max", "soft arg max", True), ("*cls*", "the [CLS] token".lower(), True),
     ("a*b", "ab", True), ("a*b", "a", False), ("ab*ab", "ab", False), ("*", "", True), ("x", "x", True)],
)
def test_examples(pattern, text, expected):
    assert wildcard_match(pattern, text) is expected


def test_an_adversarial_pattern_is_answered_at_once():
    question = {"type": "short_answer", "answers": [{"text": "*a*a*a*a*a*a*a*a*b", "weight": 100}],
                "explanation": "E.", "source": "S."}
    # A verdict, not a hang: the old regex took seconds at 60 characters and grew exponentially
    # with the length (no timing is asserted here; the old code never returned).
    result = grade_theory(question, "a" * 20_000)
    assert result["score"] == 0.0 and not result["correct"]
