"""The developer endpoints (/_local/logs, /_local/token), the function log buffer and the seed answers."""
from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from local.cognito.exceptions import UserNotConfirmedException, UserNotFoundException
from local.dev_endpoints import FUNCTION_LOGGER, DevEndpoints, FunctionLogBuffer, resolve_function_name
from local.devtools import format_log_line, generated_password, random_answers

FUNCTIONS = ["survey-frontend", "survey-backend"]


class FakeIssuer:
    def __init__(self) -> None:
        self.confirmed = {"ana@example.com"}
        self.unconfirmed = {"bob@example.com"}

    def issue_tokens(self, email: str) -> dict[str, Any]:
        if email in self.unconfirmed:
            raise UserNotConfirmedException("User is not confirmed.")
        if email not in self.confirmed:
            raise UserNotFoundException("User does not exist.")
        return {"IdToken": "id.token.sig", "AccessToken": "access.token.sig", "RefreshToken": "r", "ExpiresIn": 3600}


def control_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"control"]


@pytest.fixture
def buffer() -> Iterator[FunctionLogBuffer]:
    logs = FunctionLogBuffer(max_lines=5)
    logs.install()
    try:
        yield logs
    finally:
        logs.uninstall()


def client_for(buffer: FunctionLogBuffer, issuer: Any = None) -> Client:
    endpoints = DevEndpoints(logs=buffer, function_names=lambda: list(FUNCTIONS), issuer=lambda: issuer)
    return Client(endpoints.wrap(control_app))


def log_line(function_name: str, message: str, request_id: str | None = None) -> None:
    extra = {"request_id": request_id} if request_id else None
    logging.getLogger(f"{FUNCTION_LOGGER}.{function_name}").warning("%s", message, extra=extra)


# --- the log buffer -----------------------------------------------------------------------


def test_buffer_keeps_lines_per_function(buffer: FunctionLogBuffer) -> None:
    log_line("survey-frontend", "first", "req-1")
    log_line("survey-backend", "other")
    log_line("survey-frontend", "second")
    lines = buffer.lines("survey-frontend")
    assert [line["message"] for line in lines] == ["first", "second"]
    assert lines[0]["request_id"] == "req-1"
    assert lines[0]["level"] == "WARNING"
    assert lines[0]["seq"] < lines[1]["seq"]


def test_buffer_drops_oldest_past_limit(buffer: FunctionLogBuffer) -> None:
    for number in range(8):
        log_line("survey-frontend", f"line {number}")
    assert [line["message"] for line in buffer.lines("survey-frontend")] == [f"line {n}" for n in range(3, 8)]


def test_buffer_lines_after_sequence(buffer: FunctionLogBuffer) -> None:
    log_line("survey-frontend", "old")
    after = buffer.last_sequence
    log_line("survey-frontend", "new")
    assert [line["message"] for line in buffer.lines("survey-frontend", after=after)] == ["new"]


def test_buffer_ignores_other_loggers(buffer: FunctionLogBuffer) -> None:
    logging.getLogger("local.lambda_runtime.runtime").warning("Invoked survey-frontend")
    logging.getLogger(FUNCTION_LOGGER).warning("no function")
    assert buffer.counts() == {}


def test_resolve_function_name_short_and_full() -> None:
    assert resolve_function_name("frontend", FUNCTIONS) == "survey-frontend"
    assert resolve_function_name("survey-backend", FUNCTIONS) == "survey-backend"
    assert resolve_function_name("end", FUNCTIONS) is None
    assert resolve_function_name("nope", FUNCTIONS) is None


# --- /_local/logs -------------------------------------------------------------------------


def test_logs_endpoint_lists_functions(buffer: FunctionLogBuffer) -> None:
    log_line("survey-backend", "one")
    response = client_for(buffer).get("/_local/logs")
    assert response.status_code == 200
    assert response.json == {"functions": {"survey-frontend": 0, "survey-backend": 1}}


def test_logs_endpoint_pages_with_next(buffer: FunctionLogBuffer) -> None:
    for number in range(3):
        log_line("survey-frontend", f"line {number}")
    client = client_for(buffer)
    first = client.get("/_local/logs?function=frontend&limit=2").json
    assert first["function"] == "survey-frontend"
    assert [line["message"] for line in first["lines"]] == ["line 0", "line 1"]
    second = client.get(f"/_local/logs?function=frontend&after={first['next']}").json
    assert [line["message"] for line in second["lines"]] == ["line 2"]
    third = client.get(f"/_local/logs?function=frontend&after={second['next']}").json
    assert third["lines"] == []
    assert third["next"] == second["next"]


