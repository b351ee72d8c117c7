"""Courses' pure rules: marking (CBM, retry penalties, grading methods), feedback timing, quiz
limits, deterministic draws, deadlines and marks of an attempt, the gradebook CSV."""

from __future__ import annotations

import csv
import io
import numbers
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from questions.courses.models import AttemptSlot, Course, Membership, Quiz, QuizAnswer, QuizAttempt
from questions.formatting import plain_number
from questions.keyed import keyed_seed
from questions.practice.models import Submission

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: easy to read aloud and to type from a slide. 25 symbols, 8 of
# them: 25^8 ~ 1.5e11 codes, far too many to guess.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


JOIN_CODE_LENGTH = 8


STAFF_ROLES = (Membership.Role.INSTRUCTOR, Membership.Role.TA)


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(code: str) -> str:
    """What a learner typed, as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in str(code).upper() if ch not in " -\t")


SEED_SPACE = 2**31


SEED_PROBES = 50


# Certainty-based marking, Gardner-Medwin's scheme as Moodle uses it: certainty 1 / 2 / 3 scores
# +1 / +2 / +3 when right and 0 / -2 / -6 when wrong.
CBM_RIGHT = {1: 1.0, 2: 2.0, 3: 3.0}


CBM_WRONG = {1: 0.0, 2: -2.0, 3: -6.0}


def cbm_score(fraction: float, certainty: int) -> float:
    """The CBM score of a graded fraction f in [0, 1] at certainty c, in [-6, 3].

    Partial credit is interpolated linearly between the wrong and the right score:
    ``f * right[c] + (1 - f) * wrong[c]`` (so f = 1 gives +c, f = 0 gives the wrong score, and
    half right at certainty 3 gives 0.5 * 3 + 0.5 * -6 = -1.5). The slot's mark is
    ``points * cbm_score / 3``: a confident right answer earns the full points, a confident
    wrong one costs twice the points.
    """
    if certainty not in CBM_RIGHT:
        raise ValueError(f"certainty must be 1, 2 or 3, got {certainty!r}")
    return fraction * CBM_RIGHT[certainty] + (1.0 - fraction) * CBM_WRONG[certainty]


def try_fraction(fractions: Sequence[float], *, penalty: float, immediate: bool) -> float:
    """The fraction a slot earns from its graded tries, in order (the last one counts).

    With immediate feedback (Moodle's "interactive with multiple tries"), each earlier try that
    was not fully right costs `penalty`, and the result never goes below 0:
    ``max(0, f_last - penalty * wrong_earlier_tries)``. Without immediate feedback the learner
    never saw a try's result, so changing an answer is free: the last try counts as it is.
    """
    if not fractions:
        return 0.0
    if not immediate:
        return fractions[-1]
    wrong_before = sum(1 for f in fractions[:-1] if f < 1.0)
    return max(0.0, fractions[-1] - penalty * wrong_before)


def grade_of_attempts(scores: Sequence[float], method: str) -> float | None:
    """A learner's quiz grade from their finished attempts' scores, oldest first."""
    if not scores:
        return None
    if method == Quiz.GradingMethod.HIGHEST:
        return max(scores)
    if method == Quiz.GradingMethod.LAST:
        return scores[-1]
    if method == Quiz.GradingMethod.FIRST:
        return scores[0]
    if method == Quiz.GradingMethod.AVERAGE:
        return sum(scores) / len(scores)
    raise ValueError(f"unknown grading method {method!r}")


@dataclass(frozen=True)
class Visibility:
    """What a learner may see of an attempt now: per-try results, and keys (with the worked
    solution, explanations and the regrade notes)."""

    feedback: bool
    keys: bool


def feedback_visible(*, quiz: Quiz, attempt: QuizAttempt, now: datetime | None = None) -> Visibility:
    """The quiz's feedback timing applied to one attempt.

    * immediate: each try's score and feedback as soon as it is graded; keys once the attempt
      is submitted (showing a key earlier would give the remaining tries away);
    * after_submission: both once the attempt is submitted;
    * after_close: both once the attempt is submitted and the quiz's close time has passed.
    Marks count as feedback: before this allows, a learner sees only that a slot is answered.
    """
    now = now or timezone.now()
    submitted = attempt.state == QuizAttempt.State.SUBMITTED
    if quiz.feedback_timing == Quiz.FeedbackTiming.AFTER_CLOSE:
        after = submitted and quiz.closes_at is not None and now >= quiz.closes_at
        return Visibility(feedback=after, keys=after)
    if quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE:
        return Visibility(feedback=True, keys=submitted)
    return Visibility(feedback=submitted, keys=submitted)


def stable_int(*parts: Any) -> int:
    """A 64-bit integer from the parts, the same in every process and release, and secret: an HMAC
    under SECRET_KEY (`questions.keyed`). A plain hash of public ids let a learner recompute a
    quiz slot's seed and run the engine for its key, or foresee which questions are drawn."""
    return keyed_seed(*parts)


def numeric_slot_seeds(*, quiz_id: int, sections, learner_id: int, number: int) -> list[tuple[Any, int, int]]:
    """(section, slot, first seed) of every numeric slot of a learner's attempt `number`, in slot
    order: slots count every drawn question in section order, theory ones included. Starting an
    attempt and preparing its variants ahead (`questions.courses.jobs.quiz_variants_prepare`)
    both read the seeds from here, so what is prepared is what is drawn."""
    seeds, slot = [], 0
    for section in sections:
        for _ in range(section.draw_count):
            if section.is_numeric:
                seeds.append((section, slot, stable_int("seed", quiz_id, slot, learner_id, number) % SEED_SPACE))
            slot += 1
    return seeds


@dataclass(frozen=True)
class SectionSpec:
    """A section as given to `quiz_create`: `questions` (slugs) for a theory pool, or `kind` and
    `difficulty` for a numeric one; `draw` questions are drawn, each worth `points`."""

    draw: int = 1
    points: float = 1.0
    title: str = ""
    questions: tuple[str, ...] = ()
    kind: str = ""
    difficulty: str = ""


# What a quiz may hold: the one copy of these limits, checked by `services.quiz_create` and
# offered by the quiz builder page and the API's request schema.
MAX_SECTIONS = 20
MAX_DRAW = 50  # questions drawn per section: every attempt start makes its variants at once
MIN_POINTS, MAX_POINTS = 0.01, 1000.0  # points per drawn question
MAX_ATTEMPTS = 100  # attempts allowed per learner; 0 means no limit
MAX_TIME_LIMIT_SECONDS = 7 * 24 * 3600
MAX_TITLE_LENGTH = 200


def attempt_deadline(*, quiz: Quiz, started_at: datetime) -> datetime | None:
    ends = []
    if quiz.time_limit_seconds:
        ends.append(started_at + timedelta(seconds=quiz.time_limit_seconds))
    if quiz.closes_at:
        ends.append(quiz.closes_at)
    return min(ends) if ends else None


def answer_fraction(answer: QuizAnswer) -> float:
    if answer.regraded_score is not None:
        return answer.regraded_score
    return answer.submission.score or 0.0


def slot_fraction(*, quiz: Quiz, answers: Sequence[QuizAnswer]) -> float | None:
    """How right a slot's counted answer is, in [0, 1], after any retry penalty and before
    certainty-based marking; None while a try is pending or nothing is graded."""
    if any(a.submission.status == Submission.Status.PENDING for a in answers):
        return None
    graded = [a for a in answers if a.submission.status == Submission.Status.GRADED]
    if not graded:
        return None
    return try_fraction(
        [answer_fraction(a) for a in graded],
        penalty=quiz.penalty,
        immediate=quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE,
    )


def slot_mark(*, quiz: Quiz, slot: AttemptSlot, answers: Sequence[QuizAnswer], submitted: bool) -> float | None:
    """The slot's mark in points from its tries (oldest first), or None while it is not known
    (a try is still being graded, or the attempt is in progress and nothing is graded yet).
    Invalid tries (unreadable answers) are not tries: they cost nothing."""
    if any(a.submission.status == Submission.Status.PENDING for a in answers):
        return None
    graded = [a for a in answers if a.submission.status == Submission.Status.GRADED]
    if not graded:
        return 0.0 if submitted else None
    fractions = [answer_fraction(a) for a in graded]
    fraction = slot_fraction(quiz=quiz, answers=graded)
    if quiz.certainty_based_marking:
        # The last try is marked at its certainty; the retry penalty (what try_fraction took off)
        # only takes from a positive mark, down to 0, so a right answer after a wrong one never
        # scores below the wrong one did.
        mark = slot.points * cbm_score(fractions[-1], graded[-1].certainty or 1) / 3.0
        return max(0.0, mark - slot.points * (fractions[-1] - fraction)) if mark > 0 else mark
    return slot.points * fraction


def is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    """An attempt still in progress whose deadline has passed: it counts as submitted at its
    deadline, whether or not a write (`jobs.attempt_expire_if_overdue`, beat) has stored that yet."""
    return attempt.state == QuizAttempt.State.IN_PROGRESS and attempt.deadline is not None and now >= attempt.deadline


def attempt_marks(*, quiz: Quiz, slots: Sequence[AttemptSlot], submitted: bool) -> tuple[list[float | None], float | None]:
    """Every slot's mark (slots with their answers and submissions loaded) and the attempt's score:
    the sum, once the attempt is submitted and every mark is known, else None."""
    marks = [slot_mark(quiz=quiz, slot=s, answers=list(s.answers.all()), submitted=submitted) for s in slots]
    score = sum(marks) if submitted and all(m is not None for m in marks) else None
    return marks, score


@dataclass(frozen=True)
class GradebookRow:
    learner: Any
    # One per quiz, in the gradebook's quiz order: the grade by the quiz's grading method over
    # the learner's scored attempts (None: no scored attempt yet).
    grades: list[float | None]
    attempts: list[int]
    last_attempt_ids: list[int | None]  # the newest attempt per quiz, for a link to its review


@dataclass(frozen=True)
class Gradebook:
    course: Course
    quizzes: list[Quiz]
    max_scores: list[float]
    rows: list[GradebookRow]


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) gets a leading quote. Numbers pass unchanged: a number is never a formula."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _number(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def gradebook_csv(gradebook: Gradebook) -> str:
    """The gradebook as CSV text: a header row (username, then "quiz title (out of N)"), then
    one row per learner with the grade per quiz (empty: no scored attempt)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [csv_safe("username")]
        + [csv_safe(f"{q.title} (out of {plain_number(m)})") for q, m in zip(gradebook.quizzes, gradebook.max_scores, strict=True)]
    )
    for row in gradebook.rows:
        writer.writerow([csv_safe(row.learner.get_username())] + [_number(g) for g in row.grades])
    return out.getvalue()

