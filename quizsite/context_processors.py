"""Template context every page needs: which links the navigation shows."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from questions.courses.services import can_create_courses


def navigation(request: HttpRequest) -> dict:
    # Lazy: pages that never render the navigation (JSON, fragments) cost no query.
    return {"can_author": SimpleLazyObject(lambda: can_create_courses(request.user))}
