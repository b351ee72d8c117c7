"""The pages' one error handler, and the headers every response carries.

The error handler: a domain refusal (`questions.errors.ServiceError`) that a page
does not turn into a form message itself becomes a page with the refusal's message and status
(400; 409 for a closed attempt or interview; 503 when the worker does not answer, with
Retry-After). Django's own handlers render 403.html, 404.html and 500.html in the same layout.
The API has its own (`quizsite.api.base.exception_handler`), with the same statuses.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from questions.errors import ServiceError

HEADINGS = {409: "Too late for that", 503: "Not available right now"}
RETRY_AFTER_SECONDS = 5
DATABASE_DOWN = (
    "The database did not answer, so nothing was stored. Try again in a few seconds: an answer "
    "sent with its Idempotency-Key (the pages send one) is counted once."
)
# No page uses these; a script injected into one could not either.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class DomainErrorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, DatabaseError):  # connections dropped mid-request: 503, not 500
            exception = ServiceError(DATABASE_DOWN)
            exception.status = 503
        if not isinstance(exception, ServiceError):
            return None
        context = {"heading": HEADINGS.get(exception.status, "That did not work"), "message": exception.message}
        response = TemplateResponse(request, "error.html", context, status=exception.status)
        if exception.status == 503:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response.render()


class PrivateResponsesMiddleware:
    """A signed-in user's pages carry their answers, marks and, when due, keys: no cache keeps
    them (`Cache-Control: no-store, private`). Every response says which browser features no page
    uses (Permissions-Policy). Static files are served before this middleware runs."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            patch_cache_control(response, no_store=True, private=True)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
