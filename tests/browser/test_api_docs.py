"""The API documentation page: Swagger UI served from this site (no CDN), under the site's
Content-Security-Policy, listing the operations of the schema."""

import pytest

pytestmark = [pytest.mark.browser]


def test_the_api_docs_page_lists_the_operations_without_a_csp_violation(page, live_server):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside = []
    page.on("request", lambda request: request.url.startswith(live_server.url) or outside.append(request.url))
    response = page.goto(f"{live_server.url}/api/docs/")
    assert response.status == 200 and "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock", timeout=30_000)
    text = page.inner_text("#swagger-ui")
    assert "Attention quiz API" in text
    assert "/api/v1/practice/items/{item_id}/submissions" in text and "/api/v1/practice/items/{item_id}/run" in text
    assert page.locator(".opblock").count() >= 30
    assert not problems, problems
    assert not [url for url in outside if not url.startswith(("data:", "blob:"))], outside
