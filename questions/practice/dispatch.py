"""What happens after a grade, by purpose: the one explicit seam between grading and its readers.

Grading (`questions.practice.jobs.submission_grade`) knows nothing of reviews or quizzes; the
features that care register a handler for the purposes they own, and grading calls them inside
its transaction, so a review card is rated and a quiz mark written exactly once, with the grade:

* `questions.learning.jobs` registers the review rating for practice, review and mock items;
* `questions.courses.jobs` registers the quiz mark for quiz items.

Every purpose must have a handler: grading a purpose nobody registered for raises
`ImproperlyConfigured` instead of silently skipping a rating or a mark. `questions.tasks` (what
the worker loads) and the URL modules (what the web loads) import both features.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from questions.practice.models import Purpose, Submission

Handler = Callable[[Submission], None]

_HANDLERS: dict[str, list[Handler]] = {}


def on_graded(*purposes: str) -> Callable[[Handler], Handler]:
    """Decorator: call the handler with each graded submission whose item has one of `purposes`."""
    unknown = set(purposes) - set(Purpose.values)
    if unknown:
        raise ImproperlyConfigured(f"unknown purposes {sorted(unknown)}")

    def register(handler: Handler) -> Handler:
        for purpose in purposes:
            handlers = _HANDLERS.setdefault(purpose, [])
            if handler not in handlers:
                handlers.append(handler)
        return handler

    return register


def graded(submission: Submission) -> None:
    """Run every handler of the submission's purpose (inside the grading transaction)."""
    purpose = submission.item.purpose
    handlers = _HANDLERS.get(purpose)
    if not handlers:
        raise ImproperlyConfigured(
            f"no handler for graded {purpose!r} submissions: import questions.tasks (it loads every feature)"
        )
    for handler in handlers:
        handler(submission)


# How a stored answer reaches the grading worker, for writes below the tasks layer (the answers
# made from drafts when a quiz or mock interview ends, `jobs.drafts_submit`): `questions.practice.
# tasks` registers its enqueue here, as it is loaded with every feature.
_ENQUEUE: list[Callable[..., None]] = []


def enqueues_grading(handler: Callable[..., None]) -> Callable[..., None]:
    """Decorator: `handler(submission_id, code=...)` sends a stored answer to be graded."""
    _ENQUEUE[:] = [handler]
    return handler


def grade_after_commit(submission: Submission) -> None:
    """Have a pending submission graded once the current transaction commits."""
    if not _ENQUEUE:
        raise ImproperlyConfigured("no grading queue: import questions.tasks (it loads every feature)")
    handler, submission_id, code = _ENQUEUE[0], submission.id, submission.item.is_code
    transaction.on_commit(lambda: handler(submission_id, code=code))
