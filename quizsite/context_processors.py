"""Template context every page needs: which links the navigation shows."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from questions.roles import is_instructor


def navigation(request: HttpRequest) -> dict:
    # Lazy: pages that never render the navigation (JSON, fragments) cost no query.
    return {"can_author": SimpleLazyObject(lambda: is_instructor(request.user))}
