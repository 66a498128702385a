"""The handler end to end with sample API Gateway events: routing, CORS, request checks, auth, logs."""
from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace

import pytest

from frontend_fn import app
from frontend_fn.validation import MAX_BODY_BYTES

from .helpers import (
    SURVEY_ID,
    USER_EMAIL,
    USER_SUB,
    invoke_result,
    load_event,
    log_records,
    response_json,
    with_token,
)

ORIGIN = "https://surveys.example.com"


def _backend_answers(lambda_client, payload):
    lambda_client.invoke.return_value = invoke_result(payload)


def _respond_event(**changes):
    return load_event("apigw_post_survey_respond", **changes)


def _assert_error(response, status, code):
    assert response["statusCode"] == status
    assert response_json(response)["error"] == code
    assert isinstance(response_json(response)["message"], str)
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN


# Routing, CORS and security headers


def test_options_known_route_is_preflight(deps):
    response = app.handle_event(load_event("apigw_options_survey"), deps)
    assert response["statusCode"] == 204
    assert response["body"] == ""
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response["headers"]["Access-Control-Allow-Methods"] == "DELETE, GET, PATCH, OPTIONS"
    for name in ("Authorization", "Content-Type", "Idempotency-Key"):
        assert name in response["headers"]["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("path", sorted(app.ROUTER.paths))
def test_options_every_route_answers_204(deps, path):
    event = load_event("apigw_options_survey", resource=path, path=path)
    response = app.handle_event(event, deps)
    assert response["statusCode"] == 204
    assert "OPTIONS" in response["headers"]["Access-Control-Allow-Methods"]


def test_options_needs_no_token(deps):
    event = with_token(load_event("apigw_options_survey", resource="/surveys", path="/surveys"), None)
    assert app.handle_event(event, deps)["statusCode"] == 204


def test_unknown_path_is_404_with_cors(deps):
    response = app.handle_event(load_event("apigw_proxy_unknown_path"), deps)
    _assert_error(response, 404, "not_found")


def test_options_unknown_path_is_404(deps):
    event = load_event("apigw_proxy_unknown_path", httpMethod="OPTIONS")
    _assert_error(app.handle_event(event, deps), 404, "not_found")


def test_wrong_method_is_405_with_allow(deps):
    event = load_event("apigw_get_surveys", httpMethod="PUT")
    response = app.handle_event(event, deps)
    _assert_error(response, 405, "method_not_allowed")
    assert response["headers"]["Allow"] == "GET, OPTIONS"


def test_wrong_method_on_proxy_resource_is_405(deps):
    event = load_event("apigw_proxy_unknown_path", path="/survey/create", httpMethod="GET")
    response = app.handle_event(event, deps)
    _assert_error(response, 405, "method_not_allowed")
    assert response["headers"]["Allow"] == "POST, OPTIONS"


def test_trailing_slash_matches_route(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    event = with_token(load_event("apigw_get_surveys", resource="/{proxy+}", path="/surveys/"), make_token())
    assert app.handle_event(event, deps)["statusCode"] == 200


def test_cors_wildcard_when_no_origin_configured(deps):
    deps.settings = type(deps.settings)(**{**deps.settings.__dict__, "cors_allow_origin": "*"})
    response = app.handle_event(load_event("apigw_proxy_unknown_path"), deps)
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response["headers"]


def test_cors_present_without_origin_header(deps):
    event = load_event("apigw_proxy_unknown_path")
    del event["headers"]["Origin"]
    response = app.handle_event(event, deps)
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN


def test_security_headers_on_success(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    response = app.handle_event(with_token(load_event("apigw_get_surveys"), make_token()), deps)
    assert response["statusCode"] == 200
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert response["isBase64Encoded"] is False


def test_security_headers_on_error(deps):
    response = app.handle_event(load_event("apigw_proxy_unknown_path"), deps)
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"


# Request bodies


def test_body_over_limit_is_413(deps):
    event = _respond_event(body="x" * (MAX_BODY_BYTES + 1))
    _assert_error(app.handle_event(event, deps), 413, "payload_too_large")


def test_body_size_counts_utf8_bytes(deps):
    # 131,073 two-byte characters: under the limit in characters, over it in bytes.
    event = _respond_event(body="\u00e9" * (MAX_BODY_BYTES // 2 + 1))
    _assert_error(app.handle_event(event, deps), 413, "payload_too_large")


def test_body_size_counts_decoded_base64(deps, lambda_client):
    prefix = b'{"survey_id": "' + SURVEY_ID.encode() + b'", "answers": {}, "pad": "'
    raw = prefix + b"x" * (MAX_BODY_BYTES - len(prefix) - 2) + b'"}'
    assert len(raw) == MAX_BODY_BYTES
    assert len(base64.b64encode(raw)) > MAX_BODY_BYTES
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    event = _respond_event(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
    assert app.handle_event(event, deps)["statusCode"] == 201


def test_base64_body_over_limit_is_413(deps):
    event = _respond_event(body=base64.b64encode(b"x" * (MAX_BODY_BYTES + 1)).decode(), isBase64Encoded=True)
    _assert_error(app.handle_event(event, deps), 413, "payload_too_large")


def test_base64_body_fixture_is_accepted(deps, lambda_client):
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    response = app.handle_event(load_event("apigw_post_base64_body"), deps)
    assert response["statusCode"] == 201
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"]["answers"] == {"q1": "Pizza"}


def test_invalid_base64_is_400(deps):
    event = _respond_event(body="!!not base64!!", isBase64Encoded=True)
    _assert_error(app.handle_event(event, deps), 400, "bad_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"])
def test_non_json_content_type_is_415(deps, content_type):
    event = _respond_event()
    event["headers"]["Content-Type"] = content_type
    _assert_error(app.handle_event(event, deps), 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])
def test_json_content_type_with_parameters_accepted(deps, lambda_client, content_type):
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    event = _respond_event()
    event["headers"]["Content-Type"] = content_type
    assert app.handle_event(event, deps)["statusCode"] == 201


def test_missing_content_type_accepted_as_json(deps, lambda_client):
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    event = _respond_event()
    del event["headers"]["Content-Type"]
    assert app.handle_event(event, deps)["statusCode"] == 201


def test_content_type_header_lookup_ignores_case(deps):
    event = _respond_event()
    del event["headers"]["Content-Type"]
    event["headers"]["content-type"] = "text/plain"
    _assert_error(app.handle_event(event, deps), 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2, 3]",
        '"a string"',
        "42",
        "null",
        '{"survey_id": NaN}',
        '{"value": Infinity}',
        '{"value": -Infinity}',
        "",
        "   ",
        '{"a": 1} trailing',
        "\ufeff{}",
    ],
)
def test_invalid_json_body_is_400(deps, body):
    _assert_error(app.handle_event(_respond_event(body=body), deps), 400, "bad_request")


def test_long_integer_body_is_400(deps, lambda_client):
    body = '{"survey_id": "' + SURVEY_ID + '", "answers": {"q4": ' + "9" * 5000 + "}}"
    response = app.handle_event(_respond_event(body=body), deps)
    _assert_error(response, 400, "bad_request")
    assert "integer with 5000 digits" in response_json(response)["message"]
    assert "sys." not in response_json(response)["message"]
    lambda_client.invoke.assert_not_called()


def test_byte_order_mark_body_is_400(deps):
    response = app.handle_event(_respond_event(body="\ufeff{}"), deps)
    _assert_error(response, 400, "bad_request")
    assert "byte order mark" in response_json(response)["message"]
    assert "utf-8-sig" not in response_json(response)["message"]


def test_deep_json_is_400(deps):
    body = '{"survey_id": "' + SURVEY_ID + '", "answers": {"q1": ' + "[" * 40 + "]" * 40 + "}}"
    _assert_error(app.handle_event(_respond_event(body=body), deps), 400, "bad_request")


def test_very_deep_json_is_400(deps):
    body = "[" * 100_000 + "]" * 100_000
    _assert_error(app.handle_event(_respond_event(body=body), deps), 400, "bad_request")


def test_invalid_utf8_body_is_400(deps):
    event = _respond_event(body=base64.b64encode(b'{"a": "\xff\xfe"}').decode(), isBase64Encoded=True)
    _assert_error(app.handle_event(event, deps), 400, "bad_request")


@pytest.mark.parametrize(
    "body",
    [
        '{"survey_id": "' + SURVEY_ID + '", "answers": {"q1": "\\ud800"}}',
        '{"survey_id": "' + SURVEY_ID + '", "answers": {"q1": ["ok", "x\\udfff"]}}',
        '{"survey_id": "' + SURVEY_ID + '", "answers": {"\\udbff": "Yes"}}',
        '{"survey_id": "' + SURVEY_ID + '", "answers": {}, "note": "\\ude00\\ud83d"}',
    ],
    ids=["high surrogate", "low surrogate in list", "in a key", "pair in the wrong order"],
)
def test_unpaired_surrogate_escape_is_400(deps, lambda_client, body):
    _assert_error(app.handle_event(_respond_event(body=body), deps), 400, "bad_request")
    lambda_client.invoke.assert_not_called()


def test_paired_surrogate_escape_is_accepted(deps, lambda_client):
    # \ud83d\ude00 is the escaped UTF-16 pair of one emoji, valid Unicode.
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    body = '{"survey_id": "' + SURVEY_ID + '", "answers": {"q5": "\\ud83d\\ude00"}}'
    assert app.handle_event(_respond_event(body=body), deps)["statusCode"] == 201
    sent = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert sent["args"]["answers"] == {"q5": "\U0001F600"}


def test_body_ignored_on_get(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    event = with_token(load_event("apigw_get_surveys", body="not json"), make_token())
    assert app.handle_event(event, deps)["statusCode"] == 200


# Query parameters and headers


@pytest.mark.parametrize("survey_id", ["", "123", SURVEY_ID + "0", SURVEY_ID[:-1] + "g", "../" + SURVEY_ID[3:], SURVEY_ID.replace("-", ""), " " + SURVEY_ID[1:]])
def test_survey_id_must_be_uuid(deps, make_token, survey_id):
    event = with_token(load_event("apigw_get_surveys", resource="/survey", path="/survey",
                                  queryStringParameters={"survey_id": survey_id}), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "survey_id" in response_json(response)["message"]


def test_survey_id_missing_is_400(deps, make_token):
    event = with_token(load_event("apigw_get_surveys", resource="/survey/results", path="/survey/results",
                                  queryStringParameters=None), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "survey_id" in response_json(response)["message"]


def test_survey_id_upper_case_is_normalized(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"survey_id": SURVEY_ID}})
    event = with_token(load_event("apigw_get_surveys", resource="/survey", path="/survey",
                                  queryStringParameters={"survey_id": SURVEY_ID.upper()}), make_token())
    assert app.handle_event(event, deps)["statusCode"] == 200
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"] == {"survey_id": SURVEY_ID}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "1e2", "", "1000000000000000000000"])
def test_limit_out_of_range_is_400(deps, make_token, limit):
    event = with_token(load_event("apigw_get_surveys", queryStringParameters={"limit": limit}), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "limit" in response_json(response)["message"]


def test_limit_long_value_is_marked_shortened(deps, make_token):
    query = {"limit": "100000000000000000000000"}
    event = with_token(load_event("apigw_get_surveys", queryStringParameters=query), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "'10000000000000000000'… (24 characters)" in response_json(response)["message"]


def test_limit_default_is_25(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    event = with_token(load_event("apigw_get_surveys", queryStringParameters=None), make_token())
    assert app.handle_event(event, deps)["statusCode"] == 200
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"] == {"limit": 25, "next_token": None}


def test_next_token_too_long_is_400(deps, make_token):
    event = with_token(load_event("apigw_get_surveys", queryStringParameters={"next_token": "x" * 5000}), make_token())
    _assert_error(app.handle_event(event, deps), 400, "bad_request")


@pytest.mark.parametrize("export_format", ["xml", "CSV", ""])
def test_export_format_must_be_csv_or_json(deps, make_token, export_format):
    event = with_token(load_event("apigw_get_surveys", resource="/survey/export", path="/survey/export",
                                  queryStringParameters={"survey_id": SURVEY_ID, "format": export_format}), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "format" in response_json(response)["message"]


@pytest.mark.parametrize(
    "name",
    ["../x", "%2e%2e/x", "/etc/passwd", "a" * 65, "Customer", "a b", "a.json", "a/b", "", "x\n", "..", "\u0430bc"],
)
def test_template_name_attacks_are_400(deps, make_token, s3_client, name):
    event = with_token(load_event("apigw_get_template", queryStringParameters={"name": name}), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert s3_client.get_object.call_count == 0


@pytest.mark.parametrize("key", ["", "a" * 65, "has space", "semi;colon", "slash/key", "\u00e9t\u00e9", "dot.key"])
def test_invalid_idempotency_key_is_400(deps, key):
    event = _respond_event()
    event["headers"]["Idempotency-Key"] = key
    response = app.handle_event(event, deps)
    _assert_error(response, 400, "bad_request")
    assert "Idempotency-Key" in response_json(response)["message"]


def test_idempotency_key_header_is_case_insensitive(deps, lambda_client):
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    event = _respond_event()
    key = event["headers"].pop("Idempotency-Key")
    event["headers"]["idempotency-key"] = key
    assert app.handle_event(event, deps)["statusCode"] == 201
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"]["idempotency_key"] == "form-7f3a9c2e"


def test_respond_without_idempotency_key_sends_null(deps, lambda_client):
    _backend_answers(lambda_client, {"status": 201, "body": {"response_id": "r1"}})
    event = _respond_event()
    del event["headers"]["Idempotency-Key"]
    assert app.handle_event(event, deps)["statusCode"] == 201
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["args"]["idempotency_key"] is None


@pytest.mark.parametrize("answers", ['"q1"', "[1]", "null"])
def test_respond_answers_must_be_object(deps, answers):
    body = '{"survey_id": "' + SURVEY_ID + '", "answers": ' + answers + "}"
    response = app.handle_event(_respond_event(body=body), deps)
    _assert_error(response, 400, "bad_request")
    assert "answers" in response_json(response)["message"]


def test_respond_survey_id_in_body_must_be_uuid(deps):
    response = app.handle_event(_respond_event(body='{"survey_id": 5, "answers": {}}'), deps)
    _assert_error(response, 400, "bad_request")
    assert "survey_id" in response_json(response)["message"]


# Authentication


def test_owner_route_without_token_is_401(deps):
    event = with_token(load_event("apigw_get_surveys"), None)
    _assert_error(app.handle_event(event, deps), 401, "unauthorized")


def test_owner_route_with_bare_token_is_accepted(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    event = with_token(load_event("apigw_get_surveys"), make_token(), scheme="")
    assert app.handle_event(event, deps)["statusCode"] == 200


def test_authorization_header_lookup_ignores_case(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    event = with_token(load_event("apigw_get_surveys"), None)
    event["headers"]["authorization"] = f"Bearer {make_token()}"
    assert app.handle_event(event, deps)["statusCode"] == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer", "e30.e30.e30", "e30.\ud800.e30"])
def test_owner_route_with_malformed_token_is_401(deps, token):
    event = with_token(load_event("apigw_get_surveys"), token, scheme="")
    _assert_error(app.handle_event(event, deps), 401, "unauthorized")


def test_expired_token_is_401(deps, make_token):
    now = int(time.time())
    event = with_token(load_event("apigw_get_surveys"), make_token(iat=now - 7200, exp=now - 3600))
    _assert_error(app.handle_event(event, deps), 401, "unauthorized")


def test_token_checked_before_body(deps):
    event = with_token(load_event("apigw_post_survey_create", body="{not json"), None)
    _assert_error(app.handle_event(event, deps), 401, "unauthorized")


def test_jwks_down_is_503(deps, make_token, jwks_server):
    jwks_server.available = False
    event = with_token(load_event("apigw_get_surveys"), make_token())
    _assert_error(app.handle_event(event, deps), 503, "service_unavailable")


def test_caller_identity_sent_to_backend(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 201, "body": {"survey_id": SURVEY_ID}})
    event = with_token(load_event("apigw_post_survey_create"), make_token())
    response = app.handle_event(event, deps)
    assert response["statusCode"] == 201
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["action"] == "create_survey"
    assert payload["caller"] == {"sub": USER_SUB, "email": USER_EMAIL}
    assert payload["args"]["survey"]["title"] == "Team lunch"
    assert payload["request_id"] == "4b4e9c34-57b7-4a3a-9d0c-1f2e3d4c5b6a"


def test_public_route_sends_null_caller(deps, make_token, lambda_client):
    _backend_answers(lambda_client, {"status": 200, "body": {"survey_id": SURVEY_ID}})
    event = with_token(load_event("apigw_get_surveys", resource="/survey/public", path="/survey/public",
                                  queryStringParameters={"survey_id": SURVEY_ID}), make_token())
    assert app.handle_event(event, deps)["statusCode"] == 200
    payload = json.loads(lambda_client.invoke.call_args.kwargs["Payload"])
    assert payload["caller"] is None


# Failures and logs


def test_unexpected_exception_is_500_without_details(deps, make_token, lambda_client, captured_logs):
    lambda_client.invoke.side_effect = RuntimeError("secret internals arn:aws:lambda:us-east-1:123456789012:function:x")
    event = with_token(load_event("apigw_get_surveys"), make_token())
    response = app.handle_event(event, deps)
    _assert_error(response, 500, "internal")
    assert "arn:aws" not in response["body"]
    assert "RuntimeError" not in response["body"]
    records = log_records(captured_logs)
    errors = [record for record in records if record["level"] == "ERROR"]
    assert len(errors) == 1
    assert "RuntimeError" in errors[0]["exception"]


def test_request_log_line_has_method_status_duration(deps, captured_logs):
    app.handle_event(load_event("apigw_proxy_unknown_path"), deps)
    records = [record for record in log_records(captured_logs) if record["message"] == "request completed"]
    assert len(records) == 1
    assert records[0]["method"] == "GET"
    assert records[0]["resource"] == "/{proxy+}"
    assert records[0]["status"] == 404
    assert records[0]["duration_ms"] >= 0


def test_rejected_token_logged_with_reason_not_token(deps, make_token, captured_logs):
    now = int(time.time())
    token = make_token(iat=now - 7200, exp=now - 3600)
    app.handle_event(with_token(load_event("apigw_get_surveys"), token), deps)
    output = captured_logs.getvalue()
    assert "token rejected: expired" in output
    assert token not in output
    assert token.split(".")[2] not in output


def test_valid_token_never_logged(deps, make_token, lambda_client, captured_logs):
    _backend_answers(lambda_client, {"status": 200, "body": {"surveys": [], "next_token": None}})
    token = make_token()
    app.handle_event(with_token(load_event("apigw_get_surveys"), token), deps)
    output = captured_logs.getvalue()
    assert token.split(".")[1] not in output
    assert token.split(".")[2] not in output


def test_handler_logs_request_id_as_correlation_id(deps, monkeypatch, captured_logs):
    monkeypatch.setattr(app, "_dependencies", deps)
    context = SimpleNamespace(function_name="survey-frontend", memory_limit_in_mb=512,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:survey-frontend",
                              aws_request_id="f0e1d2c3-0000-4000-8000-000000000001")
    response = app.handler(load_event("apigw_proxy_unknown_path"), context)
    assert response["statusCode"] == 404
    records = log_records(captured_logs)
    assert records
    assert all(record.get("correlation_id") == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" for record in records)


def test_handler_missing_configuration_is_500(monkeypatch, captured_logs):
    monkeypatch.setattr(app, "_dependencies", None)
    for name in ("BACKEND_FUNCTION_NAME", "TEMPLATES_BUCKET", "USER_POOL_CLIENT_ID", "TOKEN_ISSUER", "JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", ORIGIN)
    context = SimpleNamespace(function_name="survey-frontend", memory_limit_in_mb=512,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:survey-frontend",
                              aws_request_id="f0e1d2c3-0000-4000-8000-000000000002")
    response = app.handler(load_event("apigw_get_surveys"), context)
    _assert_error(response, 500, "internal")
    assert "JWKS_URL" in captured_logs.getvalue()
    assert "JWKS_URL" not in response["body"]


def test_handler_builds_dependencies_from_environment(monkeypatch, jwks_server):
    monkeypatch.setattr(app, "_dependencies", None)
    monkeypatch.setenv("BACKEND_FUNCTION_NAME", "survey-backend")
    monkeypatch.setenv("TEMPLATES_BUCKET", "survey-private-123456789012")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client")
    monkeypatch.setenv("TOKEN_ISSUER", jwks_server.issuer)
    monkeypatch.setenv("JWKS_URL", jwks_server.url)
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "")
    context = SimpleNamespace(function_name="survey-frontend", memory_limit_in_mb=512,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:survey-frontend",
                              aws_request_id="f0e1d2c3-0000-4000-8000-000000000003")
    response = app.handler(load_event("apigw_options_survey"), context)
    assert response["statusCode"] == 204
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert app._dependencies is not None
