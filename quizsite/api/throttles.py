"""Request rates (DRF throttles, counted in Django's cache): one table of scopes, each with its
environment variable, its default rate and the URL names it covers, API and pages alike.

Only writes count, and the few reads that compute as much as a write (`costly_reads`). A signed-in
user is counted by account, an anonymous client by address (`client_address`, also django-axes'
rule). Over the rate: 429 with Retry-After, `{"detail": ...}` on the API, a page saying when to
try again on the site; the schema lists the 429s (`document_throttles`).

The API views need no code: `ScopeByUrlThrottle` is REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES and
picks the scope from the URL name. The pages get the same throttle from `PageThrottleMiddleware`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle, SimpleRateThrottle

from quizsite.env import env_str


@dataclass(frozen=True)
class Limit:
    env: str  # the environment variable that sets the rate
    default: str  # "<count>/<second|minute|hour|day>"
    url_names: tuple[str, ...]
    costly_reads: tuple[str, ...] = ()  # of url_names, those whose GET counts too: it computes as much


LIMITS: dict[str, Limit] = {
    # Token requests and password-reset mails, per client address (anonymous).
    "sign-in": Limit("THROTTLE_SIGN_IN", "10/minute", ("api-token", "password_reset")),
    # Answers sent, per learner: practice, quiz and mock-interview answers, API and pages; and
    # code run on a code exercise's examples ("Run examples"), which costs as much as an answer.
    "answers": Limit(
        "THROTTLE_ANSWERS", "60/minute",
        ("api-item-submissions", "api-attempt-answers", "practice-item", "attempt-answer", "mock-answer",
         "api-item-run", "practice-item-run"),
    ),
    # Items served, per learner: practice (by kind, by topic, runs), reviews, mock interviews.
    "items": Limit(
        "THROTTLE_ITEMS", "30/minute",
        ("api-items", "api-review-next", "practice-new", "practice-topic", "practice-run",
         "practice-run-next", "practice-run-skip", "review-start", "mock-start", "placement-start"),
    ),
    # Drafts saved while typing, per learner: about one a second while typing, debounced by drafts.js.
    "drafts": Limit("THROTTLE_DRAFTS", "240/minute", ("api-item-draft", "practice-item-draft")),
    # Accounts (per address), courses, quizzes, quiz previews, regrade previews and regrades, per user.
    "creations": Limit(
        "THROTTLE_CREATIONS", "100/hour",
        ("api-courses", "api-course-quizzes", "api-quiz-preview", "api-regrade-preview",
         "api-regrades", "course-create", "quiz-create", "quiz-preview", "quiz-regrade", "signup"),
        costly_reads=("api-regrade-preview", "quiz-regrade"),
    ),
}
PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}  # DRF reads a period's first letter
SCOPE_OF_URL: dict[str, str] = {name: scope for scope, limit in LIMITS.items() for name in limit.url_names}
COSTLY_READS: frozenset[str] = frozenset(name for limit in LIMITS.values() for name in limit.costly_reads)


def counted(url_name: str | None, method: str) -> bool:
    """Whether a request to this URL name with this method counts against its scope's rate."""
    if url_name not in SCOPE_OF_URL:
        return False
    return method not in SAFE_METHODS or (method == "GET" and url_name in COSTLY_READS)


def _rate(limit: Limit) -> str:
    rate = env_str(limit.env, limit.default).strip()
    count, _, period = rate.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in PERIODS):
        raise ImproperlyConfigured(
            f"{limit.env}={rate!r} is not a rate: use <count>/<second|minute|hour|day>, e.g. {limit.default}."
        )
    return rate


# Read once, at start-up (this module is loaded with the middleware); tests replace entries.
RATES: dict[str, str] = {scope: _rate(limit) for scope, limit in LIMITS.items()}


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or the one REST_FRAMEWORK["NUM_PROXIES"] trusted
    proxies reported in X-Forwarded-For."""
    return BaseThrottle().get_ident(request)


class ScopeByUrlThrottle(ScopedRateThrottle):
    """ScopedRateThrottle with the scope found from the URL name (`LIMITS`), not on the view."""

    THROTTLE_RATES = RATES

    def allow_request(self, request, view) -> bool:
        match = request.resolver_match
        url_name = match.url_name if match is not None else None
        if not counted(url_name, request.method):
            return True
        self.scope = SCOPE_OF_URL[url_name]
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_ident(self, request) -> str:
        return client_address(request)


def too_many_requests(request: HttpRequest, message: str, retry_after: float | None) -> HttpResponse:
    """429 with Retry-After: `{"detail": ...}` under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        context = {"heading": "Too many requests", "message": message}
        response = TemplateResponse(request, "error.html", context, status=429).render()
    response["Retry-After"] = str(_seconds(retry_after))
    return response


def _seconds(wait: float | None) -> int:
    return max(1, math.ceil(wait or 1))


class PageThrottleMiddleware:
    """The API's throttle on the pages' forms (the API's views throttle themselves)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        throttle = ScopeByUrlThrottle()
        if throttle.allow_request(request, None):
            return None
        wait = throttle.wait()
        count, _, period = throttle.rate.partition("/")
        return too_many_requests(
            request,
            f"That is more than {count} per {PERIODS[period[0]]}, so it was not sent. "
            f"Try again in {_seconds(wait)} seconds.",
            wait,
        )


THROTTLED = {
    "description": "Too many requests: over this scope's rate (README \"Limits\")",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_throttles(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: a 429 on every operation a throttle can refuse, so the
    schema states every status (the views' own `extend_schema` need not repeat it)."""
    for path, operations in result.get("paths", {}).items():
        try:
            match = resolve(re.sub(r"\{[^}/]+\}", "1", path))
        except Resolver404:
            continue
        for method, operation in operations.items():
            if counted(match.url_name, method.upper()) and "responses" in operation:
                operation["responses"].setdefault("429", THROTTLED)
    return result
