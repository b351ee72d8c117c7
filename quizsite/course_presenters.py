"""What the course and quiz pages show, built from `questions.courses` (selectors and rules).

The decisions (who may see what, when feedback and keys may be shown, the marks) are the
domain's: `feedback_visible`, `attempt_review`, `grade_of_attempts`, `quiz_statistics`. This
module only lays their results out for templates; keys come from `quizsite.disclosure`, and
only where `slot_entry`'s visibility allows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from questions.courses.models import Quiz, QuizAnswer, QuizAttempt
from questions.courses.rules import (
    CBM_RIGHT,
    CBM_WRONG,
    Visibility,
    feedback_visible,
    grade_of_attempts,
)
from questions.courses.selectors import AttemptReview, SlotReview
from questions.formatting import clock, format_number, marks, percent
from questions.practice.models import Submission

from .disclosure import item_view, key_view, quiz_result_view
from .presenters import answer_lines, numeric_answer_lines


def seconds_left(attempt: QuizAttempt, now: datetime | None = None) -> int | None:
    """Whole seconds until the attempt's deadline (None: no deadline), never below 0."""
    if attempt.deadline is None:
        return None
    now = now or timezone.now()
    return max(0, int((attempt.deadline - now).total_seconds()))


def duration(seconds: int | None) -> str:
    """A time limit in words: "45 min", "1 h 30 min", "90 s"."""
    if not seconds:
        return "none"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    words = [f"{hours} h"] if hours else []
    if minutes:
        words.append(f"{minutes} min")
    if secs:
        words.append(f"{secs} s")
    return " ".join(words)


def quiz_window(quiz: Quiz, now: datetime | None = None) -> str:
    """draft, not_yet, open or closed: where the quiz stands for learners now."""
    now = now or timezone.now()
    if quiz.state == Quiz.State.DRAFT:
        return "draft"
    if quiz.opens_at and now < quiz.opens_at:
        return "not_yet"
    if quiz.closes_at and now >= quiz.closes_at:
        return "closed"
    return "open"


def cbm_choices() -> list[dict[str, Any]]:
    """The certainty levels with what each scores, from the quiz's own marking scheme."""
    names = {1: "Not sure", 2: "Fairly sure", 3: "Very sure"}
    return [
        {
            "value": c,
            "name": names[c],
            "right": format_number(CBM_RIGHT[c]),
            "wrong": format_number(CBM_WRONG[c]),
        }
        for c in sorted(CBM_RIGHT)
    ]


def learner_quiz_row(quiz: Quiz, attempts: list[QuizAttempt], max_score: float, now: datetime | None = None) -> dict[str, Any]:
    """One quiz on a learner's course page: window, attempts used and left, the grade so far
    (only from attempts whose marks the feedback timing already shows)."""
    now = now or timezone.now()
    shown = [
        a.score
        for a in attempts
        if a.score is not None and feedback_visible(quiz=quiz, attempt=a, now=now).feedback
    ]
    left = None if not quiz.attempts_allowed else max(0, quiz.attempts_allowed - len(attempts))
    in_progress = next((a for a in attempts if a.state == QuizAttempt.State.IN_PROGRESS), None)
    window = quiz_window(quiz, now)
    return {
        "quiz": quiz,
        "window": window,
        "attempts_used": len(attempts),
        "attempts_left": left,
        "in_progress": in_progress,
        "can_start": window == "open" and in_progress is None and (left is None or left > 0),
        "grade": grade_of_attempts(shown, quiz.grading_method),
        "grade_pending": len(shown) < sum(1 for a in attempts if a.state == QuizAttempt.State.SUBMITTED),
        "max_score": max_score,
        "attempts": attempts,
    }


def attempt_score_shown(attempt: QuizAttempt, quiz: Quiz, now: datetime | None = None) -> float | None:
    """The attempt's score if its learner may see it now, else None."""
    if not feedback_visible(quiz=quiz, attempt=attempt, now=now).feedback:
        return None
    return attempt.score


# --- Answers as text ---------------------------------------------------------------------------


# --- An attempt's questions --------------------------------------------------------------------


def _latest(answers: list[QuizAnswer]) -> QuizAnswer | None:
    return answers[-1] if answers else None


