"""The quiz policies as pure functions: CBM, penalty per retry, grading methods, feedback timing."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from questions.courses.models import Quiz, QuizAttempt
from questions.courses.rules import (
    Visibility,
    cbm_score,
    feedback_visible,
    grade_of_attempts,
    stable_int,
    try_fraction,
)


@pytest.mark.parametrize(("certainty", "right", "wrong"), [(1, 1, 0), (2, 2, -2), (3, 3, -6)])
def test_cbm_scores_right_and_wrong_answers_by_certainty(certainty, right, wrong):
    assert cbm_score(1.0, certainty) == right
    assert cbm_score(0.0, certainty) == wrong


def test_cbm_interpolates_partial_credit_between_wrong_and_right():
    # Half right at certainty 3: 0.5 * 3 + 0.5 * -6 = -1.5; at certainty 1: 0.5 * 1 + 0.5 * 0.
    assert cbm_score(0.5, 3) == -1.5
    assert cbm_score(0.5, 1) == 0.5
    with pytest.raises(ValueError):
        cbm_score(1.0, 4)


def test_penalty_costs_each_earlier_wrong_try_under_immediate_feedback():
    # Wrong, half right, right: two earlier tries below 1 -> 1 - 2 * 0.25.
    assert try_fraction([0.0, 0.5, 1.0], penalty=0.25, immediate=True) == 0.5
    # Never below zero: 1 - 5 * 0.3 < 0.
    assert try_fraction([0, 0, 0, 0, 0, 1.0], penalty=0.3, immediate=True) == 0.0
    # The last try counts, partial credit included: 0.5 - 1 * 0.1.
    assert try_fraction([0.0, 0.5], penalty=0.1, immediate=True) == pytest.approx(0.4)


def test_without_immediate_feedback_changing_an_answer_is_free():
    assert try_fraction([0.0, 0.0, 1.0], penalty=0.5, immediate=False) == 1.0
    assert try_fraction([1.0, 0.0], penalty=0.5, immediate=False) == 0.0
    assert try_fraction([], penalty=0.5, immediate=True) == 0.0


@pytest.mark.parametrize(
    ("method", "expected"), [("highest", 7.0), ("last", 5.0), ("first", 3.0), ("average", 5.0)]
)
def test_grading_methods(method, expected):
    assert grade_of_attempts([3.0, 7.0, 5.0], method) == expected


def test_no_attempt_gives_no_grade():
    assert grade_of_attempts([], "highest") is None


def _quiz(timing, closes_at=None):
    return SimpleNamespace(feedback_timing=timing, closes_at=closes_at)


def _attempt(state):
    return SimpleNamespace(state=state)


def test_feedback_timing_rules():
    now = timezone.now()
    running, done = _attempt(QuizAttempt.State.IN_PROGRESS), _attempt(QuizAttempt.State.SUBMITTED)
    immediate = _quiz(Quiz.FeedbackTiming.IMMEDIATE)
    assert feedback_visible(quiz=immediate, attempt=running, now=now) == Visibility(True, False)
    assert feedback_visible(quiz=immediate, attempt=done, now=now) == Visibility(True, True)
    after = _quiz(Quiz.FeedbackTiming.AFTER_SUBMISSION)
    assert feedback_visible(quiz=after, attempt=running, now=now) == Visibility(False, False)
    assert feedback_visible(quiz=after, attempt=done, now=now) == Visibility(True, True)
    closes = now + timedelta(hours=1)
    at_close = _quiz(Quiz.FeedbackTiming.AFTER_CLOSE, closes)
    assert feedback_visible(quiz=at_close, attempt=done, now=now) == Visibility(False, False)
    assert feedback_visible(quiz=at_close, attempt=done, now=closes) == Visibility(True, True)


def test_stable_hash_is_fixed_across_processes_and_secret():
    # An HMAC-SHA256 under SECRET_KEY, first 8 bytes: a constant, unlike Python's salted hash(),
    # and not recomputable from the public ids alone (a plain SHA-256 of them was).
    import hashlib
    import hmac

    from django.conf import settings
    from django.test import override_settings

    digest = hmac.new(settings.SECRET_KEY.encode(), "\x1f".join(["seed", "1", "0", "2", "1"]).encode(), hashlib.sha256)
    assert stable_int("seed", 1, 0, 2, 1) == int.from_bytes(digest.digest()[:8], "big")
    assert stable_int("seed", 1, 0, 2, 1) != int.from_bytes(hashlib.sha256(b"seed:1:0:2:1").digest()[:8], "big")
    assert stable_int("seed", 1, 0, 2, 1) != stable_int("seed", 1, 0, 3, 1)
    with override_settings(SECRET_KEY="another-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"):
        assert stable_int("seed", 1, 0, 2, 1) != int.from_bytes(digest.digest()[:8], "big")


def _try(score, certainty):
    from questions.practice.models import Submission

    return SimpleNamespace(
        submission=SimpleNamespace(status=Submission.Status.GRADED, score=score), certainty=certainty, regraded_score=None
    )


@pytest.mark.parametrize(
    ("tries", "expected"),
    [
        ([(0.0, 1)], 0.0),  # wrong at certainty 1 costs nothing
        ([(0.0, 3)], -6.0),  # wrong at certainty 3: -6 of 3 points
        ([(1.0, 3)], 3.0),
        ([(0.0, 1), (1.0, 3)], 1.5),  # right after a wrong try: 3 - 0.5 * 3, never below the wrong try
        ([(0.0, 1), (1.0, 1)], 0.0),  # 1 - 1.5 would be negative: a right answer stops at 0
        ([(0.0, 3), (0.0, 3)], -6.0),  # a confident wrong answer is not penalised twice
    ],
)
def test_cbm_with_a_retry_penalty_never_marks_a_right_answer_below_a_wrong_one(tries, expected):
    from questions.courses.rules import slot_mark

    quiz = SimpleNamespace(
        penalty=0.5, feedback_timing=Quiz.FeedbackTiming.IMMEDIATE, certainty_based_marking=True
    )
    answers = [_try(score, certainty) for score, certainty in tries]
    mark = slot_mark(quiz=quiz, slot=SimpleNamespace(points=3.0), answers=answers, submitted=True)
    assert mark == pytest.approx(expected)
