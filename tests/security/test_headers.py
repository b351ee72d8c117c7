"""Headers on every response (issue #11, finding 8): a Content-Security-Policy that lets only this
site's scripts run, a Permissions-Policy, and no caching of a signed-in user's pages, where
answers, marks and keys travel."""

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_csp_and_permissions_policy(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "camera=()" in response["Permissions-Policy"]


def test_a_signed_in_learners_pages_and_the_api_are_never_cached(client, learner, numeric_item):
    client.force_login(learner)
    for url in (f"/practice/items/{numeric_item.id}/", f"/api/v1/practice/items/{numeric_item.id}", "/"):
        cache = client.get(url)["Cache-Control"]
        assert "no-store" in cache and "private" in cache, url
