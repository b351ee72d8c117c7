"""Which bank questions a learner may meet outside a graded quiz: the seam between quiz secrecy and
the features that show keys (practice, reviews, mock interviews).

A learner practises only public-bank questions (`Question.owner` is null): a course's own
questions appear in that course's quizzes and nowhere else. A public-bank question that a quiz
of the learner's course draws is *withheld* while that quiz can still be attempted: practice,
reviews and mock interviews neither serve it nor show its feedback, so practising a topic
cannot reveal a quiz key. Which questions are withheld is a course rule; courses register it
here (`register_withholder`, in `questions.courses.selectors`), as grading's readers register
with `questions.practice.dispatch`. With nothing registered the reads below raise
`ImproperlyConfigured` rather than show everything: secrecy fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from questions.errors import ServiceError

# learner, now -> the ids of questions withheld from that learner now (a queryset of ids is best).
Withholder = Callable[..., Iterable[int]]

_WITHHOLDERS: list[Withholder] = []


class QuestionWithheld(ServiceError):
    """The question is in a quiz of the learner's course that can still be attempted."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "This question is part of a quiz of your course that is still open; it comes back to "
            "practice, reviews and mock interviews when the quiz closes."
        )


def register_withholder(withholder: Withholder) -> Withholder:
    """Decorator: `withholder(learner=..., now=...)` names questions to keep from the learner."""
    if withholder not in _WITHHOLDERS:
        _WITHHOLDERS.append(withholder)
    return withholder


def _withholders() -> list[Withholder]:
    if not _WITHHOLDERS:
        raise ImproperlyConfigured(
            "no question withholder registered: import questions.tasks (it loads every feature)"
        )
    return _WITHHOLDERS


def practisable(*, learner, now: datetime | None = None, prefix: str = "") -> Q:
    """A filter for questions (`prefix=""`) or versions (`prefix="question__"`) the learner may
    meet in practice, reviews and mock interviews now: public-bank, and withheld by no quiz."""
    now = now or timezone.now()
    condition = Q(**{f"{prefix}owner__isnull": True})
    for withholder in _withholders():
        condition &= ~Q(**{f"{prefix}id__in": withholder(learner=learner, now=now)})
    return condition


def is_practisable(*, learner, question, now: datetime | None = None) -> bool:
    """Whether one question (a `Question`) may be shown to the learner outside a quiz now."""
    return type(question).objects.filter(practisable(learner=learner, now=now), id=question.id).exists()


def require_practisable(*, learner, question, now: datetime | None = None) -> None:
    """Refuse (403, `QuestionWithheld`) a question the learner may not meet outside a quiz now."""
    if question is not None and not is_practisable(learner=learner, question=question, now=now):
        raise QuestionWithheld()
