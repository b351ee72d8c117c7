"""Headless Chromium (Debian's) driven by Playwright; screenshots kept under test-artifacts/."""

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, service_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        service_missing(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous, so the async-safety guard does not apply here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def log_in(page, base: str, username: str = "ada", password: str = "s3cret-pass-word") -> None:
    """Log in through the real form (the `learner` fixture's credentials by default)."""
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.fixture
def numeric_kinds_only(monkeypatch):
    """Topic practice and mock interviews draw numeric problem kinds only (not code exercises,
    which have browser tests of their own): for tests that type numbers into the grid."""
    from attention_engine.api import is_code_kind
    from questions.learning import services as learning_services
    from questions.practice import services as practice_services

    for module in (learning_services, practice_services):
        original = module.kinds_for_topics
        monkeypatch.setattr(module, "kinds_for_topics",
                            lambda slugs, original=original: [k for k in original(slugs) if not is_code_kind(k)])
