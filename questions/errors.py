"""The domain's refusals, for every feature: a message safe to show, and the HTTP status pages and
the API answer with (`status`)."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the domain refuses; `message` is safe to show to the user, `status` is the HTTP
    status that pages and the API answer it with."""

    status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ServiceUnavailable(ServiceError):
    """The request is fine but cannot be served now (the worker did not answer); retry later."""

    status = 503


class Preparing(ServiceError):
    """Accepted but not ready: the worker is making what the request needs (a quiz's problem
    variants); nothing was stored, and the same request succeeds shortly. 202 with Retry-After."""

    status = 202
    retry_after = 2


class AnswerFormatError(ServiceError):
    """The answer cannot be read; `details` lists {part, row, col, message}. Costs no attempt."""


class QuestionInvalid(ServiceError):
    """A question dict breaks the bank's rules; `details` lists {line, message}."""


class AttemptClosed(ServiceError):
    """The attempt is over (submitted, or its deadline passed): the answer was not stored."""

    status = 409


class MockClosed(ServiceError):
    """The interview is over (finished or out of time): the answer was refused, not stored."""

    status = 409



class DraftRefused(ServiceError):
    """The item takes no more answers (its attempt or interview is over, or it is graded), so a
    draft of one is not kept."""

    status = 409
