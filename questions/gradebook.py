"""Results of a course: the gradebook (and its CSV), attempt review data and item statistics.

All reads. Instructors and TAs of the course read everything here; learners read only their own
attempts (`attempt_review` with their own attempt), and a stranger gets 404.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .courses import STAFF_ROLES, require_role
from .models import AttemptSlot, Course, Membership, Quiz, QuizAnswer, QuizAttempt
from .quizzes import (
    Visibility,
    attempts_close_overdue,
    feedback_visible,
    grade_of_attempts,
    quiz_max_score,
    slot_fraction,
)
from .statistics import item_statistics

# --- Gradebook ---------------------------------------------------------------------------------


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


def gradebook_for(*, course: Course, user) -> Gradebook:
    """Learners x quizzes of the course (instructors and TAs). An attempt counts once it is
    submitted and every answer in it is graded; regraded attempts count with their new score."""
    require_role(course=course, user=user, roles=STAFF_ROLES)
    attempts_close_overdue(attempts=QuizAttempt.objects.filter(quiz__course=course))
    # Drafts have no attempts yet: a column of blanks would only be noise.
    quizzes = list(
        course.quizzes.exclude(state=Quiz.State.DRAFT).prefetch_related("sections").order_by("opens_at", "id")
    )
    learners = [
        m.user
        for m in course.memberships.filter(role=Membership.Role.LEARNER)
        .select_related("user")
        .order_by("user__username")
    ]
    scores: dict[tuple[int, int], list[float]] = defaultdict(list)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    last: dict[tuple[int, int], int] = {}
    for attempt_id, quiz_id, learner_id, score in (
        QuizAttempt.objects.filter(quiz__course=course, is_preview=False)
        .order_by("quiz_id", "learner_id", "number")
        .values_list("id", "quiz_id", "learner_id", "score")
    ):
        counts[(quiz_id, learner_id)] += 1
        last[(quiz_id, learner_id)] = attempt_id
        if score is not None:
            scores[(quiz_id, learner_id)].append(score)
    rows = [
        GradebookRow(
            learner=learner,
            grades=[grade_of_attempts(scores[(q.id, learner.id)], q.grading_method) for q in quizzes],
            attempts=[counts[(q.id, learner.id)] for q in quizzes],
            last_attempt_ids=[last.get((q.id, learner.id)) for q in quizzes],
        )
        for learner in learners
    ]
    return Gradebook(course=course, quizzes=quizzes, max_scores=[quiz_max_score(q) for q in quizzes], rows=rows)


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


def _plain(number: float) -> str:
    """A mark as a person writes it: 4, 2.5, 1,000,000 (never 1e+06)."""
    return f"{number:,.4f}".rstrip("0").rstrip(".")


def gradebook_csv(gradebook: Gradebook) -> str:
    """The gradebook as CSV text: a header row (username, then "quiz title (out of N)"), then
    one row per learner with the grade per quiz (empty: no scored attempt)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [csv_safe("username")]
        + [csv_safe(f"{q.title} (out of {_plain(m)})") for q, m in zip(gradebook.quizzes, gradebook.max_scores, strict=True)]
    )
    for row in gradebook.rows:
        writer.writerow([csv_safe(row.learner.get_username())] + [_number(g) for g in row.grades])
    return out.getvalue()


# --- Attempt review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotReview:
    slot: AttemptSlot
    answers: list[QuizAnswer]


@dataclass(frozen=True)
class AttemptReview:
    """An attempt as its learner saw it: slots in the order shown, every try in order, and what
    may be shown now (`visibility`: the quiz's feedback timing for the learner; everything for
    the course's instructors and TAs)."""

    attempt: QuizAttempt
    quiz: Quiz
    visibility: Visibility
    slots: list[SlotReview] = field(default_factory=list)
    by_staff: bool = False


def attempt_review(*, attempt: QuizAttempt, viewer, now: datetime | None = None) -> AttemptReview:
    """Review data for an attempt already fetched with `quizzes.attempt_for` (which checked who
    may read it and closed it if overdue)."""
    quiz = attempt.quiz
    by_staff = attempt.learner_id != viewer.id
    visibility = Visibility(feedback=True, keys=True) if by_staff else feedback_visible(quiz=quiz, attempt=attempt, now=now)
    slots = (
        attempt.slots.select_related(
            "section", "item__variant", "item__question_version__question__topic", "regraded_against"
        )
        .prefetch_related("answers__submission")
        .order_by("position")
    )
    return AttemptReview(
        attempt=attempt,
        quiz=quiz,
        visibility=visibility,
        slots=[SlotReview(slot=s, answers=list(s.answers.all())) for s in slots],
        by_staff=by_staff,
    )


def attempts_for_staff(*, quiz: Quiz, user):
    """Every learner's attempt of the quiz (instructors and TAs; not their previews), learner
    then number."""
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    attempts_close_overdue(attempts=quiz.attempts.all())
    return quiz.attempts.filter(is_preview=False).select_related("learner").order_by("learner__username", "number")


# --- Statistics --------------------------------------------------------------------------------


def _slot_label(slot: AttemptSlot) -> str:
    item = slot.item
    if item.is_numeric:
        return f"{item.variant.kind} ({item.variant.difficulty})"
    return item.question_version.question.slug