def slot_entry(entry: SlotReview, shown: Visibility) -> dict[str, Any]:
    """One question of an attempt as its page shows it, within what `shown` allows."""
    slot, item = entry.slot, entry.slot.item
    view = item_view(item)
    latest = _latest(entry.answers)
    for answer in entry.answers:
        answer.submission.item = item  # already fetched with the slot: no query per answer
    row: dict[str, Any] = {
        "slot": slot,
        "position": slot.position,
        "number": slot.position + 1,
        "section_title": slot.section.title,
        "points": format_number(slot.points),
        "view": view,
        "tries": len(entry.answers),
        "latest": latest,
        "pending": latest is not None and latest.submission.status == Submission.Status.PENDING,
        "certainty": latest.certainty if latest else None,
        "answer_lines": answer_lines(view, latest.submission.answer) if latest and view["type"] == "theory" else [],
        "numeric_lines": numeric_answer_lines(view, latest.submission.answer)
        if latest and view["type"] == "numeric"
        else [],
        "typed": latest.submission.answer if latest and isinstance(latest.submission.answer, dict) else {},
    }
    if shown.feedback:
        row["mark"] = marks(slot.mark)
        row["mark_known"] = slot.mark is not None
        if latest is not None and latest.submission.status != Submission.Status.PENDING:
            row["result"] = quiz_result_view(latest.submission, keys=shown.keys)
            if latest.regraded_score is not None:
                row["regraded_score"] = percent(latest.regraded_score)
        if slot.regraded_at is not None:
            row["regrade"] = {"was": marks(slot.original_mark), "now": marks(slot.mark)}
    if shown.keys:
        result = row.get("result", {})
        if not item.is_numeric or not (result.get("worked_solution") or result.get("solution_code")):
            # The key the marks stand on: for a theory question, the version a regrade used, if any.
            row.update(key_view(item, version=slot.regraded_against, anchor=f"slot-{slot.id}"))
    return row


def attempt_page(review: AttemptReview, now: datetime | None = None) -> dict[str, Any]:
    """An attempt's header and questions, in the order its learner saw them."""
    attempt, shown = review.attempt, review.visibility
    rows = [slot_entry(e, shown) for e in review.slots]
    page: dict[str, Any] = {
        "attempt": attempt,
        "quiz": review.quiz,
        "shown": shown,
        "by_staff": review.by_staff,
        "rows": rows,
        "answered": sum(1 for r in rows if r["latest"] is not None),
        "max_score": marks(attempt.max_score),
        "seconds_left": seconds_left(attempt, now),
    }
    if page["seconds_left"] is not None:
        page["clock"] = clock(page["seconds_left"])
    if shown.feedback:
        page["score"] = marks(attempt.score)
        page["score_known"] = attempt.score is not None
        if attempt.original_score is not None and attempt.original_score != attempt.score:
            page["regrade"] = {"was": marks(attempt.original_score), "now": marks(attempt.score)}
    return page


# --- Statistics --------------------------------------------------------------------------------


def _stat_row(row: dict[str, Any]) -> dict[str, Any]:
    """Moodle's display: facility and SD as % of the max mark; D and DE are already %."""

    def pct(value, scale):
        return "" if value is None else f"{value * scale:.1f}"

    return {
        **row,
        "facility_pct": pct(row.get("facility"), 100),
        "sd_pct": pct(row.get("sd"), 100),
        "discrimination_pct": pct(row.get("discrimination_index"), 1),
        "efficiency_pct": pct(row.get("discriminative_efficiency"), 1),
    }


def statistics_page(stats: dict[str, Any]) -> dict[str, Any]:
    quiz_level = stats.get("quiz") or {}
    alpha = quiz_level.get("cronbach_alpha")
    return {
        "attempts": stats["attempts"],
        "attempt_count": stats["attempt_count"],
        "quiz": quiz_level,
        "alpha": "" if alpha is None else f"{alpha:.3f}",
        "mean": marks(quiz_level.get("mean")),
        "sd": marks(quiz_level.get("sd")),
        "max_total": marks(quiz_level.get("max_total")),
        "slots": [_stat_row(r) for r in stats["slots"]],
        "questions": [_stat_row(r) for r in stats["questions"]],
        "accuracy": [
            {
                **a,
                "groups": [{**g, "percent": percent(g["mean_fraction"])} for g in a["groups"]],
            }
            for a in stats["accuracy_by_parameter"]
        ],
    }
