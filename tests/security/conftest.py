"""Fixtures of the security tests: users, surveys and the offline stack's control endpoints.

Most tests run against the session's `stack` (the offline stack, or a deployed one
when SURVEY_API_URL is set). Tests that read the stack's log, set faults or reach
the edge endpoint need the offline stack and skip on a deployed one. Tests that
rotate the signer's keys or count JWKS requests start an offline stack of their own.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.stack import StackUnderTest, User


SURVEY: dict[str, Any] = {
    "title": "Security review",
    "description": "Owner-only details: budget 42k.",
    "questions": [
        {"type": "single_choice", "text": "Ship it?", "required": True, "options": ["Yes", "No"]},
        {"type": "rating", "text": "Confidence", "required": True, "min": 1, "max": 5},
        {"type": "number", "text": "Hours spent", "min": 0, "max": 100},
        {"type": "text", "text": "Notes", "max_length": 500},
    ],
}
ANSWERS: dict[str, Any] = {"q1": "Yes", "q2": 4, "q3": 7, "q4": "respondent-secret-note"}


def needs_offline_stack(stack: StackUnderTest) -> None:
    if not stack.is_offline:
        pytest.skip("needs the offline stack: its log, control endpoints or edge endpoint")


def skip_on_deployed_stack() -> None:
    if os.environ.get("SURVEY_API_URL"):
        pytest.skip("starts its own offline stack; not run against a deployed stack")


@pytest.fixture(scope="session")
def owner(stack: StackUnderTest) -> User:
    return stack.create_user("sec-owner")


@pytest.fixture(scope="session")
def intruder(stack: StackUnderTest) -> User:
    return stack.create_user("sec-intruder")


@pytest.fixture
def offline_stack(stack: StackUnderTest) -> StackUnderTest:
    needs_offline_stack(stack)
    return stack


@pytest.fixture
def create_survey(stack: StackUnderTest, owner: User) -> Callable[..., dict[str, Any]]:
    """Create a survey from SURVEY with overrides, as `owner` unless `user` is given, and return it."""

    def create(user: User | None = None, **overrides: Any) -> dict[str, Any]:
        payload = copy.deepcopy(SURVEY)
        payload.update(overrides)
        response = stack.post("/survey/create", json=payload, headers=(user or owner).headers)
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def submit(stack: StackUnderTest) -> Callable[..., Any]:
    """Submit ANSWERS (or other answers) to a survey, with an Idempotency-Key when given."""

    def post(survey_id: str, answers: dict[str, Any] | None = None, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        body = {"survey_id": survey_id, "answers": answers if answers is not None else ANSWERS}
        return stack.post("/survey/respond", json=body, headers=headers)

    return post


def survey_state(stack: StackUnderTest, user: User, survey_id: str) -> dict[str, Any]:
    """Read everything a survey's owner can see of it: the survey, every response and the results."""
    survey = stack.get("/survey", params={"survey_id": survey_id}, headers=user.headers)
    assert survey.status_code == 200, survey.text
    results = stack.get("/survey/results", params={"survey_id": survey_id}, headers=user.headers)
    assert results.status_code == 200, results.text
    return {"survey": survey.json(), "responses": all_responses(stack, user, survey_id), "results": results.json()}


def all_responses(stack: StackUnderTest, user: User, survey_id: str) -> list[dict[str, Any]]:
    responses: list[dict[str, Any]] = []
    params: dict[str, Any] = {"survey_id": survey_id, "limit": 100}
    while True:
        page = stack.get("/survey/responses", params=params, headers=user.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        responses.extend(body["responses"])
        if body["next_token"] is None:
            return responses
        params["next_token"] = body["next_token"]


def assert_contract_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check a response is the contract's error body with this status and code, and return the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return body
