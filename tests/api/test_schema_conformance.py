"""The API does what its OpenAPI schema says (schemathesis, bounded and derandomized).

Every operation of /api/schema/ is called against the WSGI app, as a learner who has a practice
item, a graded submission and a quiz attempt, and as an instructor with a course, a quiz and a
regrade. Generated path ids are mostly swapped for the seeded ones, so the calls reach real
objects instead of 404s. Checks: no 5xx, every status code and content type documented, every
body matching its response schema, and invalid requests (negative mode) refused with a 4xx.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.world import seed_world

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Per operation and phase; derandomized, so each run sends the same requests.
BOUNDED = settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.fixture
def seeded(django_user_model):
    """A learner and an instructor with something of each kind the API serves; their ids."""
    world = seed_world(django_user_model)
    return {role: (AuthToken.objects.create(user=user)[1], ids) for role, (user, ids) in world.items()}


class Counted:
    """The WSGI app, counting the responses it gives by status (printed after the run)."""

    def __init__(self, app):
        self.app, self.statuses = app, Counter()

    def __call__(self, environ, start_response):
        def counting(status, headers, *args):
            self.statuses[int(status.split()[0])] += 1
            return start_response(status, headers, *args)

        return self.app(environ, counting)


@pytest.fixture
def api_schema(seeded, request):
    from quizsite.wsgi import application

    # As Django's test client does: keep the test's connection (and its transaction) open
    # across requests instead of closing it at the end of each one.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = Counted(application)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", app)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        print(f"\n{request.node.name}: {sum(app.statuses.values())} requests, by status {dict(sorted(app.statuses.items()))}")


schema = schemathesis.pytest.from_fixture("api_schema")


def aimed(case, ids: dict[str, int]) -> None:
    """Most generated ids become seeded ones; a few (and every malformed one) still probe 404s."""
    for name, value in (case.path_parameters or {}).items():
        if name in ids and isinstance(value, int) and value % 7 != 3:
            case.path_parameters[name] = ids[name]


def call(case, seeded, who: str) -> None:
    token, ids = seeded[who]
    aimed(case, ids)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_api_as_learner(case, seeded):
    call(case, seeded, "learner")


@schema.include(path_regex="^/api/v1/(courses|quizzes|regrades|attempts)").parametrize()
@BOUNDED
def test_api_as_instructor(case, seeded):
    call(case, seeded, "instructor")
