"""The pages' one error handler: refusals are pages in the site's layout with their status."""

import pytest
from django.test import RequestFactory

from questions import errors
from quizsite.middleware import DomainErrorMiddleware
from tests.courses.conftest import course, enrolled, instructor, learners  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_a_learner_opening_the_gradebook_gets_a_403_page_in_the_site_layout(client, course, enrolled):  # noqa: F811
    client.force_login(enrolled[0])
    response = client.get(f"/courses/{course.id}/gradebook")
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in page and "Your role in this course does not allow this." in page
    assert 'href="/"' in page and "<nav" in page  # the site's navigation, not a bare 403


def test_a_learner_opening_the_authoring_pages_is_told_who_may(client, enrolled):  # noqa: F811
    client.force_login(enrolled[0])
    response = client.get("/author/")
    assert response.status_code == 403
    assert "Ask an administrator to add you to the instructors group." in response.content.decode()


@pytest.mark.parametrize(
    ("error", "status"),
    [(errors.ServiceError("No."), 400), (errors.AttemptClosed("Too late."), 409),
     (errors.ServiceUnavailable("The worker did not answer."), 503)],
)
def test_a_domain_refusal_a_page_does_not_handle_is_a_page_with_its_status(error, status, enrolled):  # noqa: F811
    request = RequestFactory().get("/quizzes/1/")
    request.user = enrolled[0]
    response = DomainErrorMiddleware(lambda r: None).process_exception(request, error)
    assert response.status_code == status
    assert error.message in response.content.decode()
    assert (response.get("Retry-After") is not None) == (status == 503)


def test_the_api_keeps_its_own_handler(enrolled):  # noqa: F811
    request = RequestFactory().get("/api/v1/quizzes/1")
    request.user = enrolled[0]
    assert DomainErrorMiddleware(lambda r: None).process_exception(request, errors.ServiceError("No.")) is None