def test_logs_endpoint_unknown_function(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer).get("/_local/logs?function=nope")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert "survey-frontend" in response.json["message"]


@pytest.mark.parametrize("query", ["after=x", "limit=0", "limit=two"])
def test_logs_endpoint_invalid_numbers(buffer: FunctionLogBuffer, query: str) -> None:
    response = client_for(buffer).get(f"/_local/logs?function=frontend&{query}")
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"


def test_logs_endpoint_rejects_post(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer).post("/_local/logs")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_other_paths_reach_control_app(buffer: FunctionLogBuffer) -> None:
    assert client_for(buffer).get("/_local/health").get_data() == b"control"


# --- /_local/token ------------------------------------------------------------------------


def test_token_endpoint_issues_tokens(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer, FakeIssuer()).post("/_local/token", json={"email": "ana@example.com"})
    assert response.status_code == 200
    assert response.json["id_token"] == "id.token.sig"
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 3600


def test_token_endpoint_unknown_user(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer, FakeIssuer()).post("/_local/token", json={"email": "zoe@example.com"})
    assert response.status_code == 404
    assert "--create" in response.json["message"]


def test_token_endpoint_unconfirmed_user(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer, FakeIssuer()).post("/_local/token", json={"email": "bob@example.com"})
    assert response.status_code == 409
    assert response.json["error"] == "conflict"


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"email": 5}', b'{"email": "  "}'])
def test_token_endpoint_invalid_body(buffer: FunctionLogBuffer, body: bytes) -> None:
    response = client_for(buffer, FakeIssuer()).post("/_local/token", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"


def test_token_endpoint_before_cognito_starts(buffer: FunctionLogBuffer) -> None:
    response = client_for(buffer, None).post("/_local/token", json={"email": "ana@example.com"})
    assert response.status_code == 503


# --- formatting and seed data -------------------------------------------------------------


def test_format_log_line_compacts_powertools_json() -> None:
    message = json.dumps(
        {"level": "INFO", "location": "dispatch:143", "message": "Action completed", "service": "survey-backend",
         "function_request_id": "fn-1", "status": 201}
    )
    line = {"seq": 1, "time": "2026-01-02T03:04:05.678+00:00", "level": "INFO", "request_id": None, "message": message}
    assert format_log_line(line, "survey-backend") == '03:04:05.678 INFO    [fn-1] dispatch:143 Action completed {"status":201}'


def test_format_log_line_json_keeps_record() -> None:
    line = {"seq": 7, "time": "2026-01-02T03:04:05.678+00:00", "level": "ERROR", "request_id": "r", "message": "boom"}
    assert json.loads(format_log_line(line, "survey-frontend", as_json=True)) == line


def test_generated_password_meets_policy() -> None:
    password = generated_password()
    assert len(password) >= 8
    assert any(character.isupper() for character in password)
    assert any(character.islower() for character in password)
    assert any(character.isdigit() for character in password)


TEMPLATE_QUESTIONS: list[dict[str, Any]] = [
    {"id": "q1", "type": "rating", "required": True, "min": 0, "max": 10},
    {"id": "q2", "type": "multiple_choice", "required": True, "options": ["A", "B", "C", "D"]},
    {"id": "q3", "type": "single_choice", "required": True, "options": ["Yes", "No"]},
    {"id": "q4", "type": "number", "required": True, "min": 0.5, "max": 1.5},
    {"id": "q5", "type": "text", "required": True, "max_length": 5},
    {"id": "q6", "type": "number", "required": False},
]


def test_random_answers_within_limits() -> None:
    rng = random.Random(5)
    for _ in range(200):
        answers = random_answers(TEMPLATE_QUESTIONS, rng)
        assert 0 <= answers["q1"] <= 10
        assert 1 <= len(answers["q2"]) <= 3
        assert len(set(answers["q2"])) == len(answers["q2"])
        assert answers["q3"] in ("Yes", "No")
        assert 0.5 <= answers["q4"] <= 1.5
        assert 1 <= len(answers["q5"]) <= 5


def test_random_answers_skip_some_optional() -> None:
    rng = random.Random(9)
    answered = sum("q6" in random_answers(TEMPLATE_QUESTIONS, rng) for _ in range(200))
    assert 0 < answered < 200


def test_format_log_line_plain_text() -> None:
    line = {"seq": 2, "time": "2026-01-02T03:04:05.678+00:00", "level": "INFO", "request_id": "abc", "message": "hello"}
    out = io.StringIO()
    print(format_log_line(line, "survey-frontend"), file=out)
    assert out.getvalue() == "03:04:05.678 INFO    [abc] hello\n"
