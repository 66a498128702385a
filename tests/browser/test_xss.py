"""Stored markup in titles, descriptions, options and answers renders as inert text on every page."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, sign_in
from tests.support.stack import User

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
IFRAME = "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>"

XSS_SURVEY: dict[str, Any] = {
    "title": f"Title {IMG}",
    "description": f"Description {SCRIPT} {SVG}",
    "questions": [
        {"type": "single_choice", "text": f"Choice {SVG}", "required": True, "options": [IMG, SCRIPT, SVG]},
        {"type": "multiple_choice", "text": f"Multi {IFRAME}", "options": [IFRAME, "plain"]},
        {"type": "text", "text": f"Text {SCRIPT}", "max_length": 500},
    ],
}
TYPED_ANSWER = f"{SCRIPT} {IMG} {SVG}"


@pytest.fixture(scope="module")
def xss_survey(browser_stack: BrowserStack, owner: User) -> dict[str, Any]:
    survey = browser_stack.create_survey(owner, XSS_SURVEY)
    stored = browser_stack.submit(survey["survey_id"], {"q1": SVG, "q2": [IFRAME], "q3": IMG})
    assert stored.status_code == 201, stored.text
    return survey


def injected_elements(page: Any) -> int:
    """Count elements that only the payloads could have created."""
    return page.evaluate("document.querySelectorAll('main img, main script, main svg:not([aria-hidden]), main iframe').length")


def test_xss_respondent_page_shows_payloads_as_text(page: Any, browser_stack: BrowserStack, xss_survey: dict[str, Any]) -> None:
    page.goto(browser_stack.page_url(f"respond.html?id={xss_survey['survey_id']}"))
    page.locator("#survey-title").wait_for()

    page.get_by_role("radio", name=SVG).check()
    page.get_by_label("3. Text").fill(TYPED_ANSWER)
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Thank you!").wait_for()

    assert page.evaluate("window.__xss") is None
    assert page.locator("#survey-title").inner_text() == XSS_SURVEY["title"]
    assert page.locator("#survey-description").inner_text() == XSS_SURVEY["description"]
    assert page.locator("label", has_text=IMG).count() == 1
    assert page.locator("label", has_text=IFRAME).count() == 1
    assert injected_elements(page) == 0


def test_xss_dashboard_shows_title_as_text(page: Any, browser_stack: BrowserStack, owner: User, xss_survey: dict[str, Any]) -> None:
    sign_in(page, browser_stack, owner)
    link = page.get_by_role("link", name=XSS_SURVEY["title"])
    link.first.wait_for()

    assert page.evaluate("window.__xss") is None
    assert link.first.inner_text() == XSS_SURVEY["title"]
    assert injected_elements(page) == 0


def test_xss_results_page_shows_payloads_as_text(page: Any, browser_stack: BrowserStack, owner: User, xss_survey: dict[str, Any]) -> None:
    sign_in(page, browser_stack, owner, next_page=f"survey.html?id={xss_survey['survey_id']}")
    page.locator("#responses-table tbody tr").first.wait_for()
    page.locator("#results .card").first.wait_for()

    assert page.evaluate("window.__xss") is None
    assert page.get_by_role("heading", level=1).inner_text() == XSS_SURVEY["title"]
    assert page.locator("#results").get_by_role("row", name=SCRIPT).count() == 1
    assert page.locator("#responses-table").get_by_text(IMG, exact=True).count() == 1
    assert page.locator("#responses-table").get_by_text(IFRAME, exact=True).count() == 1
    assert injected_elements(page) == 0


def test_xss_builder_shows_payloads_as_values(page: Any, browser_stack: BrowserStack, owner: User, xss_survey: dict[str, Any]) -> None:
    sign_in(page, browser_stack, owner, next_page=f"edit.html?id={xss_survey['survey_id']}")
    page.locator("#survey-form").wait_for()

    assert page.evaluate("window.__xss") is None
    assert page.get_by_label("Title").input_value() == XSS_SURVEY["title"]
    assert page.locator(".question-card").first.get_by_label("Option 3", exact=True).input_value() == SVG
    assert injected_elements(page) == 0
