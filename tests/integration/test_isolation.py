"""Another signed-in user can neither read, change nor delete a survey."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.conftest import SAMPLE_ANSWERS
from tests.support.stack import StackUnderTest, User

OWNER_ROUTES = [
    ("GET", "/survey", None),
    ("PATCH", "/survey", {"title": "Hijacked", "status": "closed"}),
    ("PATCH", "/survey", {"questions": [{"type": "text", "text": "Hijacked"}]}),
    ("DELETE", "/survey", None),
    ("GET", "/survey/responses", None),
    ("GET", "/survey/results", None),
    ("GET", "/survey/export", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OWNER_ROUTES, ids=[f"{m} {p}" for m, p, _ in OWNER_ROUTES])
def test_other_user_cannot_touch_survey(
    stack: StackUnderTest, owner: User, other_user: User, create_survey: Callable[..., dict], method: str, path: str, body: dict | None
) -> None:
    survey = create_survey()
    params = {"survey_id": survey["survey_id"]}
    submitted = stack.post("/survey/respond", json={**params, "answers": SAMPLE_ANSWERS})
    assert submitted.status_code == 201, submitted.text

    response = stack.request(method, path, params=params, json=body, headers=other_user.headers)
    assert response.status_code in (403, 404), response.text
    assert response.json()["error"] in ("forbidden", "not_found")
    assert "Yes" not in response.text
    assert "Great food" not in response.text

    after = stack.get("/survey", params=params, headers=owner.headers)
    assert after.status_code == 200, after.text
    assert after.json()["title"] == survey["title"]
    assert after.json()["status"] == "open"
    assert after.json()["questions"] == survey["questions"]
    assert after.json()["response_count"] == 1


def test_other_user_list_excludes_survey(stack: StackUnderTest, other_user: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    listed = stack.get("/surveys", params={"limit": 100}, headers=other_user.headers)
    assert listed.status_code == 200, listed.text
    assert survey["survey_id"] not in listed.text


def test_other_user_page_token_is_rejected(stack: StackUnderTest, owner: User, other_user: User, create_survey: Callable[..., dict]) -> None:
    create_survey()
    create_survey()
    page = stack.get("/surveys", params={"limit": 1}, headers=owner.headers).json()
    assert page["next_token"]
    response = stack.get("/surveys", params={"limit": 1, "next_token": page["next_token"]}, headers=other_user.headers)
    assert response.status_code == 400, response.text
    assert owner.email not in response.text
