"""The Lambda handler against the sample invoke payloads in tests/events/backend_*.json."""
from __future__ import annotations

import copy
import csv
import importlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from backend_fn.service import SurveyService

from .conftest import RESPONSES_TABLE, SURVEYS_TABLE, load_event

FIXTURE_SURVEY_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


@dataclass
class FakeLambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "survey-backend"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:survey-backend"
    aws_request_id: str = "0b5d1f4e-9c3a-4f1e-8d2b-7a6c5e4d3b2a"


@pytest.fixture
def app(aws: dict[str, Any], service: SurveyService, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the handler module with the function's environment and swap in the test service."""
    monkeypatch.setenv("SURVEYS_TABLE", SURVEYS_TABLE)
    monkeypatch.setenv("RESPONSES_TABLE", RESPONSES_TABLE)
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", aws["topic_arn"])
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "survey-backend")
    module = importlib.import_module("backend_fn.app")
    monkeypatch.setattr(module, "service", service)
    return module


def invoke(app: ModuleType, event: Any) -> dict[str, Any]:
    response = app.handler(event, FakeLambdaContext())
    # The Lambda runtime serialises the result with json.dumps, so Decimals or sets would fail here.
    return json.loads(json.dumps(response))


def event_for(name: str, survey_id: str | None = None) -> dict[str, Any]:
    event = load_event(name)
    if survey_id is not None:
        event["args"]["survey_id"] = survey_id
    return event


def create(app: ModuleType) -> str:
    response = invoke(app, load_event("create_survey"))
    assert response["status"] == 201, response
    return response["body"]["survey_id"]


def submit(app: ModuleType, survey_id: str) -> dict[str, Any]:
    return invoke(app, event_for("submit_response", survey_id))


def test_handler_create_survey(app: ModuleType) -> None:
    response = invoke(app, load_event("create_survey"))
    assert response["status"] == 201
    assert response["body"]["max_responses"] == 500
    assert response["body"]["closes_at"] == "2099-12-31T23:59:59.000Z"
    assert [question["id"] for question in response["body"]["questions"]] == ["q1", "q2", "q3", "q4", "q5"]


def test_handler_list_surveys(app: ModuleType) -> None:
    survey_id = create(app)
    response = invoke(app, load_event("list_surveys"))
    assert response["status"] == 200
    assert [summary["survey_id"] for summary in response["body"]["surveys"]] == [survey_id]
    assert response["body"]["next_token"] is None


def test_handler_get_survey(app: ModuleType) -> None:
    survey_id = create(app)
    response = invoke(app, event_for("get_survey", survey_id))
    assert response["status"] == 200
    assert response["body"]["survey_id"] == survey_id


def test_handler_update_survey(app: ModuleType) -> None:
    survey_id = create(app)
    response = invoke(app, event_for("update_survey", survey_id))
    assert response["status"] == 200
    assert response["body"]["title"] == "Renamed survey"
    assert response["body"]["status"] == "closed"
    assert response["body"]["max_responses"] is None


def test_handler_submit_then_duplicate(app: ModuleType) -> None:
    survey_id = create(app)
    first = submit(app, survey_id)
    second = submit(app, survey_id)
    assert first["status"] == 201
    assert second["status"] == 200
    assert second["body"] == first["body"]


def test_handler_get_public_survey(app: ModuleType) -> None:
    survey_id = create(app)
    response = invoke(app, event_for("get_public_survey", survey_id))
    assert response["status"] == 200
    assert "owner" not in json.dumps(response)


def test_handler_list_responses(app: ModuleType) -> None:
    survey_id = create(app)
    submit(app, survey_id)
    response = invoke(app, event_for("list_responses", survey_id))
    assert response["status"] == 200
    assert len(response["body"]["responses"]) == 1


def test_handler_get_results(app: ModuleType) -> None:
    survey_id = create(app)
    submit(app, survey_id)
    response = invoke(app, event_for("get_results", survey_id))
    assert response["status"] == 200
    assert response["body"]["response_count"] == 1
    assert response["body"]["questions"][3]["average"] == 2.5


def test_handler_export_csv(app: ModuleType) -> None:
    survey_id = create(app)
    submit(app, survey_id)
    response = invoke(app, event_for("export_responses", survey_id))
    assert response["status"] == 200
    assert response["content_type"] == "text/csv"
    assert len(list(csv.reader(io.StringIO(response["body"])))) == 2


def test_handler_export_json_has_no_content_type(app: ModuleType) -> None:
    survey_id = create(app)
    event = event_for("export_responses", survey_id)
    event["args"]["format"] = "json"
    response = invoke(app, event)
    assert response["status"] == 200
    assert "content_type" not in response
    assert isinstance(response["body"], list)


