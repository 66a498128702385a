"""Fixtures for the HTTP integration suite: users and surveys on the stack under test."""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

SAMPLE_SURVEY: dict[str, Any] = {
    "title": "Team offsite feedback",
    "description": "Tell us how the offsite went.",
    "questions": [
        {"type": "single_choice", "text": "Did you attend?", "required": True, "options": ["Yes", "No"]},
        {"type": "multiple_choice", "text": "Which sessions did you like?", "options": ["Talks", "Workshops", "Dinner"]},
        {"type": "rating", "text": "Overall rating", "required": True, "min": 1, "max": 5},
        {"type": "number", "text": "How many hours did you travel?", "min": 0, "max": 48},
        {"type": "text", "text": "Anything else?", "max_length": 500},
    ],
}

SAMPLE_ANSWERS: dict[str, Any] = {"q1": "Yes", "q2": ["Talks", "Dinner"], "q3": 4, "q4": 2.5, "q5": "Great food"}


@pytest.fixture(scope="session")
def owner(stack: StackUnderTest) -> User:
    return stack.create_user("owner")


@pytest.fixture(scope="session")
def other_user(stack: StackUnderTest) -> User:
    return stack.create_user("other")


@pytest.fixture
def survey_body() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE_SURVEY)


@pytest.fixture
def create_survey(stack: StackUnderTest, owner: User) -> Callable[..., dict[str, Any]]:
    """Create a survey as `owner` (or another user) and return the survey object."""

    def create(body: dict[str, Any] | None = None, user: User | None = None, **overrides: Any) -> dict[str, Any]:
        payload = copy.deepcopy(body if body is not None else SAMPLE_SURVEY)
        payload.update(overrides)
        response = stack.post("/survey/create", json=payload, headers=(user or owner).headers)
        assert response.status_code == 201, response.text
        return response.json()

    return create


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check a response is a contract error with this status and code; return the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("error") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body
