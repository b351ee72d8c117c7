"""What every API view shares: JSON bodies only, the one error handler (domain refusals with their
status, validation errors with the field they are about), and the Idempotency-Key header."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import DatabaseError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox import views as knox_views
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from questions import errors
from quizsite.bodies import BodyError, declared_length, load_json, read_bounded
from quizsite.middleware import DATABASE_DOWN, RETRY_AFTER_SECONDS

from . import serializers as s


def _messages(detail: Any, path: str = "") -> list[str]:
    """A validation error's messages, each after the field it is about (`sections.0.kind: ...`)."""
    if isinstance(detail, dict):
        return [m for key, value in detail.items()
                for m in _messages(value, path if key == "non_field_errors" else f"{path}{key}.")]
    if isinstance(detail, list):
        if all(isinstance(v, str) for v in detail):
            return [f"{path[:-1]}: {v}" if path else str(v) for v in detail]
        return [m for i, value in enumerate(detail) for m in _messages(value, f"{path}{i}.")]
    return [f"{path[:-1]}: {detail}" if path else str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal has the shape of `serializers.ErrorSerializer`: domain refusals their status
    (`ServiceError.status`) with a message, and per-cell details for unreadable answers; a body
    that does not match the request schema 400 with its messages per field; 404s stay 404."""
    if isinstance(exc, errors.AnswerFormatError):
        body = {"detail": exc.message, "format_errors": exc.details}
        return Response(s.ErrorSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, errors.ServiceError):  # 400; 409 for a closed attempt; 503 worker down
        response = Response(s.ErrorSerializer({"detail": exc.message}).data, status=exc.status)
        if exc.status in (202, 503):  # not ready (Preparing) or not available: when to ask again
            response["Retry-After"] = str(getattr(exc, "retry_after", RETRY_AFTER_SECONDS))
        return response
    if isinstance(exc, DatabaseError):  # the database went away mid-request: nothing was stored
        response = Response(s.ErrorSerializer({"detail": DATABASE_DOWN}).data, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.ValidationError):
        body = {"detail": " ".join(_messages(exc.detail)) or "Invalid input.", "errors": exc.detail}
        return Response(s.ErrorSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "too_large"


class BoundedJSONParser(JSONParser):
    """JSON bodies within `quizsite.bodies`' bounds: the size before parsing, then the nesting."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        try:
            raw = read_bounded(stream, declared_length(request.META) if request is not None else None)
            return load_json(raw)
        except BodyError as exc:
            if exc.status == 413:
                raise BodyTooLarge(exc.message) from None
            raise exceptions.ParseError(exc.message) from None


class JsonView(APIView):
    """An API view: bodies are JSON (a nested answer has no form encoding), within bounds."""

    parser_classes = [BoundedJSONParser]


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "maxLength": s.MAX_IDEMPOTENCY_KEY}, OpenApiParameter.HEADER,
    required=False, description="The same key again returns the first submission; nothing is counted twice",
)


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > s.MAX_IDEMPOTENCY_KEY:
        raise errors.ServiceError(f"Idempotency-Key is longer than {s.MAX_IDEMPOTENCY_KEY} characters.")
    return key


class IssuedTokenSerializer(s.ViewSerializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown once, stored hashed")
    expiry = serializers.DateTimeField(help_text="After this the token is refused (401); sign in again")


WRONG_CREDENTIALS = "Unable to log in with the username and password given."
TOO_MANY = OpenApiResponse(
    s.ErrorSerializer, description="Too many requests, or too many failed sign-ins (see Retry-After)"
)


class ObtainToken(knox_views.LoginView):
    """POST username and password, get a new token (one per sign-in, so one per device) that
    expires after API_TOKEN_TTL_HOURS. The password is checked through `authenticate(request=...)`,
    so django-axes counts failures and refuses a locked-out client (429)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = APIView.renderer_classes
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=s.TokenRequestSerializer, auth=[],
        responses={200: IssuedTokenSerializer, 400: OpenApiResponse(s.ErrorSerializer, description="Wrong credentials"),
                   415: OpenApiResponse(s.ErrorSerializer, description="The body is not JSON"), 429: TOO_MANY},
    )
    def post(self, request, format=None):
        body = s.TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Django's request, not DRF's wrapper: axes marks a lockout on it for its middleware.
        user = authenticate(request._request, **body.validated_data)
        if user is None or not user.is_active:
            raise exceptions.ValidationError(WRONG_CREDENTIALS)
        request.user = user
        return Response(IssuedTokenSerializer(super().post(request, format).data).data)


SIGNED_OUT = {204: OpenApiResponse(description="Revoked"),
              401: OpenApiResponse(s.ErrorSerializer, description="No valid token")}


class RevokeToken(knox_views.LogoutView):
    """Revokes the token this request is signed with; the user's other devices stay signed in."""

    @extend_schema(request=None, responses=SIGNED_OUT)
    def post(self, request, format=None):
        return super().post(request, format)


class RevokeAllTokens(knox_views.LogoutAllView):
    """Revokes every token of the user: every device must sign in again."""

    @extend_schema(request=None, responses=SIGNED_OUT)
    def post(self, request, format=None):
        return super().post(request, format)
