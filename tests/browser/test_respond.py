"""The public respondent page: answering, validation, idempotent submission, unavailable surveys, size."""
from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest

from tests.browser.conftest import BrowserStack
from tests.support.stack import User

pytestmark = pytest.mark.browser

RESPONDENT_JS_BUDGET_BYTES = 100 * 1024


def open_survey(page: Any, stack: BrowserStack, survey_id: str) -> None:
    page.goto(stack.page_url(f"respond.html?id={survey_id}"))
    page.locator("#survey-title").wait_for()


def fill_required(page: Any) -> None:
    page.get_by_role("radio", name="Yes").check()
    page.get_by_role("group", name="3. Overall rating").get_by_role("radio", name="4").check()


def test_respond_submit_shows_thanks_and_stores_answers(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])

    fill_required(page)
    page.get_by_role("checkbox", name="Talks").check()
    page.get_by_role("checkbox", name="Dinner").check()
    page.get_by_label("4. How many hours did you travel?").fill("2.5")
    page.get_by_label("5. Anything else?").fill("Great food")
    page.get_by_role("button", name="Submit").click()

    thanks = page.get_by_role("heading", name="Thank you!")
    thanks.wait_for()
    assert thanks.is_visible()
    responses = browser_stack.api.get(
        "/survey/responses", params={"survey_id": survey["survey_id"]}, headers=owner.headers
    ).json()["responses"]
    assert [r["answers"] for r in responses] == [
        {"q1": "Yes", "q2": ["Talks", "Dinner"], "q3": 4, "q4": 2.5, "q5": "Great food"}
    ]


def test_respond_missing_required_answers_are_marked(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])

    page.get_by_role("button", name="Submit").click()

    errors = page.locator(".field-error")
    assert errors.count() == 2
    assert page.get_by_role("radio", name="Yes").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").inner_text() == "Please check 2 answers marked below."
    assert browser_stack.get_survey(owner, survey["survey_id"])["response_count"] == 0


def test_respond_number_out_of_range_is_marked(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)

    page.get_by_label("4. How many hours did you travel?").fill("99")
    page.get_by_role("button", name="Submit").click()

    number_input = page.get_by_label("4. How many hours did you travel?")
    assert number_input.get_attribute("aria-invalid") == "true"
    assert page.locator("#question-3-input-error").inner_text() == "Enter a number from 0 to 48."


def test_respond_double_click_stores_one_response(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)

    page.get_by_role("button", name="Submit").dblclick()
    page.get_by_role("heading", name="Thank you!").wait_for()

    assert browser_stack.get_survey(owner, survey["survey_id"])["response_count"] == 1


def test_respond_retry_after_lost_answer_stores_once(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    """The first submission reaches the API, but the browser gets a dropped connection. The retry reuses the key."""
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)
    sent_keys: list[str] = []

    def deliver_then_drop(route: Any) -> None:
        sent_keys.append(route.request.headers.get("idempotency-key", ""))
        route.fetch()
        route.abort("connectionreset")

    page.route("**/survey/respond", deliver_then_drop)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Your answers are kept: submit again to retry.", exact=False).wait_for()
    page.unroute("**/survey/respond")
    with page.expect_request("**/survey/respond") as retry:
        page.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name="Thank you!").wait_for()

    assert retry.value.headers.get("idempotency-key") == sent_keys[0]
    assert browser_stack.get_survey(owner, survey["survey_id"])["response_count"] == 1


