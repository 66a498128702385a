"""axe-core on every page and state, at phone and desktop size, with a screenshot of each."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, publish_screenshot, run_axe, save_screenshot, sign_in
from tests.support.stack import User

pytestmark = pytest.mark.browser

RESULTS_SURVEY: dict[str, Any] = {
    "title": "Team offsite feedback",
    "description": "Tell us how the offsite in Lisbon went, so the next one is even better.",
    "questions": [
        {"type": "single_choice", "text": "Did you attend?", "required": True, "options": ["Yes", "No", "Partly"]},
        {"type": "multiple_choice", "text": "Which sessions did you like?", "options": ["Talks", "Workshops", "Dinner", "Hike"]},
        {"type": "rating", "text": "Overall rating", "required": True, "min": 1, "max": 5},
        {"type": "number", "text": "How many hours did you travel?", "min": 0, "max": 48},
        {"type": "text", "text": "Anything else?", "max_length": 500},
    ],
}
RESULTS_ANSWERS: list[dict[str, Any]] = [
    {"q1": "Yes", "q2": ["Talks", "Dinner"], "q3": 5, "q4": 2.5, "q5": "Great food, more hiking please."},
    {"q1": "Yes", "q2": ["Workshops"], "q3": 4, "q4": 6, "q5": "The workshops were the best part."},
    {"q1": "Partly", "q2": ["Talks", "Hike"], "q3": 4, "q4": 1},
    {"q1": "Yes", "q2": ["Dinner", "Hike"], "q3": 3, "q4": 3.5, "q5": "Shorter talks next time."},
    {"q1": "No", "q2": [], "q3": 2},
    {"q1": "Yes", "q2": ["Talks", "Workshops", "Dinner"], "q3": 5, "q4": 4},
]


@pytest.fixture(scope="module")
def results_survey(browser_stack: BrowserStack, owner: User) -> dict[str, Any]:
    survey = browser_stack.create_survey(owner, RESULTS_SURVEY)
    for answers in RESULTS_ANSWERS:
        response = browser_stack.submit(survey["survey_id"], answers)
        assert response.status_code == 201, response.text
    return survey


@pytest.fixture(scope="module")
def closed_survey(browser_stack: BrowserStack, owner: User) -> dict[str, Any]:
    survey = browser_stack.create_survey(owner, title="Last year's retro")
    browser_stack.set_status(owner, survey["survey_id"], "closed")
    return survey


def show_sign_in(page: Any, stack: BrowserStack, **_: Any) -> None:
    page.goto(stack.page_url("index.html"))
    page.get_by_role("heading", name="Sign in").wait_for()


def show_sign_up_errors(page: Any, stack: BrowserStack, **_: Any) -> None:
    page.goto(stack.page_url("index.html"))
    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#sign-up-view")
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create account").click()
    page.locator(".field-error").first.wait_for()


def show_dashboard(page: Any, stack: BrowserStack, owner: User, **_: Any) -> None:
    sign_in(page, stack, owner)
    page.locator("#survey-list li").first.wait_for()


def show_builder(page: Any, stack: BrowserStack, owner: User, **_: Any) -> None:
    sign_in(page, stack, owner, next_page="edit.html")
    page.get_by_role("heading", name="New survey").wait_for()
    page.get_by_label("Type of the new question").select_option(label="Rating")
    page.get_by_role("button", name="Add question").click()
    page.get_by_role("button", name="Create survey").click()
    page.locator(".field-error").first.wait_for()


def show_locked_editor(page: Any, stack: BrowserStack, owner: User, results_survey: dict[str, Any], **_: Any) -> None:
    sign_in(page, stack, owner, next_page=f"edit.html?id={results_survey['survey_id']}")
    page.locator("#survey-form").wait_for()


def show_results(page: Any, stack: BrowserStack, owner: User, results_survey: dict[str, Any], **_: Any) -> None:
    sign_in(page, stack, owner, next_page=f"survey.html?id={results_survey['survey_id']}")
    page.locator("#responses-table tbody tr").first.wait_for()
    page.locator("#results .card").first.wait_for()


def show_respond(page: Any, stack: BrowserStack, results_survey: dict[str, Any], **_: Any) -> None:
    page.goto(stack.page_url(f"respond.html?id={results_survey['survey_id']}"))
    page.get_by_role("button", name="Submit").click()
    page.locator(".field-error").first.wait_for()


def show_thanks(page: Any, stack: BrowserStack, results_survey: dict[str, Any], **_: Any) -> None:
    page.goto(stack.page_url(f"respond.html?id={results_survey['survey_id']}"))
    page.get_by_role("radio", name="Partly").check()
    page.get_by_role("group", name="3. Overall rating").get_by_role("radio", name="3").check()
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Thank you!").wait_for()


def show_closed(page: Any, stack: BrowserStack, closed_survey: dict[str, Any], **_: Any) -> None:
    page.goto(stack.page_url(f"respond.html?id={closed_survey['survey_id']}"))
    page.get_by_role("heading", name="This survey is closed").wait_for()


PAGES: dict[str, Callable[..., None]] = {
    "sign-in": show_sign_in,
    "sign-up-errors": show_sign_up_errors,
    "dashboard": show_dashboard,
    "builder-errors": show_builder,
    "editor-locked": show_locked_editor,
    "results": show_results,
    "respond-errors": show_respond,
    "respond-thanks": show_thanks,
    "respond-closed": show_closed,
}


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_axe_violations(
    name: str,
    viewport: str,
    open_page: Any,
    axe_source: str,
    browser_stack: BrowserStack,
    owner: User,
    results_survey: dict[str, Any],
    closed_survey: dict[str, Any],
) -> None:
    page = open_page(viewport)
    PAGES[name](page, browser_stack, owner=owner, results_survey=results_survey, closed_survey=closed_survey)

    screenshot = save_screenshot(page, f"{name}-{viewport}")
    if name == "results" and viewport == "desktop":
        publish_screenshot(screenshot, "results.png")

    assert run_axe(page, axe_source) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
