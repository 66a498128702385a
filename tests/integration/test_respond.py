"""Respondent routes over HTTP: the public survey view and submissions."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import SAMPLE_ANSWERS, assert_error
from tests.support.stack import StackUnderTest, User


def submit(stack: StackUnderTest, survey_id: str, answers: dict[str, Any], key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return stack.post("/survey/respond", json={"survey_id": survey_id, "answers": answers}, headers=headers)


def response_count(stack: StackUnderTest, owner: User, survey_id: str) -> int:
    response = stack.get("/survey", params={"survey_id": survey_id}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["response_count"]


def test_public_view_has_no_owner_data(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = stack.get("/survey/public", params={"survey_id": survey["survey_id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"survey_id", "title", "description", "questions", "status", "closes_at"}
    assert body["questions"] == survey["questions"]
    assert owner.email not in response.text
    assert "owner" not in response.text


def test_public_view_unknown_survey_is_not_found(stack: StackUnderTest) -> None:
    assert_error(stack.get("/survey/public", params={"survey_id": str(uuid.uuid4())}), 404, "not_found")


def test_public_view_closed_survey_is_gone(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    closed = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"status": "closed"}, headers=owner.headers)
    assert closed.status_code == 200, closed.text
    assert_error(stack.get("/survey/public", params={"survey_id": survey["survey_id"]}), 410, "gone")


def test_respond_stores_response(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = submit(stack, survey["survey_id"], SAMPLE_ANSWERS)
    assert response.status_code == 201, response.text
    assert response.json()["response_id"]
    assert response_count(stack, owner, survey["survey_id"]) == 1


def test_respond_optional_questions_may_be_skipped(stack: StackUnderTest, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = submit(stack, survey["survey_id"], {"q1": "No", "q3": 1})
    assert response.status_code == 201, response.text


INVALID_ANSWERS: list[tuple[str, dict[str, Any], str]] = [
    ("required missing", {"q3": 4}, "q1"),
    ("unknown question", {**SAMPLE_ANSWERS, "q99": "x"}, "q99"),
    ("single not an option", {**SAMPLE_ANSWERS, "q1": "Maybe"}, "q1"),
    ("single as list", {**SAMPLE_ANSWERS, "q1": ["Yes"]}, "q1"),
    ("multiple not a list", {**SAMPLE_ANSWERS, "q2": "Talks"}, "q2"),
    ("multiple unknown option", {**SAMPLE_ANSWERS, "q2": ["Karaoke"]}, "q2"),
    ("multiple duplicates", {**SAMPLE_ANSWERS, "q2": ["Talks", "Talks"]}, "q2"),
    ("rating out of range", {**SAMPLE_ANSWERS, "q3": 6}, "q3"),
    ("rating as string", {**SAMPLE_ANSWERS, "q3": "4"}, "q3"),
    ("rating as bool", {**SAMPLE_ANSWERS, "q3": True}, "q3"),
    ("rating fractional", {**SAMPLE_ANSWERS, "q3": 3.5}, "q3"),
    ("number above max", {**SAMPLE_ANSWERS, "q4": 49}, "q4"),
    ("number as string", {**SAMPLE_ANSWERS, "q4": "2"}, "q4"),
    ("text too long", {**SAMPLE_ANSWERS, "q5": "x" * 501}, "q5"),
    ("text as number", {**SAMPLE_ANSWERS, "q5": 5}, "q5"),
]


@pytest.mark.parametrize(("case", "answers", "field"), INVALID_ANSWERS, ids=[case for case, _, _ in INVALID_ANSWERS])
def test_respond_invalid_answers_name_question(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], case: str, answers: dict, field: str
) -> None:
    survey = create_survey()
    error = assert_error(submit(stack, survey["survey_id"], answers), 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r}"
    assert response_count(stack, owner, survey["survey_id"]) == 0


def test_respond_answers_not_object_is_bad_request(stack: StackUnderTest, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": ["Yes"]})
    assert_error(response, 400, "bad_request")


def test_respond_unknown_survey_is_not_found(stack: StackUnderTest) -> None:
    assert_error(submit(stack, str(uuid.uuid4()), SAMPLE_ANSWERS), 404, "not_found")


def test_respond_closed_survey_is_gone(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"status": "closed"}, headers=owner.headers)
    assert_error(submit(stack, survey["survey_id"], SAMPLE_ANSWERS), 410, "gone")
    assert response_count(stack, owner, survey["survey_id"]) == 0


def test_respond_reopened_survey_accepts(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    params = {"survey_id": survey["survey_id"]}
    stack.patch("/survey", params=params, json={"status": "closed"}, headers=owner.headers)
    reopened = stack.patch("/survey", params=params, json={"status": "open"}, headers=owner.headers)
    assert reopened.status_code == 200, reopened.text
    assert submit(stack, survey["survey_id"], SAMPLE_ANSWERS).status_code == 201


def test_respond_past_closes_at_is_gone(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey(closes_at="2000-01-01T00:00:00Z")
    assert_error(submit(stack, survey["survey_id"], SAMPLE_ANSWERS), 410, "gone")
    assert response_count(stack, owner, survey["survey_id"]) == 0


def test_respond_max_responses_reached_is_gone(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey(max_responses=2)
    assert submit(stack, survey["survey_id"], SAMPLE_ANSWERS).status_code == 201
    assert submit(stack, survey["survey_id"], SAMPLE_ANSWERS).status_code == 201
    assert_error(submit(stack, survey["survey_id"], SAMPLE_ANSWERS), 410, "gone")
    assert response_count(stack, owner, survey["survey_id"]) == 2


def test_respond_same_key_returns_same_response(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    first = submit(stack, survey["survey_id"], SAMPLE_ANSWERS, key="retry-key-1")
    second = submit(stack, survey["survey_id"], SAMPLE_ANSWERS, key="retry-key-1")
    assert first.status_code == 201, first.text
    assert second.status_code in (200, 201), second.text
    assert second.json()["response_id"] == first.json()["response_id"]
    assert response_count(stack, owner, survey["survey_id"]) == 1


def test_respond_same_key_other_survey_is_separate(stack: StackUnderTest, create_survey: Callable[..., dict]) -> None:
    first_survey = create_survey()
    second_survey = create_survey()
    first = submit(stack, first_survey["survey_id"], SAMPLE_ANSWERS, key="shared-key")
    second = submit(stack, second_survey["survey_id"], SAMPLE_ANSWERS, key="shared-key")
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["response_id"] != second.json()["response_id"]


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "semi;colon", "ünïcode"])
def test_respond_invalid_idempotency_key_is_bad_request(stack: StackUnderTest, create_survey: Callable[..., dict], key: str) -> None:
    survey = create_survey()
    headers = {"Idempotency-Key": key.encode("utf-8")}
    response = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": SAMPLE_ANSWERS}, headers=headers)
    assert_error(response, 400, "bad_request")


def test_respond_concurrent_duplicates_store_once(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: submit(stack, survey["survey_id"], SAMPLE_ANSWERS, key="double-click"), range(10)))
    statuses = [result.status_code for result in results]
    assert all(status in (200, 201) for status in statuses), [result.text for result in results]
    assert len({result.json()["response_id"] for result in results}) == 1
    assert response_count(stack, owner, survey["survey_id"]) == 1
    listed = stack.get("/survey/responses", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert len(listed["responses"]) == 1
