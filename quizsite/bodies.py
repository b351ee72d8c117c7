"""Reading a JSON request body with bounds, for the API and the pages' JSON endpoints alike.

The size is checked before anything is parsed, and the nesting after: a 100 MB body was parsed
whole (+262 MB kept by the web worker), and deeply nested JSON raised `RecursionError` (a 500),
on the anonymous token endpoint too.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse

MAX_JSON_DEPTH = 32  # the deepest body the API takes is an answer's grid: 4 levels


class BodyError(Exception):
    """A body refused before it reaches a view: `status` 400 or 413, `message` for the client."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def max_body_bytes() -> int:
    return settings.API_MAX_BODY_BYTES


def declared_length(meta) -> int | None:
    """The Content-Length a request declares, when it declares a plain number."""
    value = str(meta.get("CONTENT_LENGTH") or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def read_bounded(stream, declared_length: int | None) -> bytes:
    """At most `max_body_bytes()` of the stream; a longer (or longer-declared) body is a 413."""
    limit = max_body_bytes()
    if declared_length is not None and declared_length > limit:
        raise BodyError(f"The body is larger than {limit:,} bytes.", status=413)
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise BodyError(f"The body is larger than {limit:,} bytes.", status=413)
    return raw


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed value (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def load_json(raw: bytes) -> Any:
    """Parse a body already read within the size bound; 400 for bad or too deeply nested JSON."""
    if len(raw) > max_body_bytes():
        raise BodyError(f"The body is larger than {max_body_bytes():,} bytes.", status=413)
    try:
        value = json.loads(raw.decode("utf-8") if raw else "")
    except RecursionError:
        raise BodyError(f"The JSON nests more than {MAX_JSON_DEPTH} levels deep.") from None
    except (UnicodeDecodeError, ValueError):
        raise BodyError("The body must be JSON.") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise BodyError(f"The JSON nests more than {MAX_JSON_DEPTH} levels deep.")
    return value


# Paths that take a question file (GIFT or Moodle XML): their own, larger cap.
UPLOAD_PATHS = ("/author/import",)


def body_cap(path: str) -> int:
    """The largest body a request to `path` may declare: `QUESTION_UPLOAD_MAX_BYTES` for the
    question-file import, `API_MAX_BODY_BYTES` for everything else (forms and the API)."""
    if path.startswith(UPLOAD_PATHS):
        return settings.QUESTION_UPLOAD_MAX_BYTES
    return settings.API_MAX_BODY_BYTES


class BodySizeMiddleware:
    """Refuse (413) a request whose declared body is over its cap before any view, form parser or
    upload handler reads a byte of it. A body without a Content-Length reads as empty in Django's
    WSGI request, so the declared length is the one to check."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        length = declared_length(request.META)
        cap = body_cap(request.path_info)
        if length is not None and length > cap:
            message = f"The body is larger than {cap:,} bytes."
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
