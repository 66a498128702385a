"""HTTP behaviour shared by every route: CORS, errors, limits, content types."""
from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from tests.integration.conftest import SAMPLE_ANSWERS, assert_error
from tests.support.stack import StackUnderTest, User

ROUTES = [
    ("POST", "/auth/signup"), ("POST", "/auth/confirm"), ("POST", "/auth/login"), ("POST", "/flask/login"),
    ("POST", "/auth/refresh"), ("GET", "/auth/me"), ("POST", "/survey/create"), ("GET", "/surveys"),
    ("GET", "/survey"), ("PATCH", "/survey"), ("DELETE", "/survey"), ("GET", "/survey/responses"),
    ("GET", "/survey/results"), ("GET", "/survey/export"), ("GET", "/templates"), ("GET", "/template"),
    ("GET", "/survey/public"), ("POST", "/survey/respond"),
]
PATHS = sorted({path for _, path in ROUTES})


def assert_cors(response: requests.Response) -> None:
    assert response.headers.get("Access-Control-Allow-Origin"), f"no CORS header on {response.status_code}"


@pytest.mark.parametrize("path", PATHS)
def test_options_answers_preflight(stack: StackUnderTest, path: str) -> None:
    response = stack.request(
        "OPTIONS",
        path,
        headers={"Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"},
    )
    assert response.status_code == 204, response.text
    assert_cors(response)
    allowed_headers = response.headers.get("Access-Control-Allow-Headers", "").lower()
    for header in ("authorization", "content-type", "idempotency-key"):
        assert header in allowed_headers
    assert response.headers.get("Access-Control-Allow-Methods")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_error_responses_carry_cors(stack: StackUnderTest, method: str, path: str) -> None:
    # No token and no body: every route answers some 4xx, and it must carry CORS.
    response = stack.request(method, path, headers={"Origin": "http://127.0.0.1:9"})
    assert 400 <= response.status_code < 500, response.text
    assert_cors(response)
    body = response.json()
    assert set(body) == {"error", "message"}


def test_success_response_carries_cors(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/auth/me", headers=owner.headers)
    assert response.status_code == 200
    assert_cors(response)


def test_unknown_route_is_not_found(stack: StackUnderTest) -> None:
    response = stack.get("/no/such/route")
    assert_error(response, 404, "not_found")
    assert_cors(response)


def test_wrong_method_is_method_not_allowed(stack: StackUnderTest) -> None:
    assert_error(stack.request("PUT", "/survey/create"), 405, "method_not_allowed")
    assert_error(stack.get("/survey/respond"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "path",
    ["/2015-03-31/functions/survey-backend/invocations", "/backend", "/invoke", "/survey/backend"],
)
def test_backend_not_reachable_through_api(stack: StackUnderTest, path: str) -> None:
    payload = {"action": "list_surveys", "caller": {"sub": "attacker", "email": "a@example.com"}, "args": {}}
    response = stack.post(path, json=payload)
    assert response.status_code in (403, 404, 405), response.text
    assert "surveys" not in response.json()


def test_body_over_limit_is_payload_too_large(stack: StackUnderTest, owner: User) -> None:
    body = json.dumps({"title": "T", "description": "x" * (256 * 1024), "questions": []})
    response = stack.post("/survey/create", data=body, headers={**owner.headers, "Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert_cors(response)


def test_wrong_content_type_is_unsupported(stack: StackUnderTest, owner: User) -> None:
    response = stack.post("/survey/create", data="title=T", headers={**owner.headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    ["{", "[]", "\"text\"", "null", "{\"title\": NaN}", "{\"title\": Infinity}", "[" * 5000 + "]" * 5000, "\xff\xfe"],
)
def test_invalid_json_is_bad_request(stack: StackUnderTest, owner: User, raw: str) -> None:
    response = stack.post("/survey/create", data=raw.encode("utf-8", "surrogateescape"),
                          headers={**owner.headers, "Content-Type": "application/json"})
    assert_error(response, 400, "bad_request")


def test_unicode_survey_round_trips(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    title = "Ünïcödé 調査 🎉 <b>bold</b>"
    survey = create_survey(
        title=title,
        questions=[{"type": "single_choice", "text": "Emoji? 😀", "options": ["👍", "👎"]},
                   {"type": "text", "text": "Free text ✍️"}],
    )
    assert survey["title"] == title
    submitted = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": {"q1": "👍", "q2": "日本語 ✓"}})
    assert submitted.status_code == 201, submitted.text
    listed = stack.get("/survey/responses", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert listed["responses"][0]["answers"] == {"q1": "👍", "q2": "日本語 ✓"}


def test_errors_leak_no_internals(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    responses = [
        stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": {"q1": {"$ne": 1}}}),
        stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers={"Authorization": "Bearer x.y.z"}),
        stack.post("/survey/create", data="{", headers={**owner.headers, "Content-Type": "application/json"}),
        stack.get("/template", params={"name": "../../etc/passwd"}, headers=owner.headers),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        for secret in ("Traceback", "arn:aws", owner.id_token, "botocore", "File \""):
            assert secret not in response.text


def test_respond_answers_with_query_objects_are_rejected(stack: StackUnderTest, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = stack.post("/survey/respond", json={"survey_id": survey["survey_id"], "answers": {**SAMPLE_ANSWERS, "q5": {"S": "x"}}})
    assert_error(response, 400, "bad_request")