def _scalar_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in params.items()
        if v is None or isinstance(v, bool | int | float | str)
    }


def quiz_statistics(*, quiz: Quiz, user, first_attempts_only: bool = True) -> dict[str, Any]:
    """Item statistics of the quiz with Moodle's formulas (`statistics.item_statistics`).

    Rows are the scored attempts (first attempts only by default, Moodle's default); columns
    are, in three views:

    * `slots`: the quiz's slots (section order, then draw order), max mark = the slot's points;
    * `questions`: each drawn question of a pool (a theory question by slug; a numeric section
      as kind and difficulty), a cell None where the attempt did not draw it;
    * `quiz`: the test statistics of the slot view, with Cronbach's alpha.

    `accuracy_by_parameter`: for numeric sections, the mean fraction (how right the answer was)
    grouped by each scalar parameter of the variant (d_k, heads ...), with the number of answers.

    A cell is the slot's mark, except on a certainty-based quiz: there it is the points times how
    right the answer was (`quizzes.slot_fraction`), so facility and discrimination measure the
    questions, not the learners' confidence (a CBM mark runs from -2x to 1x the points). A
    numeric section that draws several problems gives its drawn-question column the mean of
    them.
    """
    require_role(course=quiz.course, user=user, roles=STAFF_ROLES)
    attempts_close_overdue(attempts=quiz.attempts.all())
    attempts = list(
        quiz.attempts.filter(state=QuizAttempt.State.SUBMITTED, score__isnull=False, is_preview=False)
        .order_by("learner_id", "number")
        .prefetch_related(
            "slots__item__variant", "slots__item__question_version__question", "slots__section",
            "slots__answers__submission",
        )
    )
    is_first = [a.number == 1 for a in attempts]
    if first_attempts_only:
        attempts = [a for a, first in zip(attempts, is_first, strict=True) if first]
        is_first = [True] * len(attempts)
    sections = list(quiz.sections.order_by("position"))
    slot_points = [s.points for s in sections for _ in range(s.draw_count)]
    rows = []
    by_question: dict[tuple[int, str], dict[int, list[float | None]]] = {}
    question_points: dict[tuple[int, str], float] = {}
    accuracy: dict[tuple[str, str, str], dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row_index, attempt in enumerate(attempts):
        slots = sorted(attempt.slots.all(), key=lambda s: s.slot)
        fractions = [slot_fraction(quiz=quiz, answers=list(s.answers.all())) for s in slots]
        if quiz.certainty_based_marking:
            cells = [None if f is None else f * s.points for s, f in zip(slots, fractions, strict=True)]
        else:
            cells = [s.mark for s in slots]
        rows.append(cells)
        for slot, cell, fraction in zip(slots, cells, fractions, strict=True):
            key = (slot.section.position, _slot_label(slot))
            by_question.setdefault(key, {}).setdefault(row_index, []).append(cell)
            question_points[key] = slot.points
            if slot.item.is_numeric and fraction is not None:
                variant = slot.item.variant
                for name, value in _scalar_params(variant.data.get("params", {})).items():
                    accuracy[(variant.kind, variant.difficulty, name)][value].append(fraction)

    def stats(matrix: Sequence[Sequence[float | None]], max_marks: Sequence[float]):
        return item_statistics(matrix, max_marks, is_first_attempt=is_first) if matrix else None

    slot_stats = stats(rows, slot_points)
    keys = sorted(by_question)
    question_matrix = [[_mean(by_question[k].get(i)) for k in keys] for i in range(len(attempts))]
    question_stats = stats(question_matrix, [question_points[k] for k in keys])
    labels = [
        {"slot": i, "section": s.position, "section_title": s.title, "label": s.kind or "theory pool"}
        for i, s in enumerate(s for s in sections for _ in range(s.draw_count))
    ]
    return {
        "attempts": "first" if first_attempts_only else "all",
        "attempt_count": len(attempts),
        "quiz": _quiz_level(slot_stats),
        "slots": [
            {**label, **q.to_dict()} for label, q in zip(labels, slot_stats.questions, strict=True)
        ]
        if slot_stats
        else [],
        "questions": [
            {"section": k[0], "label": k[1], **q.to_dict()}
            for k, q in zip(keys, question_stats.questions, strict=True)
        ]
        if question_stats
        else [],
        "accuracy_by_parameter": [
            {
                "kind": kind,
                "difficulty": difficulty,
                "parameter": name,
                "groups": [
                    {"value": value, "n": len(fractions), "mean_fraction": sum(fractions) / len(fractions)}
                    for value, fractions in sorted(groups.items(), key=lambda kv: (str(type(kv[0])), kv[0]))
                ],
            }
            for (kind, difficulty, name), groups in sorted(accuracy.items())
            if len(groups) > 1  # a parameter every variant shares says nothing
        ],
    }


def _mean(cells: list[float | None] | None) -> float | None:
    """One attempt's cell of a drawn question: the mean of its marks (None when not drawn)."""
    known = [c for c in cells or [] if c is not None]
    return sum(known) / len(known) if known else None


def _quiz_level(stats) -> dict[str, Any] | None:
    if stats is None:
        return None
    data = stats.to_dict()
    data.pop("questions")
    return data
