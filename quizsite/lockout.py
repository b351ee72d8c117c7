"""Sign-in lockout (django-axes) on every password check: the login form, the admin login and the
API's auth/token. Its settings are AXES_* in settings.py (README "Limits")."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse

from quizsite.api.throttles import too_many_requests


class LockoutBackend(AxesStandaloneBackend, ModelBackend):
    """Refuses a locked-out client (PermissionDenied), then checks the password as ModelBackend.

    One backend, not axes' pair of two, so `login(request, user)` after sign-up still knows which
    backend the user came from."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        AxesStandaloneBackend.authenticate(self, request, username, password, **kwargs)
        return ModelBackend.authenticate(self, request, username, password, **kwargs)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After, the cool-off (every failure restarts it)."""
    cool_off = get_cool_off(request)
    seconds = cool_off.total_seconds() if cool_off else None
    minutes = round(seconds / 60) if seconds else None
    message = (
        "Too many failed sign-ins for this account from your address. "
        + (f"Try again in {minutes} minutes" if minutes else "Try again later")
        + (", or reset your password." if not request.path.startswith("/api/") else ".")
    )
    return too_many_requests(request, message, seconds)