def test_respond_each_filled_form_gets_new_key(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    keys = []
    for _ in range(2):
        open_survey(page, browser_stack, survey["survey_id"])
        fill_required(page)
        with page.expect_request("**/survey/respond") as sent:
            page.get_by_role("button", name="Submit").click()
        page.get_by_role("heading", name="Thank you!").wait_for()
        keys.append(sent.value.headers.get("idempotency-key"))

    assert keys[0] != keys[1]
    assert browser_stack.get_survey(owner, survey["survey_id"])["response_count"] == 2


def test_respond_closed_survey_shows_closed_message(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    browser_stack.set_status(owner, survey["survey_id"], "closed")

    page.goto(browser_stack.page_url(f"respond.html?id={survey['survey_id']}"))

    heading = page.get_by_role("heading", name="This survey is closed")
    heading.wait_for()
    assert heading.is_visible()
    assert page.locator("#response-form").is_hidden()


def test_respond_survey_closed_while_answering(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)
    browser_stack.set_status(owner, survey["survey_id"], "closed")

    page.get_by_role("button", name="Submit").click()

    page.get_by_role("heading", name="This survey is closed").wait_for()
    assert "Your response was not recorded." in page.locator("#unavailable-text").inner_text()


def test_respond_full_survey_shows_closed_message(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner, max_responses=1)
    first = browser_stack.submit(survey["survey_id"], {"q1": "No", "q3": 2})
    assert first.status_code == 201, first.text

    page.goto(browser_stack.page_url(f"respond.html?id={survey['survey_id']}"))

    page.get_by_role("heading", name="This survey is closed").wait_for()
    assert page.locator("#unavailable-text").inner_text().endswith("It no longer accepts responses.")


def test_respond_missing_survey_shows_not_found(page: Any, browser_stack: BrowserStack) -> None:
    page.goto(browser_stack.page_url(f"respond.html?id={uuid.uuid4()}"))

    heading = page.get_by_role("heading", name="Survey not found")
    heading.wait_for()
    assert heading.is_visible()


def test_respond_network_failure_shows_message(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)
    page.route("**/survey/respond", lambda route: route.abort("internetdisconnected"))

    page.get_by_role("button", name="Submit").click()

    alert = page.locator("#page-alert")
    alert.get_by_text("could not be reached").wait_for()
    assert "undefined" not in alert.inner_text()


def test_respond_keyboard_only(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    focused: list[str] = []

    def tab() -> str:
        page.keyboard.press("Tab")
        described = page.evaluate(
            "() => { const e = document.activeElement; return `${e.tagName.toLowerCase()}#${e.id}`; }"
        )
        focused.append(described)
        return described

    assert tab() == "a#"  # the skip link
    assert tab() == "input#question-0-0"
    page.keyboard.press("ArrowDown")  # moves to and selects "No"
    assert tab() == "input#question-1-0"
    page.keyboard.press("Space")
    assert tab() == "input#question-1-1"
    assert tab() == "input#question-1-2"
    page.keyboard.press("Space")
    assert tab() == "input#question-2-0"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert tab() == "input#question-3-input"
    page.keyboard.type("7")
    assert tab() == "textarea#question-4-input"
    page.keyboard.type("Typed <b>without</b> a mouse")
    assert tab() == "button#submit-response"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you!").wait_for()

    assert outline != "none"
    answers = browser_stack.api.get(
        "/survey/responses", params={"survey_id": survey["survey_id"]}, headers=owner.headers
    ).json()["responses"][0]["answers"]
    assert answers == {"q1": "No", "q2": ["Talks", "Dinner"], "q3": 4, "q4": 7, "q5": "Typed <b>without</b> a mouse"}


def test_respond_page_javascript_under_budget(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    survey = browser_stack.create_survey(owner)
    scripts: dict[str, bytes] = {}

    def record(response: Any) -> None:
        if response.request.resource_type == "script":
            scripts[response.url] = response.body()

    page.on("response", record)
    open_survey(page, browser_stack, survey["survey_id"])
    page.wait_for_load_state("networkidle")

    gzipped = sum(len(gzip.compress(body, compresslevel=9)) for body in scripts.values())
    assert scripts, "the respondent page loaded no script"
    assert gzipped < RESPONDENT_JS_BUDGET_BYTES
    assert not [url for url in scripts if "chart" in url or "session" in url]


def test_respond_phone_viewport_submits(open_page: Any, browser_stack: BrowserStack, owner: User) -> None:
    page = open_page("phone")
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)

    page.get_by_role("button", name="Submit").click()

    page.get_by_role("heading", name="Thank you!").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_respond_api_answer_error_marks_question(page: Any, browser_stack: BrowserStack, owner: User) -> None:
    """An answer only the API rejects (sent altered here) is marked at its question with the API's message."""
    survey = browser_stack.create_survey(owner)
    open_survey(page, browser_stack, survey["survey_id"])
    fill_required(page)

    def alter_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        body = json.loads(route.request.post_data or "{}")
        body["answers"]["q1"] = "Maybe"
        route.continue_(post_data=json.dumps(body))

    page.route("**/survey/respond", alter_answer)
    with page.expect_response(lambda response: response.url.endswith("/survey/respond") and response.request.method == "POST") as sent:
        page.get_by_role("button", name="Submit").click()
    error = page.locator("#question-0-0-error")
    error.wait_for()

    assert sent.value.status == 400
    message = sent.value.json()["message"]
    assert message.startswith("answers.q1 ")
    rest = message[len("answers.q1 "):]
    assert error.inner_text() == rest[0].upper() + rest[1:]
    assert page.get_by_role("radio", name="Yes").get_attribute("aria-invalid") == "true"
