"""API and network failures on the owner pages read as plain messages."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, sign_in
from tests.support.stack import User

pytestmark = pytest.mark.browser

CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type"}


def assert_readable(text: str) -> None:
    assert text.strip() != ""
    assert "{" not in text
    assert "undefined" not in text
    assert "[object" not in text


def test_errors_unreachable_api_on_dashboard(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    sign_in(page, browser_stack, owner)
    page.route("**/surveys?*", lambda route: route.abort("connectionrefused"))

    page.reload()

    alert = page.locator("#page-alert")
    alert.get_by_text("The service could not be reached.").wait_for()
    assert_readable(alert.inner_text())


def test_errors_missing_survey_shows_api_message(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    missing = uuid.uuid4()
    with page.expect_response("**/survey?*") as lookup:
        sign_in(page, browser_stack, owner, next_page=f"survey.html?id={missing}")
    page.locator("#page-alert:not(:empty)").wait_for()

    assert lookup.value.status == 404
    assert page.locator("#page-alert").inner_text() == lookup.value.json()["message"]


def test_errors_server_failure_without_json_body(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    sign_in(page, browser_stack, owner, next_page=f"survey.html?id={survey['survey_id']}")
    page.get_by_role("switch", name="Accepting responses").wait_for()

    def fail(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers={**CORS_HEADERS, "Access-Control-Allow-Methods": "PATCH"})
        else:
            route.fulfill(status=502, headers=CORS_HEADERS, content_type="text/html", body="<html>Bad Gateway</html>")

    page.route("**/survey?*", fail)
    page.get_by_role("switch", name="Accepting responses").click()

    alert = page.locator("#page-alert")
    alert.get_by_text("The service failed (HTTP 502). Try again in a moment.").wait_for()
    assert_readable(alert.inner_text())
    assert page.get_by_role("switch", name="Accepting responses").get_attribute("aria-checked") == "true"


def test_errors_full_survey_explained_to_owner(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner, max_responses=1)
    assert browser_stack.submit(survey["survey_id"], {"q1": "Yes", "q3": 4}).status_code == 201
    sign_in(page, browser_stack, owner, next_page=f"survey.html?id={survey['survey_id']}")

    hint = page.locator("#status-switch-hint")
    hint.get_by_text("The response limit is reached").wait_for()

    assert page.get_by_role("switch", name="Accepting responses").get_attribute("aria-checked") == "true"
