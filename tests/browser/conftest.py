"""Fixtures of the browser suite: the stack, Chromium and pages that watch for CSP and script errors.

The suite runs against the offline stack started by the shared `stack`
fixture, or against an already deployed site when `SURVEY_API_URL` and
`SURVEY_WEBSITE_URL` are set.
"""
from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import StackUnderTest, User

BROWSER_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_DIR.parents[1]
AXE_SCRIPT = BROWSER_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}

# Collects CSP violations in the page, since Chromium reports them only as console text.
WATCH_CSP_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline code"));
});
"""

SAMPLE_SURVEY: dict[str, Any] = {
    "title": "Team offsite feedback",
    "description": "Tell us how the offsite went.",
    "questions": [
        {"type": "single_choice", "text": "Did you attend?", "required": True, "options": ["Yes", "No", "Partly"]},
        {"type": "multiple_choice", "text": "Which sessions did you like?", "options": ["Talks", "Workshops", "Dinner"]},
        {"type": "rating", "text": "Overall rating", "required": True, "min": 1, "max": 5},
        {"type": "number", "text": "How many hours did you travel?", "min": 0, "max": 48},
        {"type": "text", "text": "Anything else?", "max_length": 500},
    ],
}


@dataclass
class BrowserStack:
    """The API (for setup and checks) and the website the browser opens."""

    api: StackUnderTest
    website_url: str

    def page_url(self, page: str) -> str:
        return self.website_url.rstrip("/") + "/" + page

    def create_survey(self, user: User, body: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        payload = copy.deepcopy(body if body is not None else SAMPLE_SURVEY)
        payload.update(overrides)
        response = self.api.post("/survey/create", json=payload, headers=user.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def get_survey(self, user: User, survey_id: str) -> dict[str, Any]:
        response = self.api.get("/survey", params={"survey_id": survey_id}, headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def submit(self, survey_id: str, answers: dict[str, Any], key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.api.post("/survey/respond", json={"survey_id": survey_id, "answers": answers}, headers=headers)

    def set_status(self, user: User, survey_id: str, status: str) -> None:
        response = self.api.patch("/survey", params={"survey_id": survey_id}, json={"status": status}, headers=user.headers)
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def browser_stack(stack: StackUnderTest) -> BrowserStack:
    website_url = stack.outputs.get("website_url") or os.environ.get("SURVEY_WEBSITE_URL")
    if not website_url:
        pytest.skip("The browser tests need the website: set SURVEY_WEBSITE_URL for a deployed stack.")
    return BrowserStack(api=stack, website_url=website_url)


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """Errors a page raised: uncaught exceptions and CSP violations."""

    def __init__(self) -> None:
        self.page_errors: list[str] = []


@pytest.fixture
def open_page(playwright_browser: Any) -> Iterator[Callable[..., Any]]:
    """Return a factory of pages in fresh contexts. At the end, fail on any page's script errors or CSP violations."""
    opened: list[tuple[Any, Any, PageWatch]] = []

    def factory(viewport: str = "desktop", **context_options: Any) -> Any:
        context = playwright_browser.new_context(viewport=VIEWPORTS[viewport], **context_options)
        context.add_init_script(WATCH_CSP_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(20_000)
        watch = PageWatch()
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        opened.append((context, page, watch))
        return page

    yield factory

    problems: list[str] = []
    for context, page, watch in opened:
        problems += watch.page_errors
        if not page.is_closed():
            try:
                problems += page.evaluate("window.__cspViolations || []")
            except Exception as exc:  # the page may be mid-navigation at teardown
                problems.append(f"could not read CSP violations: {exc}")
        context.close()
    assert problems == []


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    return open_page("desktop")


@pytest.fixture(scope="session")
def owner(browser_stack: BrowserStack) -> User:
    return browser_stack.api.create_user("browser-owner")


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.skip(f"{AXE_SCRIPT} is missing: run `npm install` in tests/browser")
    return AXE_SCRIPT.read_text()


def run_axe(page: Any, axe_source: str) -> list[str]:
    """Run axe-core on the page and return one line per violation.

    `page.add_script_tag` inserts an inline script, which the site's CSP
    blocks, so the source runs through `page.evaluate` (DevTools protocol,
    outside the page's CSP) instead.
    """
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ` +
                v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
        }"""
    )
    return list(violations)


def save_screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def publish_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ for the README.

    An existing copy is replaced only when SURVEY_UPDATE_SCREENSHOTS=1, so a
    test run does not leave a changed tracked file behind.
    """
    target = REPO_ROOT / "docs" / "screenshots" / name
    if target.exists() and os.environ.get("SURVEY_UPDATE_SCREENSHOTS") != "1":
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def sign_in(page: Any, stack: BrowserStack, user: User, next_page: str | None = None) -> None:
    """Sign in through the form, as a person would."""
    url = stack.page_url("index.html") + (f"?next={next_page}" if next_page else "")
    page.goto(url)
    form = page.locator("#sign-in-view")
    form.get_by_label("Email").fill(user.email)
    form.get_by_label("Password").fill(user.password)
    form.get_by_role("button", name="Sign in").click()
    if next_page is None:
        page.get_by_role("heading", name="My surveys").wait_for()
