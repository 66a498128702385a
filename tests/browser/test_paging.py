"""Paging through the survey list and the responses table with next_token."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BrowserStack, sign_in

pytestmark = pytest.mark.browser

# The pages ask for 20 items at a time; one more makes a second page.
ITEMS = 21


def test_paging_survey_list_loads_more(page: Any, browser_stack: BrowserStack) -> None:
    user = browser_stack.api.create_user("paging")
    for number in range(ITEMS):
        browser_stack.create_survey(user, title=f"Survey {number:02d}")
    sign_in(page, browser_stack, user)
    page.get_by_text("Showing 20 surveys.").wait_for()

    page.get_by_role("button", name="Load more surveys").click()
    page.get_by_text(f"Showing {ITEMS} surveys.").wait_for()

    titles = page.locator("#survey-list li a").all_inner_texts()
    assert titles == [f"Survey {number:02d}" for number in reversed(range(ITEMS))]
    assert page.get_by_role("button", name="Load more surveys").is_hidden()


def test_paging_responses_next_and_previous(page: Any, browser_stack: BrowserStack) -> None:
    user = browser_stack.api.create_user("paging-responses")
    survey = browser_stack.create_survey(user)
    for number in range(ITEMS):
        response = browser_stack.submit(survey["survey_id"], {"q1": "Yes", "q3": 3, "q4": number})
        assert response.status_code == 201, response.text
    sign_in(page, browser_stack, user, next_page=f"survey.html?id={survey['survey_id']}")
    caption = page.locator("#responses-table caption")
    caption.get_by_text("Responses 1 to 20").wait_for()

    page.get_by_role("button", name="Next page").click()
    caption.get_by_text(f"Responses 21 to {ITEMS}").wait_for()
    last_page_rows = page.locator("#responses-table tbody tr").count()
    page.get_by_role("button", name="Previous page").click()
    caption.get_by_text("Responses 1 to 20").wait_for()

    assert last_page_rows == ITEMS - 20
    assert page.evaluate("document.activeElement.id") == "responses-wrap"
    assert page.get_by_role("button", name="Previous page").is_hidden()
