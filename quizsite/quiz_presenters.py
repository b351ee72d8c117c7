"""The API's views of quizzes, attempts and results. What may be shown comes from the domain
(`questions.courses.rules.feedback_visible`) and what a key looks like from `disclosure`.

A learner's attempt before its feedback time shows the questions (`disclosure.item_view`,
never a key), the learner's own answers and whether each try is still being graded; nothing
of scores, marks, feedback, keys or regrade notes.
"""

from __future__ import annotations

from typing import Any

from questions.courses.models import Quiz, QuizAnswer, QuizAttempt
from questions.courses.rules import Gradebook
from questions.courses.selectors import AttemptReview, quiz_max_score
from questions.practice.models import Submission

from .disclosure import item_key, item_view, quiz_result_view


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def quiz_view(quiz: Quiz, *, staff: bool) -> dict[str, Any]:
    """A quiz's settings; staff also see its sections (pools)."""
    view = {
        "id": quiz.id,
        "course": quiz.course_id,
        "title": quiz.title,
        "state": quiz.state,
        "opens_at": _iso(quiz.opens_at),
        "closes_at": _iso(quiz.closes_at),
        "time_limit_seconds": quiz.time_limit_seconds,
        "attempts_allowed": quiz.attempts_allowed,
        "grading_method": quiz.grading_method,
        "penalty": quiz.penalty,
        "feedback_timing": quiz.feedback_timing,
        "shuffle": quiz.shuffle,
        "certainty_based_marking": quiz.certainty_based_marking,
        "max_score": quiz_max_score(quiz),
    }
    if staff:
        view["sections"] = [
            {
                "position": s.position,
                "title": s.title,
                "kind": s.kind or None,
                "difficulty": s.difficulty or None,
                "questions": [q.slug for q in s.questions.all()],
                "draw": s.draw_count,
                "points": s.points,
            }
            for s in quiz.sections.all()
        ]
    return view


def _answer_view(answer: QuizAnswer, *, feedback: bool, keys: bool) -> dict[str, Any]:
    submission = answer.submission
    view: dict[str, Any] = {
        "submission": submission.id,
        "answer": submission.answer,
        "certainty": answer.certainty,
        "created_at": _iso(submission.created_at),
        "graded": submission.status != Submission.Status.PENDING,
    }
    if feedback:
        view.update(quiz_result_view(submission, keys=keys))
        view.pop("id", None)
        view.pop("item", None)
        if answer.regraded_score is not None:
            view["regraded_score"] = answer.regraded_score
    return view


def _regrade_note(was: float | None, now: float | None) -> str:
    def fmt(x):
        return "none" if x is None else f"{x:g}"

    return f"Regraded: was {fmt(was)}, now {fmt(now)}."


def attempt_view(review: AttemptReview) -> dict[str, Any]:
    """An attempt as its learner saw it, with what the feedback timing allows now."""
    attempt, quiz, shown = review.attempt, review.quiz, review.visibility
    view: dict[str, Any] = {
        "id": attempt.id,
        "quiz": quiz.id,
        "quiz_title": quiz.title,
        "learner": attempt.learner.get_username() if review.by_staff else None,
        "number": attempt.number,
        "is_preview": attempt.is_preview,
        "state": attempt.state,
        "started_at": _iso(attempt.started_at),
        "deadline": _iso(attempt.deadline),
        "submitted_at": _iso(attempt.submitted_at),
        "submitted_by": attempt.submitted_by or None,
        "max_score": attempt.max_score,
        "feedback_visible": shown.feedback,
        "keys_visible": shown.keys,
        "certainty_based_marking": quiz.certainty_based_marking,
    }
    if shown.feedback:
        view["score"] = attempt.score
        if attempt.original_score is not None and attempt.original_score != attempt.score:
            view["original_score"] = attempt.original_score
            view["regrade_note"] = _regrade_note(attempt.original_score, attempt.score)
    slots = []
    for entry in review.slots:
        slot, item = entry.slot, entry.slot.item
        slot_view: dict[str, Any] = {
            "position": slot.position,
            "points": slot.points,
            "item": item_view(item),
            "answers": [_answer_view(a, feedback=shown.feedback, keys=shown.keys) for a in entry.answers],
        }
        if review.by_staff:
            slot_view["slot"] = slot.slot
        if shown.feedback:
            slot_view["mark"] = slot.mark
            if slot.regraded_at is not None:
                slot_view["original_mark"] = slot.original_mark
                slot_view["regrade_note"] = _regrade_note(slot.original_mark, slot.mark)
        if shown.keys:
            slot_view["key"] = item_key(item)
        slots.append(slot_view)
    view["slots"] = slots
    return view


def attempt_summary(attempt: QuizAttempt, *, feedback: bool) -> dict[str, Any]:
    """A line of an attempt list; the score only when it may be shown."""
    return {
        "id": attempt.id,
        "quiz": attempt.quiz_id,
        "learner": attempt.learner.get_username(),
        "number": attempt.number,
        "state": attempt.state,
        "started_at": _iso(attempt.started_at),
        "submitted_at": _iso(attempt.submitted_at),
        "submitted_by": attempt.submitted_by or None,
        "score": attempt.score if feedback else None,
        "original_score": attempt.original_score if feedback else None,
        "max_score": attempt.max_score,
    }


def gradebook_view(gradebook: Gradebook) -> dict[str, Any]:
    return {
        "course": gradebook.course.id,
        "quizzes": [
            {"id": q.id, "title": q.title, "grading_method": q.grading_method, "max_score": m}
            for q, m in zip(gradebook.quizzes, gradebook.max_scores, strict=True)
        ],
        "rows": [
            {"learner": row.learner.get_username(), "grades": row.grades, "attempts": row.attempts}
            for row in gradebook.rows
        ],
    }
