"""An owner's whole journey through the pages, from sign-up to deleting the survey."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack
from tests.support.stack import TEST_PASSWORD

pytestmark = pytest.mark.browser


def sign_up(page: Any, stack: BrowserStack, email: str) -> None:
    page.goto(stack.page_url("index.html"))
    page.get_by_role("button", name="Create an account").click()
    form = page.locator("#sign-up-view")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(TEST_PASSWORD)
    form.get_by_role("button", name="Create account").click()
    confirm = page.get_by_role("heading", name="Confirm your email")
    dashboard = page.get_by_role("heading", name="My surveys")
    confirm.or_(dashboard).wait_for()
    if confirm.is_visible():
        page.get_by_label("Confirmation code").fill(stack.api.latest_code(email))
        page.get_by_role("button", name="Confirm").click()
    dashboard.wait_for()


def build_survey(page: Any) -> None:
    """Fill the builder with every question type, then reorder and remove questions."""
    page.get_by_role("link", name="Create a survey").click()
    page.get_by_role("heading", name="New survey").wait_for()
    page.get_by_label("Title").fill("Lunch survey")
    page.get_by_label("Description (optional)").fill("Help us pick next week's lunch.")

    first = page.locator(".question-card").nth(0)
    first.get_by_label("Question text").fill("Which main course?")
    first.get_by_label("Option 1", exact=True).fill("Pasta")
    first.get_by_label("Option 2", exact=True).fill("Curry")
    first.get_by_role("button", name="Add option").click()
    first.get_by_label("Option 3", exact=True).fill("Salad")
    first.get_by_label("An answer is required").check()

    additions = [
        ("Text", "Temporary question"),
        ("Multiple choice", "Which drinks?"),
        ("Rating", "How hungry are you?"),
        ("Number", "How many guests will you bring?"),
        ("Text", "Any allergies?"),
    ]
    for type_label, text in additions:
        page.get_by_label("Type of the new question").select_option(label=type_label)
        page.get_by_role("button", name="Add question").click()
        page.locator(".question-card").last.get_by_label("Question text").fill(text)

    drinks = page.locator(".question-card").nth(2)
    drinks.get_by_label("Option 1", exact=True).fill("Water")
    drinks.get_by_label("Option 2", exact=True).fill("Juice")
    guests = page.locator(".question-card").nth(4)
    guests.get_by_label("Minimum (optional)").fill("0")
    guests.get_by_label("Maximum (optional)").fill("10")

    page.get_by_role("button", name="Remove question 2").click()
    page.get_by_role("button", name="Move up question 3").click()
    page.get_by_label("Response limit (optional)").fill("50")
    page.get_by_role("button", name="Create survey").click()


def respond(page: Any, url: str, main: str, drinks: list[str], rating: str) -> None:
    page.goto(url)
    page.get_by_role("radio", name=main).check()
    for drink in drinks:
        page.get_by_role("checkbox", name=drink).check()
    page.get_by_role("group", name="2. How hungry are you?").get_by_role("radio", name=rating).check()
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Thank you!").wait_for()


def test_owner_journey_from_sign_up_to_delete(open_page: Any, browser_stack: BrowserStack, tmp_path: Path) -> None:
    page = open_page("desktop", permissions=["clipboard-read", "clipboard-write"])
    email = browser_stack.api.new_email("journey")

    sign_up(page, browser_stack, email)
    page.get_by_text("You have no surveys yet.").wait_for()

    page.reload()
    page.get_by_role("heading", name="My surveys").wait_for()
    assert page.locator("#account-email").inner_text() == email

    build_survey(page)
    page.get_by_role("heading", name="Lunch survey").wait_for()
    assert "The survey was created." in page.locator("#page-notice").inner_text()
    survey_id = page.url.split("id=")[1].split("&")[0]
    stored = [(q["type"], q["text"]) for q in browser_stack.get_survey(browser_user(browser_stack, email), survey_id)["questions"]]
    assert stored == [
        ("single_choice", "Which main course?"),
        ("rating", "How hungry are you?"),
        ("multiple_choice", "Which drinks?"),
        ("number", "How many guests will you bring?"),
        ("text", "Any allergies?"),
    ]

    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Link copied to the clipboard.").wait_for()
    share_link = page.get_by_label("Public link for respondents (no account needed)").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == share_link

    respondent = open_page("phone")
    respond(respondent, share_link, "Curry", ["Water", "Juice"], "5")
    respond(respondent, share_link, "Curry", ["Water"], "3")

    page.reload()
    results = page.locator("#results .card").first
    results.get_by_role("row", name="Curry").wait_for()
    assert results.get_by_role("row", name="Curry").inner_text().split() == ["Curry", "2", "100%"]
    assert page.locator("#results .card").nth(1).locator(".stats").inner_text().split() == [
        "Average", "4", "Lowest", "3", "Highest", "5"
    ]
    page.locator("#responses-table tbody tr").nth(1).wait_for()
    assert page.locator("#responses-table tbody tr").count() == 2

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "lunch-survey-responses.csv"
    saved = tmp_path / "export.csv"
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert len(rows) == 3
    assert rows[0][:2] == ["response_id", "submitted_at"]

    switch = page.get_by_role("switch", name="Accepting responses")
    switch.click()
    page.get_by_text("The survey is closed.").wait_for()
    assert switch.get_attribute("aria-checked") == "false"
    respondent.goto(share_link)
    respondent.get_by_role("heading", name="This survey is closed").wait_for()
    switch.click()
    page.get_by_text("The survey is open again.").wait_for()
    assert switch.get_attribute("aria-checked") == "true"

    page.get_by_role("button", name="Delete survey").click()
    dialog = page.get_by_role("dialog", name="Delete this survey?")
    assert "2 responses will be deleted" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert dialog.is_hidden()
    page.get_by_role("button", name="Delete survey").click()
    dialog.get_by_role("button", name="Delete permanently").click()
    page.get_by_role("heading", name="My surveys").wait_for()
    page.get_by_text('The survey "Lunch survey" was deleted.').wait_for()
    page.get_by_text("You have no surveys yet.").wait_for()
    lookup = browser_stack.api.get("/survey", params={"survey_id": survey_id}, headers=browser_user(browser_stack, email).headers)
    assert lookup.status_code == 404

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_text("You are signed out.").is_visible()
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.locator("#account-email").is_hidden()


def browser_user(stack: BrowserStack, email: str) -> Any:
    """Sign the browser-created user in through the API, for checks behind the pages."""
    from tests.support.stack import User

    login = stack.api.post("/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return User(email, TEST_PASSWORD, tokens["id_token"], tokens["access_token"], tokens["refresh_token"])