def test_handler_delete_survey(app: ModuleType) -> None:
    survey_id = create(app)
    submit(app, survey_id)
    response = invoke(app, event_for("delete_survey", survey_id))
    assert response == {"status": 200, "body": {"survey_id": survey_id, "deleted": True, "responses_deleted": 1}}


@pytest.mark.parametrize(
    "name",
    ["get_survey", "update_survey", "delete_survey", "list_responses", "get_results", "export_responses", "get_public_survey", "submit_response"],
)
def test_handler_fixture_survey_is_not_found(app: ModuleType, name: str) -> None:
    response = invoke(app, load_event(name))
    assert response == {"status": 404, "error": "not_found", "message": f"Survey {FIXTURE_SURVEY_ID} was not found."}


def test_handler_invalid_survey_names_field(app: ModuleType) -> None:
    event = load_event("create_survey")
    event["args"]["survey"]["questions"][2]["max"] = 11
    response = invoke(app, event)
    assert response["status"] == 400
    assert response["error"] == "bad_request"
    assert "questions[2].max" in response["message"]


def test_handler_closed_survey_is_gone(app: ModuleType) -> None:
    survey_id = create(app)
    invoke(app, event_for("update_survey", survey_id))
    event = event_for("submit_response", survey_id)
    event["args"]["idempotency_key"] = None
    response = invoke(app, event)
    assert response["status"] == 410
    assert response["error"] == "gone"


@pytest.mark.parametrize(
    ("event", "status", "error"),
    [
        (["not", "an", "object"], 400, "bad_request"),
        ({"action": "drop_tables", "caller": None, "args": {}}, 400, "bad_request"),
        ({"caller": None, "args": {}}, 400, "bad_request"),
        ({"action": "get_public_survey", "caller": None, "args": ["x"]}, 400, "bad_request"),
        ({"action": "get_public_survey", "caller": None, "args": {}}, 400, "bad_request"),
        ({"action": "list_surveys", "caller": None, "args": {}}, 401, "unauthorized"),
        ({"action": "list_surveys", "caller": {"sub": ""}, "args": {}}, 401, "unauthorized"),
        ({"action": "list_surveys", "caller": {"sub": "a"}, "args": {"limit": "ten"}}, 400, "bad_request"),
        ({"action": "list_surveys", "caller": {"sub": "a"}, "args": {"next_token": "%%%"}}, 400, "bad_request"),
    ],
)
def test_handler_rejects_bad_payloads(app: ModuleType, event: Any, status: int, error: str) -> None:
    response = invoke(app, event)
    assert response["status"] == status
    assert response["error"] == error
    assert response["message"]


def test_handler_unexpected_error_raises(app: ModuleType, service: SurveyService) -> None:
    event = load_event("get_survey")
    with mock.patch.object(service, "get_survey", autospec=True, side_effect=RuntimeError("disk on fire")):
        with pytest.raises(RuntimeError):
            app.handler(event, FakeLambdaContext())


@pytest.fixture
def log_output(app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """Redirect the Powertools handler to a buffer and return a reader that parses and clears it.

    The handler keeps the sys.stdout it saw at import, so pytest's capsys does not see its lines.
    """
    buffer = io.StringIO()
    monkeypatch.setattr(app.logger.registered_handler, "stream", buffer)

    def read() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
        buffer.seek(0)
        buffer.truncate()
        return lines

    return read


def test_handler_logs_keys_without_answers(app: ModuleType, log_output: Callable[[], list[dict[str, Any]]]) -> None:
    survey_id = create(app)
    log_output()
    event = event_for("submit_response", survey_id)
    event["args"]["answers"]["q3"] = 9
    submit(app, survey_id)
    invoke(app, event)
    lines = log_output()
    outcomes = [line for line in lines if line.get("message") in ("Action completed", "Action rejected")]
    assert [line["status"] for line in outcomes] == [201, 400]
    assert {line["request_id"] for line in outcomes} == {"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
    assert {line["action"] for line in outcomes} == {"submit_response"}
    assert {line["survey_id"] for line in outcomes} == {survey_id}
    joined = "\n".join(json.dumps(line) for line in lines)
    assert "Great food" not in joined
    assert "3f2b9c1e-retry-1" not in joined


def test_handler_logs_no_email(app: ModuleType, log_output: Callable[[], list[dict[str, Any]]]) -> None:
    create(app)
    lines = log_output()
    assert lines
    assert "owner@example.com" not in json.dumps(lines)


def test_handler_clears_keys_per_invocation(
    app: ModuleType, log_output: Callable[[], list[dict[str, Any]]]
) -> None:
    create(app)
    event = copy.deepcopy(load_event("list_surveys"))
    del event["request_id"]
    log_output()
    invoke(app, event)
    lines = log_output()
    assert lines
    assert all("request_id" not in line for line in lines)
