"""The survey builder: inline validation, API field errors, templates and editing."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, sign_in
from tests.support.stack import User

pytestmark = pytest.mark.browser


def open_builder(page: Any, stack: BrowserStack, owner: User, survey_id: str | None = None) -> None:
    target = f"edit.html?id={survey_id}" if survey_id else "edit.html"
    sign_in(page, stack, owner, next_page=target)
    page.get_by_role("heading", name="Edit survey" if survey_id else "New survey").wait_for()
    page.locator("#survey-form").wait_for()


def error_of(page: Any, input_id: str) -> str:
    return page.locator(f"#{input_id}-error").inner_text()


def test_builder_empty_form_marks_each_field(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    open_builder(page, browser_stack, owner)

    page.get_by_role("button", name="Create survey").click()

    assert error_of(page, "survey-title") == "Enter a title."
    assert page.get_by_label("Title").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "survey-title"
    card = page.locator(".question-card").first
    assert card.locator(".field-error").all_inner_texts() == [
        "Enter the question text.",
        "Enter the option text or remove the option.",
        "Enter the option text or remove the option.",
    ]
    assert page.locator("#page-alert").inner_text() == "The survey has 4 problems; see the marked fields."


@pytest.mark.parametrize(
    ("fill", "input_id", "message"),
    [
        ({"options": ["Same", "Same"]}, "option-1", "This option repeats an earlier one; options must be distinct."),
        ({"type": "Rating", "min": "4", "max": "2"}, "max", "The highest rating must be above the lowest rating."),
        ({"type": "Rating", "min": "0", "max": "11"}, "max", "The highest rating must be a whole number from 0 to 10."),
        ({"type": "Number", "min": "5", "max": "1"}, "max", "The maximum must not be below the minimum."),
        ({"type": "Text", "max_length": "6000"}, "max-length", "The maximum length must be a whole number from 1 to 5000."),
        ({"text": "x" * 501}, "text", "The question has 501 characters; the maximum is 500."),
    ],
)
def test_builder_question_rule_shown_by_field(
    fill: dict[str, Any], input_id: str, message: str, page: Any, browser_stack: BrowserStack, owner: User
) -> None:
    open_builder(page, browser_stack, owner)
    page.get_by_label("Title").fill("Rules")
    card = page.locator(".question-card").first
    if "type" in fill:
        card.get_by_label("Type").select_option(label=fill["type"])
    card.get_by_label("Question text").fill(fill.get("text", "A question"))
    for index, option in enumerate(fill.get("options", ["One", "Two"]) if "type" not in fill else []):
        card.get_by_label(f"Option {index + 1}", exact=True).fill(option)
    for name in ("min", "max"):
        if name in fill:
            card.locator(f"[id$='-{name}']").fill(fill[name])
    if "max_length" in fill:
        card.get_by_label("Maximum answer length (characters)").fill(fill["max_length"])

    page.get_by_role("button", name="Create survey").click()

    assert card.locator(f"[id$='-{input_id}-error']").inner_text() == message
    assert card.locator(f"[id$='-{input_id}']").get_attribute("aria-invalid") == "true"


def test_builder_api_field_error_shown_by_field(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    """An error only the API finds is placed next to the question and field its message names."""
    open_builder(page, browser_stack, owner)
    page.get_by_label("Title").fill("Two questions")
    page.get_by_label("Type of the new question").select_option(label="Multiple choice")
    page.get_by_role("button", name="Add question").click()
    for index, card in enumerate(page.locator(".question-card").all()):
        card.get_by_label("Question text").fill(f"Question {index}")
        card.get_by_label("Option 1", exact=True).fill("A")
        card.get_by_label("Option 2", exact=True).fill("B")
    message = "questions[1].options[0] must be at most 200 characters, got 250."

    def reject(route: Any) -> None:
        headers = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Allow-Methods": "POST",
        }
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=headers)
        else:
            body = json.dumps({"error": "bad_request", "message": message})
            route.fulfill(status=400, headers=headers, content_type="application/json", body=body)

    page.route("**/survey/create", reject)
    page.get_by_role("button", name="Create survey").click()

    second = page.locator(".question-card").nth(1)
    second.locator(".field-error").wait_for()
    assert second.locator(".field-error").inner_text() == "Must be at most 200 characters, got 250."
    assert second.get_by_label("Option 1", exact=True).get_attribute("aria-invalid") == "true"
    assert page.locator(".question-card").first.locator(".field-error").count() == 0
    assert page.locator("#page-alert").inner_text() == f"The survey was not saved: {message}"


def test_builder_template_fills_the_form(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    listing = browser_stack.api.get("/templates", headers=owner.headers).json()["templates"]
    if not listing:
        pytest.skip("The stack has no templates.")
    name = listing[0]["name"]
    template = browser_stack.api.get("/template", params={"name": name}, headers=owner.headers).json()
    open_builder(page, browser_stack, owner)

    page.get_by_label("Template", exact=True).select_option(name)
    page.get_by_role("button", name="Use this template").click()
    page.locator("#template-status").get_by_text("Loaded the template").wait_for()
    page.get_by_role("button", name="Create survey").click()
    page.get_by_role("heading", name=template["title"]).wait_for()

    survey_id = page.url.split("id=")[1].split("&")[0]
    stored = browser_stack.get_survey(owner, survey_id)
    assert [q["text"] for q in stored["questions"]] == [q["text"] for q in template["questions"]]


def test_builder_edit_saves_title_and_limit(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner, title="Before")
    open_builder(page, browser_stack, owner, survey["survey_id"])

    page.get_by_label("Title").fill("After")
    page.get_by_label("Response limit (optional)").fill("25")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your changes were saved.").wait_for()

    stored = browser_stack.get_survey(owner, survey["survey_id"])
    assert stored["title"] == "After"
    assert stored["max_responses"] == 25


def test_builder_edit_locks_questions_after_responses(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    assert browser_stack.submit(survey["survey_id"], {"q1": "Yes", "q3": 5}).status_code == 201
    open_builder(page, browser_stack, owner, survey["survey_id"])

    assert page.get_by_text("This survey already has responses").is_visible()
    assert page.get_by_role("button", name="Add question").is_hidden()
    assert page.locator(".question-card").first.get_by_label("Question text").get_attribute("readonly") == ""


def test_builder_move_keeps_keyboard_focus(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    open_builder(page, browser_stack, owner)
    page.get_by_label("Type of the new question").select_option(label="Text")
    page.get_by_role("button", name="Add question").click()
    page.locator(".question-card").nth(1).get_by_label("Question text").fill("Second")

    page.get_by_role("button", name="Move up question 2").focus()
    page.keyboard.press("Enter")

    assert page.locator(".question-card").first.get_by_label("Question text").input_value() == "Second"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move down question 1"


def test_builder_closing_date_saved_in_utc(open_page: Any, browser_stack: BrowserStack, owner: User) -> None:
    page = open_page("desktop", timezone_id="Europe/Berlin")
    survey = browser_stack.create_survey(owner)
    open_builder(page, browser_stack, owner, survey["survey_id"])

    page.get_by_label("Closing date and time (optional)").fill("2031-07-01T09:30")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your changes were saved.").wait_for()

    assert browser_stack.get_survey(owner, survey["survey_id"])["closes_at"] == "2031-07-01T07:30:00.000Z"


def test_builder_past_closing_date_rejected(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner, title="Keeps its date")
    open_builder(page, browser_stack, owner, survey["survey_id"])

    page.get_by_label("Closing date and time (optional)").fill("2020-01-01T12:00")
    page.get_by_role("button", name="Save changes").click()

    assert error_of(page, "survey-closes-at") == "The closing date must be in the future."
    assert browser_stack.get_survey(owner, survey["survey_id"])["closes_at"] is None


def test_builder_untouched_edit_sends_no_change(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner, closes_at="2031-07-01T07:30:45.123Z", max_responses=10)
    open_builder(page, browser_stack, owner, survey["survey_id"])
    patches: list[str] = []
    page.on("request", lambda request: patches.append(request.url) if request.method == "PATCH" else None)

    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your changes were saved.").wait_for()

    assert patches == []
