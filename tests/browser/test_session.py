"""Sign-in state: reloads, silent token refresh, expiry and sign-in errors."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, sign_in
from tests.support.stack import User

pytestmark = pytest.mark.browser

LIST_LOADED = re.compile("Showing|no surveys yet")


def edit_session(page: Any, **changes: Any) -> None:
    """Change fields of the tab's stored session, as time or a revoked token would."""
    page.evaluate(
        """(changes) => {
            const session = JSON.parse(sessionStorage.getItem("survey.session"));
            sessionStorage.setItem("survey.session", JSON.stringify({ ...session, ...changes }));
        }""",
        changes,
    )


def test_session_expired_token_refreshes_silently(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    sign_in(page, browser_stack, owner)
    edit_session(page, expires_at=0)

    with page.expect_response("**/auth/refresh") as refreshed:
        page.reload()
    page.locator("#survey-list-status").get_by_text(LIST_LOADED).wait_for()

    assert refreshed.value.status == 200
    assert page.locator("#page-alert").inner_text() == ""


def test_session_rejected_token_refreshes_and_retries(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    sign_in(page, browser_stack, owner)
    edit_session(page, id_token="not-a-valid-token")

    with page.expect_response("**/auth/refresh"):
        page.reload()

    page.locator("#survey-list-status").get_by_text(LIST_LOADED).wait_for()
    assert page.locator("#page-alert").inner_text() == ""


def test_session_failed_refresh_returns_to_sign_in(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    sign_in(page, browser_stack, owner, next_page=f"survey.html?id={survey['survey_id']}")
    page.get_by_role("heading", name=survey["title"]).wait_for()
    edit_session(page, expires_at=0, refresh_token="revoked")

    page.reload()

    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.locator("#page-notice").inner_text() == "Your session has expired. Please sign in again."
    form = page.locator("#sign-in-view")
    form.get_by_label("Email").fill(owner.email)
    form.get_by_label("Password").fill(owner.password)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=survey["title"]).wait_for()


def test_session_wrong_password_shows_api_message(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    page.goto(browser_stack.page_url("index.html"))
    form = page.locator("#sign-in-view")
    form.get_by_label("Email").fill(owner.email)
    form.get_by_label("Password").fill("Wrong-password-1")

    with page.expect_response("**/auth/login") as login:
        form.get_by_role("button", name="Sign in").click()
    page.locator("#page-alert").get_by_text(login.value.json()["message"]).wait_for()

    text = page.locator("#page-alert").inner_text()
    assert login.value.status == 401
    assert "{" not in text
    assert "undefined" not in text


def test_session_tokens_stay_in_this_tab(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    sign_in(page, browser_stack, owner)

    stored = json.loads(page.evaluate("sessionStorage.getItem('survey.session')"))
    other_tab = page.context.new_page()
    other_tab.goto(browser_stack.page_url("index.html"))
    other_tab.get_by_role("heading", name="Sign in").wait_for()

    assert stored["email"] == owner.email
    assert page.evaluate("localStorage.length") == 0
    assert other_tab.get_by_role("heading", name="My surveys").is_hidden()


def test_session_next_page_must_be_on_this_site(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    sign_in(page, browser_stack, owner, next_page="https://example.com/phish.html")

    page.get_by_role("heading", name="My surveys").wait_for()
    assert page.url.startswith(browser_stack.website_url.rstrip("/"))
