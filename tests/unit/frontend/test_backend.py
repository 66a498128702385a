"""Backend calls through a fake Lambda client: handled results, function errors, timeouts, garbage."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from frontend_fn import app
from frontend_fn.backend import BackendFailure, parse_result
from frontend_fn.config import Settings
from frontend_fn.dependencies import backend_client_config

from .helpers import BACKEND_FUNCTION, SURVEY_ID, invoke_result, load_event, log_records, response_json, with_token


def _get_survey_event(token: str, path: str = "/survey", query: dict | None = None) -> dict:
    event = load_event("apigw_get_surveys", resource=path, path=path,
                       queryStringParameters=query or {"survey_id": SURVEY_ID})
    return with_token(event, token)


def _assert_bad_gateway(response):
    assert response["statusCode"] == 502
    assert response_json(response) == {"error": "bad_gateway", "message": "The survey service failed; try again later."}
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://surveys.example.com"


def test_backend_invoked_with_request_response(deps, make_token, lambda_client):
    lambda_client.invoke.return_value = invoke_result({"status": 200, "body": {"survey_id": SURVEY_ID}})
    app.handle_event(_get_survey_event(make_token()), deps)
    kwargs = lambda_client.invoke.call_args.kwargs
    assert kwargs["FunctionName"] == BACKEND_FUNCTION
    assert kwargs["InvocationType"] == "RequestResponse"
    payload = json.loads(kwargs["Payload"])
    assert payload["action"] == "get_survey"
    assert payload["args"] == {"survey_id": SURVEY_ID}
    assert payload["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_backend_success_body_returned_as_is(deps, make_token, lambda_client):
    survey = {"survey_id": SURVEY_ID, "title": "Caf\u00e9 survey", "questions": []}
    lambda_client.invoke.return_value = invoke_result({"status": 200, "body": survey})
    response = app.handle_event(_get_survey_event(make_token()), deps)
    assert response["statusCode"] == 200
    assert response_json(response) == survey


@pytest.mark.parametrize(("status", "code"), [(400, "bad_request"), (403, "forbidden"), (404, "not_found"),
                                              (409, "conflict"), (410, "gone"), (429, "too_many_requests")])
def test_backend_handled_error_passed_on(deps, make_token, lambda_client, status, code):
    lambda_client.invoke.return_value = invoke_result({"status": status, "error": code, "message": "questions[2].options: too few options."})
    response = app.handle_event(_get_survey_event(make_token()), deps)
    assert response["statusCode"] == status
    assert response_json(response) == {"error": code, "message": "questions[2].options: too few options."}


def test_backend_error_code_follows_status(deps, make_token, lambda_client):
    lambda_client.invoke.return_value = invoke_result({"status": 404, "error": "missing", "message": "Survey was not found."})
    response = app.handle_event(_get_survey_event(make_token()), deps)
    assert response_json(response)["error"] == "not_found"


def test_backend_message_with_arn_replaced(deps, make_token, lambda_client):
    message = "AccessDenied on arn:aws:dynamodb:us-east-1:123456789012:table/survey-surveys"
    lambda_client.invoke.return_value = invoke_result({"status": 500, "error": "internal", "message": message})
    response = app.handle_event(_get_survey_event(make_token()), deps)
    assert response["statusCode"] == 500
    assert "arn:aws" not in response["body"]


def test_backend_csv_export_content_type(deps, make_token, lambda_client):
    csv_text = "response_id,submitted_at,q1\r\nr1,2026-12-04T19:48:44.000Z,Yes\r\n"
    lambda_client.invoke.return_value = invoke_result({"status": 200, "body": csv_text, "content_type": "text/csv"})
    event = _get_survey_event(make_token(), "/survey/export", {"survey_id": SURVEY_ID, "format": "csv"})
    response = app.handle_event(event, deps)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert response["body"] == csv_text
    assert response["headers"]["Content-Disposition"] == f'attachment; filename="survey-{SURVEY_ID}.csv"'
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"] == {"survey_id": SURVEY_ID, "format": "csv"}


def test_backend_json_export_is_array(deps, make_token, lambda_client):
    rows = [{"response_id": "r1", "submitted_at": "2026-12-04T19:48:44.000Z", "answers": {"q1": "Yes"}}]
    lambda_client.invoke.return_value = invoke_result({"status": 200, "body": rows})
    event = _get_survey_event(make_token(), "/survey/export", {"survey_id": SURVEY_ID, "format": "json"})
    response = app.handle_event(event, deps)
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert response_json(response) == rows


def test_backend_function_error_is_502(deps, make_token, lambda_client, captured_logs):
    error_payload = {"errorMessage": "boom", "errorType": "KeyError", "stackTrace": ["  File app.py line 3"]}
    lambda_client.invoke.return_value = invoke_result(error_payload, function_error="Unhandled")
    response = app.handle_event(_get_survey_event(make_token()), deps)
    _assert_bad_gateway(response)
    assert "KeyError" not in response["body"]
    failures = [record for record in log_records(captured_logs) if record["message"] == "Backend call failed"]
    assert len(failures) == 1
    assert "FunctionError Unhandled" in failures[0]["reason"]


@pytest.mark.parametrize(
    "exception",
    [
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9/2015-03-31/functions/survey-backend/invocations"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found: arn:aws:lambda:x"}}, "Invoke"),
        ClientError({"Error": {"Code": "ServiceException", "Message": "internal"}}, "Invoke"),
    ],
    ids=["read-timeout", "connect-timeout", "connection-error", "not-found", "service-exception"],
)
def test_backend_transport_failure_is_502(deps, make_token, lambda_client, exception):
    lambda_client.invoke.side_effect = exception
    response = app.handle_event(_get_survey_event(make_token()), deps)
    _assert_bad_gateway(response)
    assert "arn:aws" not in response["body"]


def test_backend_throttled_is_503(deps, make_token, lambda_client):
    lambda_client.invoke.side_effect = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke")
    response = app.handle_event(_get_survey_event(make_token()), deps)
    assert response["statusCode"] == 503
    assert response_json(response)["error"] == "service_unavailable"


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b'"ok"',
        b"null",
        b'{"body": {}}',
        b'{"status": "200", "body": {}}',
        b'{"status": true, "body": {}}',
        b'{"status": 200.0, "body": {}}',
        b'{"status": 200}',
        b'{"status": 200, "body": "text without content type"}',
        b'{"status": 200, "body": 5}',
        b'{"status": 200, "body": {"x": NaN}}',
        b'{"status": 200, "body": "a,b", "content_type": "text/html"}',
        b'{"status": 200, "body": {"a": 1}, "content_type": "text/csv"}',
        b'{"status": 200, "body": "a,b", "content_type": 7}',
        b'{"status": 201, "body": {}}',
        b'{"status": 204, "body": {}}',
        b'{"status": 302, "body": {}}',
        b'{"status": 401, "error": "unauthorized", "message": "x"}',
        b'{"status": 502, "error": "bad_gateway", "message": "x"}',
        b'{"status": 999, "error": "x", "message": "x"}',
    ],
)
def test_backend_garbage_payload_is_502(deps, make_token, lambda_client, payload):
    lambda_client.invoke.return_value = invoke_result(payload)
    _assert_bad_gateway(app.handle_event(_get_survey_event(make_token()), deps))


def test_backend_repeat_submit_returns_200(deps, lambda_client):
    lambda_client.invoke.return_value = invoke_result({"status": 200, "body": {"response_id": "r1"}})
    response = app.handle_event(load_event("apigw_post_survey_respond"), deps)
    assert response["statusCode"] == 200
    assert response_json(response) == {"response_id": "r1"}


def test_parse_result_create_needs_201():
    with pytest.raises(BackendFailure):
        parse_result("create_survey", b'{"status": 200, "body": {}}')


def test_parse_result_missing_message_gets_generic():
    result = parse_result("get_survey", b'{"status": 404, "error": "not_found"}')
    assert result.status == 404
    assert result.body["error"] == "not_found"
    assert result.body["message"]


def test_backend_client_config_has_one_attempt(settings: Settings):
    config = backend_client_config(settings)
    assert config.retries["total_max_attempts"] == 1
    assert config.read_timeout > settings.backend_timeout_seconds
