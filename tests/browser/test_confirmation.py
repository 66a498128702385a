"""Sign-up on a stack that requires the emailed code (`signup_requires_code: true` in config.json)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, run_axe
from tests.support.stack import TEST_PASSWORD, StackUnderTest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def confirming_stack() -> Iterator[BrowserStack]:
    """A second offline stack started with --require-confirmation."""
    if os.environ.get("SURVEY_API_URL"):
        pytest.skip("needs the offline stack, started here with --require-confirmation")
    from tests.support.offline import start_offline_stack, stop_process

    # In-memory state: this stack must not compete for the data folder's lock with the session's stack.
    process, edge_url, log_path = start_offline_stack(
        "offline-stack-confirmation", ["--require-confirmation", "--no-persist"]
    )
    try:
        api = StackUnderTest.from_edge(edge_url, log_path=log_path)
        yield BrowserStack(api=api, website_url=api.outputs["website_url"])
    finally:
        stop_process(process)


def start_sign_up(page: Any, stack: BrowserStack, email: str) -> None:
    page.goto(stack.page_url("index.html"))
    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#sign-up-view")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(TEST_PASSWORD)
    form.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Confirm your email").wait_for()


def test_confirmation_view_has_no_axe_violations(page: Any, confirming_stack: BrowserStack, axe_source: str) -> None:
    start_sign_up(page, confirming_stack, confirming_stack.api.new_email("axe"))

    assert run_axe(page, axe_source) == []


def test_confirmation_code_signs_in(page: Any, confirming_stack: BrowserStack) -> None:
    email = confirming_stack.api.new_email("confirm")
    start_sign_up(page, confirming_stack, email)

    page.get_by_label("Confirmation code").fill(confirming_stack.api.latest_code(email))
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name="My surveys").wait_for()
    assert page.locator("#account-email").inner_text() == email


def test_confirmation_wrong_code_shown_by_field(page: Any, confirming_stack: BrowserStack) -> None:
    email = confirming_stack.api.new_email("wrong-code")
    start_sign_up(page, confirming_stack, email)
    right_code = confirming_stack.api.latest_code(email)
    wrong_code = "000000" if right_code != "000000" else "111111"

    page.get_by_label("Confirmation code").fill(wrong_code)

    with page.expect_response("**/auth/confirm") as confirm:
        page.get_by_role("button", name="Confirm").click()
    error = page.locator("#confirm-code-error")
    error.wait_for()

    message = confirm.value.json()["message"]
    assert error.inner_text() == message[0].upper() + message[1:]
    assert page.get_by_label("Confirmation code").get_attribute("aria-invalid") == "true"


def test_confirmation_unconfirmed_sign_in_asks_for_code(page: Any, confirming_stack: BrowserStack) -> None:
    email = confirming_stack.api.new_email("later")
    signup = confirming_stack.api.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    assert signup.status_code == 201, signup.text
    page.goto(confirming_stack.page_url("index.html"))
    form = page.locator("#sign-in-view")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(TEST_PASSWORD)
    form.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", name="Confirm your email").wait_for()
    page.get_by_label("Confirmation code").fill(confirming_stack.api.latest_code(email))
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name="My surveys").wait_for()
    assert page.locator("#account-email").inner_text() == email
