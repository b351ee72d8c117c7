"""The pages' one error handler: a domain refusal (`questions.errors.ServiceError`) that a page
does not turn into a form message itself becomes a page with the refusal's message and status
(400; 409 for a closed attempt or interview; 503 when the worker does not answer, with
Retry-After). Django's own handlers render 403.html, 404.html and 500.html in the same layout.
The API has its own (`quizsite.api.base.exception_handler`), with the same statuses.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from questions.errors import ServiceError

HEADINGS = {409: "Too late for that", 503: "Not available right now"}
RETRY_AFTER_SECONDS = 5


class DomainErrorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ServiceError) or request.path.startswith("/api/"):
            return None
        context = {"heading": HEADINGS.get(exception.status, "That did not work"), "message": exception.message}
        response = TemplateResponse(request, "error.html", context, status=exception.status)
        if exception.status == 503:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response.render()
