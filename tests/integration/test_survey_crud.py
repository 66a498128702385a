"""Owner routes over HTTP: create, read, list, update and delete surveys."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import SAMPLE_ANSWERS, assert_error
from tests.support.stack import StackUnderTest, User

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
SURVEY_KEYS = {
    "survey_id", "title", "description", "questions", "status",
    "created_at", "closes_at", "max_responses", "response_count",
}


def test_create_returns_survey_object(create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    assert SURVEY_KEYS <= set(survey)
    assert survey["status"] == "open"
    assert survey["response_count"] == 0
    assert survey["closes_at"] is None
    assert survey["max_responses"] is None
    assert TIMESTAMP.match(survey["created_at"])


def test_create_assigns_question_ids(create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    assert [question["id"] for question in survey["questions"]] == ["q1", "q2", "q3", "q4", "q5"]


def test_create_keeps_given_question_ids(create_survey: Callable[..., dict[str, Any]], survey_body: dict) -> None:
    survey_body["questions"][0]["id"] = "attended"
    survey = create_survey(survey_body)
    assert survey["questions"][0]["id"] == "attended"


def test_create_applies_rating_defaults(create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(questions=[{"type": "rating", "text": "How was it?"}])
    question = survey["questions"][0]
    assert question["min"] == 1
    assert question["max"] == 5
    assert question["required"] is False


def test_create_without_token_is_unauthorized(stack: StackUnderTest, survey_body: dict) -> None:
    assert_error(stack.post("/survey/create", json=survey_body), 401, "unauthorized")


INVALID_SURVEYS: list[tuple[str, dict[str, Any], str]] = [
    ("missing title", {"questions": [{"type": "text", "text": "Q"}]}, "title"),
    ("empty title", {"title": "", "questions": [{"type": "text", "text": "Q"}]}, "title"),
    ("long title", {"title": "x" * 201, "questions": [{"type": "text", "text": "Q"}]}, "title"),
    ("title not string", {"title": 12, "questions": [{"type": "text", "text": "Q"}]}, "title"),
    ("long description", {"title": "T", "description": "d" * 2001, "questions": [{"type": "text", "text": "Q"}]}, "description"),
    ("no questions", {"title": "T", "questions": []}, "questions"),
    ("questions not list", {"title": "T", "questions": "q"}, "questions"),
    ("too many questions", {"title": "T", "questions": [{"type": "text", "text": "Q"}] * 101}, "questions"),
    ("unknown type", {"title": "T", "questions": [{"type": "essay", "text": "Q"}]}, "questions[0].type"),
    ("empty text", {"title": "T", "questions": [{"type": "text", "text": ""}]}, "questions[0].text"),
    ("long text", {"title": "T", "questions": [{"type": "text", "text": "q" * 501}]}, "questions[0].text"),
    ("one option", {"title": "T", "questions": [{"type": "single_choice", "text": "Q", "options": ["A"]}]}, "questions[0].options"),
    ("duplicate options", {"title": "T", "questions": [{"type": "single_choice", "text": "Q", "options": ["A", "A"]}]}, "questions[0].options"),
    ("empty option", {"title": "T", "questions": [{"type": "multiple_choice", "text": "Q", "options": ["A", ""]}]}, "questions[0].options"),
    ("too many options", {"title": "T", "questions": [{"type": "multiple_choice", "text": "Q", "options": [str(i) for i in range(51)]}]}, "questions[0].options"),
    ("rating max over 10", {"title": "T", "questions": [{"type": "rating", "text": "Q", "min": 1, "max": 11}]}, "questions[0]"),
    ("rating min not below max", {"title": "T", "questions": [{"type": "rating", "text": "Q", "min": 5, "max": 5}]}, "questions[0]"),
    ("rating as string", {"title": "T", "questions": [{"type": "rating", "text": "Q", "min": "1", "max": 5}]}, "questions[0].min"),
    ("text max_length zero", {"title": "T", "questions": [{"type": "text", "text": "Q", "max_length": 0}]}, "questions[0].max_length"),
    ("text max_length too big", {"title": "T", "questions": [{"type": "text", "text": "Q", "max_length": 5001}]}, "questions[0].max_length"),
    ("duplicate ids", {"title": "T", "questions": [{"id": "a", "type": "text", "text": "Q"}, {"id": "a", "type": "text", "text": "R"}]}, "questions[1].id"),
    ("required not bool", {"title": "T", "questions": [{"type": "text", "text": "Q", "required": "yes"}]}, "questions[0].required"),
    ("bad closes_at", {"title": "T", "closes_at": "tomorrow", "questions": [{"type": "text", "text": "Q"}]}, "closes_at"),
    ("max_responses zero", {"title": "T", "max_responses": 0, "questions": [{"type": "text", "text": "Q"}]}, "max_responses"),
    ("max_responses string", {"title": "T", "max_responses": "5", "questions": [{"type": "text", "text": "Q"}]}, "max_responses"),
]


@pytest.mark.parametrize(("case", "body", "field"), INVALID_SURVEYS, ids=[case for case, _, _ in INVALID_SURVEYS])
def test_create_invalid_survey_names_field(stack: StackUnderTest, owner: User, case: str, body: dict, field: str) -> None:
    response = stack.post("/survey/create", json=body, headers=owner.headers)
    error = assert_error(response, 400, "bad_request")
    assert field in error["message"], f"{case}: {error['message']!r} does not name {field!r}"


def test_get_returns_survey(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    created = create_survey()
    response = stack.get("/survey", params={"survey_id": created["survey_id"]}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_get_unknown_survey_is_not_found(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/survey", params={"survey_id": "00000000-0000-4000-8000-000000000000"}, headers=owner.headers)
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("survey_id", ["", "not-a-uuid", "../etc/passwd", "x" * 500])
def test_get_invalid_survey_id_is_bad_request(stack: StackUnderTest, owner: User, survey_id: str) -> None:
    response = stack.get("/survey", params={"survey_id": survey_id}, headers=owner.headers)
    body = assert_error(response, 400, "bad_request")
    assert "survey_id" in body["message"]


def test_get_missing_survey_id_is_bad_request(stack: StackUnderTest, owner: User) -> None:
    assert_error(stack.get("/survey", headers=owner.headers), 400, "bad_request")


def test_list_pages_newest_first(stack: StackUnderTest) -> None:
    user = stack.create_user("lister")
    created = []
    for index in range(5):
        response = stack.post(
            "/survey/create",
            json={"title": f"Survey {index}", "questions": [{"type": "text", "text": "Q"}]},
            headers=user.headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["survey_id"])
        time.sleep(0.01)

    seen: list[str] = []
    next_token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if next_token:
            params["next_token"] = next_token
        response = stack.get("/surveys", params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["surveys"]) <= 2
        for summary in body["surveys"]:
            assert set(summary) >= {"survey_id", "title", "status", "created_at", "response_count"}
        seen.extend(summary["survey_id"] for summary in body["surveys"])
        next_token = body["next_token"]
        pages += 1
        if next_token is None:
            break
        assert pages < 10, "paging does not end"

    assert seen == list(reversed(created))


def test_list_default_page_has_next_token_null(stack: StackUnderTest) -> None:
    user = stack.create_user("empty")
    response = stack.get("/surveys", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"surveys": [], "next_token": None}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_list_invalid_limit_is_bad_request(stack: StackUnderTest, owner: User, limit: str) -> None:
    body = assert_error(stack.get("/surveys", params={"limit": limit}, headers=owner.headers), 400, "bad_request")
    assert "limit" in body["message"]


@pytest.mark.parametrize("token", ["garbage", "eyJ9", "e30", "%%%"])
def test_list_invalid_next_token_is_bad_request(stack: StackUnderTest, owner: User, token: str) -> None:
    body = assert_error(stack.get("/surveys", params={"next_token": token}, headers=owner.headers), 400, "bad_request")
    assert "next_token" in body["message"]


def test_patch_updates_fields(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    changes = {
        "title": "Renamed",
        "description": "New description",
        "closes_at": "2099-01-01T00:00:00Z",
        "max_responses": 10,
        "status": "closed",
    }
    response = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json=changes, headers=owner.headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Renamed"
    assert updated["description"] == "New description"
    assert updated["closes_at"].startswith("2099-01-01T00:00:00")
    assert updated["max_responses"] == 10
    assert updated["status"] == "closed"
    again = stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert again == updated


def test_patch_clears_limit_with_null(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(max_responses=5)
    response = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"max_responses": None}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["max_responses"] is None


def test_patch_invalid_status_is_bad_request(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    response = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"status": "archived"}, headers=owner.headers)
    body = assert_error(response, 400, "bad_request")
    assert "status" in body["message"]


def test_patch_questions_before_responses(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    questions = [{"type": "text", "text": "Only question"}]
    response = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"questions": questions}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert [question["text"] for question in response.json()["questions"]] == ["Only question"]


def test_patch_questions_after_response_is_conflict(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    submitted = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": SAMPLE_ANSWERS})
    assert submitted.status_code == 201, submitted.text
    questions = [{"type": "text", "text": "Changed"}]
    response = stack.patch("/survey", params={"survey_id": survey["survey_id"]}, json={"questions": questions}, headers=owner.headers)
    assert_error(response, 409, "conflict")
    unchanged = stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert unchanged["questions"] == survey["questions"]


def test_delete_removes_survey_and_responses(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    for _ in range(3):
        submitted = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": SAMPLE_ANSWERS})
        assert submitted.status_code == 201, submitted.text

    response = stack.delete("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"survey_id": survey["survey_id"], "deleted": True, "responses_deleted": 3}

    assert_error(stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers), 404, "not_found")
    assert_error(stack.get("/survey/public", params={"survey_id": survey["survey_id"]}), 404, "not_found")
    late = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": SAMPLE_ANSWERS})
    assert_error(late, 404, "not_found")
    second = stack.delete("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers)
    assert_error(second, 404, "not_found")


def test_delete_publishes_notification(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict[str, Any]]) -> None:
    if not stack.has_outbox():
        pytest.skip("this stack has no outbox to read notifications from (set SURVEY_OUTBOX_URL)")
    title = "Notify me " + "x" * 120
    survey = create_survey(title=title)
    response = stack.delete("/survey", params={"survey_id": survey["survey_id"]}, headers=owner.headers)
    assert response.status_code == 200, response.text

    import json

    matches = []
    deadline = time.monotonic() + 10
    while not matches and time.monotonic() < deadline:
        for message in stack.outbox():
            if message["source"] == "sns" and survey["survey_id"] in message["body"]:
                matches.append(message)
        if not matches:
            time.sleep(0.2)
    assert len(matches) == 1, matches
    message = matches[0]
    assert message["subject"] == f"Survey deleted: {title}"[:100]
    payload = json.loads(message["body"])
    assert payload["event"] == "survey.deleted"
    assert payload["survey_id"] == survey["survey_id"]
    assert payload["title"] == title
    assert payload["response_count"] == 0
    assert payload["owner_sub"]
    assert TIMESTAMP.match(payload["deleted_at"])
    assert message["to"]
