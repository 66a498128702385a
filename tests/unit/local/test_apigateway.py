"""RestApiProxy with a real LambdaRuntime behind it, and its event and response conversions."""
from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.test import Client

from local.apigateway import (
    MAX_REQUEST_BYTES,
    PROXY_RESOURCE,
    MalformedProxyResponse,
    RawHeadersRequestHandler,
    RestApiProxy,
    RouteTable,
    format_request_time,
    parse_proxy_response,
)
from local.lambda_runtime import LambdaRuntime
from tests.unit.local.fixtures.runtime_support import (
    ACCOUNT_ID,
    OPENAPI_PATH,
    REGION,
    RecordWaiter,
    sample_function,
    serve_wsgi,
)

REFERENCE_EVENT = Path(__file__).resolve().parents[2] / "events" / "apigw_rest_proxy_reference.json"
API_ID = "a1b2c3d4e5"
STAGE = "v1"
BASE = f"/restapis/{API_ID}/{STAGE}/_user_request_"
WEB_ORIGIN = "http://127.0.0.1:4567"
NOW = datetime(2026, 12, 4, 19, 48, 44, 123000, tzinfo=timezone.utc)
REQUEST_ID = "6f1c2a7e-0000-4000-8000-000000000001"

FUNCTIONS = [
    sample_function("proxy-echo", "handlers.proxy_echo"),
    sample_function("proxy-custom", "handlers.proxy_custom"),
    sample_function("raise", "handlers.raise_error"),
    sample_function("sleep-forever", "handlers.sleep_forever"),
]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LambdaRuntime]:
    lambda_runtime = LambdaRuntime(FUNCTIONS, region=REGION, account_id=ACCOUNT_ID)
    yield lambda_runtime
    lambda_runtime.stop()


@pytest.fixture
def records() -> Iterator[RecordWaiter]:
    waiter = RecordWaiter()
    root = logging.getLogger("local")
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(waiter)
    yield waiter
    root.removeHandler(waiter)
    root.setLevel(previous_level)


def make_proxy(
    runtime: LambdaRuntime,
    function_name: str = "proxy-echo",
    *,
    openapi_path: Path = OPENAPI_PATH,
    cors_allow_origin: str = WEB_ORIGIN,
) -> RestApiProxy:
    return RestApiProxy(
        runtime,
        function_name=function_name,
        api_id=API_ID,
        stage=STAGE,
        openapi_path=openapi_path,
        cors_allow_origin=cors_allow_origin,
        account_id=ACCOUNT_ID,
        region=REGION,
        clock=lambda: NOW,
        new_request_id=lambda: REQUEST_ID,
        random_bytes=lambda size: bytes(range(size)),
    )


def echoed_event(runtime: LambdaRuntime, method: str, path: str, **options: Any) -> dict[str, Any]:
    response = Client(make_proxy(runtime).wsgi_app).open(BASE + path, method=method, **options)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())


def custom_response(runtime: LambdaRuntime, proxy_response: Any) -> Any:
    """Send a request to a function that returns `proxy_response` as its proxy result."""
    client = Client(make_proxy(runtime, "proxy-custom").wsgi_app)
    return client.post(BASE + "/survey", data=json.dumps(proxy_response))


# Event maps whose keys are request data (header names, parameters), not part of the event's shape.
DATA_MAPS = {
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
}


def key_paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """Map every key path of the event's nested objects to its value."""
    paths: dict[str, Any] = {}
    if isinstance(value, dict) and prefix not in DATA_MAPS:
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths[path] = item
            paths.update(key_paths(item, path))
    return paths


def test_event_keys_match_reference_event(runtime: LambdaRuntime) -> None:
    # The reference has the shape of the REST API proxy event in AWS's API Gateway developer
    # guide, without `authorizer` and `identity.clientCert`, which API Gateway sends only
    # with an authorizer or mutual TLS.
    reference = key_paths(json.loads(REFERENCE_EVENT.read_text()))
    event = key_paths(
        echoed_event(
            runtime, "POST", "/items/42?parameter1=value1&parameter1=value2",
            data="hello", headers={"User-Agent": "test-agent"},
        )
    )

    assert sorted(event) == sorted(reference)
    for path, reference_value in reference.items():
        if reference_value is not None:
            assert type(event[path]) is type(reference_value), path


def test_event_request_line_fields(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "GET", "/items/42")

    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["stageVariables"] is None


def test_event_query_last_value_wins(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "GET", "/survey?survey_id=a&survey_id=b&limit=5&flag=")

    assert event["queryStringParameters"] == {"survey_id": "b", "limit": "5", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {"survey_id": ["a", "b"], "limit": ["5"], "flag": [""]}


def test_event_without_query_has_null_maps(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "GET", "/survey")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None


def test_event_unlisted_path_uses_proxy_resource(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "DELETE", "/no/such/route")

    assert event["resource"] == PROXY_RESOURCE
    assert event["pathParameters"] == {"proxy": "no/such/route"}
    assert event["requestContext"]["resourcePath"] == PROXY_RESOURCE


def test_event_request_context_fields(runtime: LambdaRuntime) -> None:
    context = echoed_event(runtime, "GET", "/items/42", headers={"User-Agent": "test-agent"})["requestContext"]

    assert context["accountId"] == ACCOUNT_ID
    assert context["apiId"] == API_ID
    assert context["stage"] == STAGE
    assert context["path"] == "/v1/items/42"
    assert context["resourcePath"] == "/items/{item_id}"
    assert context["httpMethod"] == "GET"
    assert context["requestId"] == REQUEST_ID
    assert context["extendedRequestId"] == base64.b64encode(bytes(range(11))).decode()
    assert context["requestTime"] == "04/Dec/2026:19:48:44 +0000"
    assert context["requestTimeEpoch"] == 1796413724123
    assert context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == "localhost"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "test-agent"
    assert context["identity"]["cognitoIdentityId"] is None
    assert len(context["resourceId"]) == 6


def test_event_headers_and_gateway_headers(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "GET", "/survey", headers={"X-Custom": "yes", "X-Forwarded-For": "10.0.0.1"})

    assert event["headers"]["X-Custom"] == "yes"
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 127.0.0.1"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Amzn-Trace-Id"] == f"Root=1-{int(NOW.timestamp()):08x}-{bytes(range(12)).hex()}"


def test_event_raw_headers_keep_case_and_values(runtime: LambdaRuntime) -> None:
    with serve_wsgi(make_proxy(runtime).wsgi_app, RawHeadersRequestHandler) as base_url:
        connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
        connection.putrequest("GET", BASE + "/survey")
        connection.putheader("x-MiXed-Case", "first")
        connection.putheader("x-MiXed-Case", "second")
        connection.endheaders()
        event = json.loads(connection.getresponse().read())
        connection.close()

    assert event["headers"]["x-MiXed-Case"] == "second"
    assert event["multiValueHeaders"]["x-MiXed-Case"] == ["first", "second"]


def test_event_text_body_passed_as_string(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "POST", "/survey/create", data='{"title": "Café"}', content_type="application/json")

    assert event["body"] == '{"title": "Café"}'
    assert event["isBase64Encoded"] is False


def test_event_binary_media_type_base64_encoded(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "POST", "/survey/create", data=b"plain", content_type="image/png")

    assert event["body"] == base64.b64encode(b"plain").decode()
    assert event["isBase64Encoded"] is True


def test_event_invalid_utf8_base64_encoded(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "POST", "/survey/create", data=b"\xff\xfe", content_type="text/plain")

    assert event["body"] == base64.b64encode(b"\xff\xfe").decode()
    assert event["isBase64Encoded"] is True


def test_event_empty_body_is_null(runtime: LambdaRuntime) -> None:
    event = echoed_event(runtime, "GET", "/survey")

    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_response_status_and_headers(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime).wsgi_app).get(BASE + "/survey")

    assert response.status_code == 200
    assert response.headers["X-Single"] == "one"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["x-amzn-RequestId"] == REQUEST_ID
    assert "Access-Control-Allow-Origin" not in response.headers


def test_response_base64_body_decoded(runtime: LambdaRuntime) -> None:
    response = custom_response(
        runtime, {"statusCode": 201, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )

    assert response.status_code == 201
    assert response.get_data() == b"\x00\x01"


def test_response_default_content_type_json(runtime: LambdaRuntime) -> None:
    response = custom_response(runtime, {"statusCode": 204})

    assert response.status_code == 204
    assert response.headers["Content-Type"] == "application/json"


def assert_gateway_error(response: Any, status: int, code: str, origin: str = WEB_ORIGIN) -> None:
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert sorted(response.get_json()) == ["error", "message"]
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["x-amzn-RequestId"] == REQUEST_ID


def test_gateway_function_error_is_bad_gateway(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime, "raise").wsgi_app).get(BASE + "/survey")

    assert_gateway_error(response, 502, "bad_gateway")
    assert "Traceback" not in response.get_data(as_text=True)
    assert "ValueError" not in response.get_data(as_text=True)


def test_gateway_timeout_is_bad_gateway(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime, "sleep-forever").wsgi_app).get(BASE + "/survey")

    assert_gateway_error(response, 502, "bad_gateway")
    assert response.get_json()["message"] == "The API's function timed out."


def test_gateway_malformed_response_is_bad_gateway(runtime: LambdaRuntime) -> None:
    response = custom_response(runtime, {"statusCode": "200", "body": "ok"})

    assert_gateway_error(response, 502, "bad_gateway")


def test_gateway_body_over_10_mb_rejected(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime).wsgi_app).post(BASE + "/survey/create", data=b"x" * (MAX_REQUEST_BYTES + 1))

    assert_gateway_error(response, 413, "payload_too_large")


def test_gateway_other_stage_not_found(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime).wsgi_app).get(f"/restapis/{API_ID}/prod/_user_request_/survey")

    assert_gateway_error(response, 404, "not_found")


def test_gateway_unknown_function_is_internal(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime, "no-such-function").wsgi_app).get(BASE + "/survey")

    assert_gateway_error(response, 500, "internal")
    assert "arn:aws" not in response.get_data(as_text=True)


def test_gateway_error_default_origin_is_star(runtime: LambdaRuntime) -> None:
    response = Client(make_proxy(runtime, "raise", cors_allow_origin="").wsgi_app).get(BASE + "/survey")

    assert_gateway_error(response, 502, "bad_gateway", origin="*")


def test_gateway_throttled_function_is_too_many_requests(records: RecordWaiter) -> None:
    limited = LambdaRuntime(
        [sample_function("sleep-forever", "handlers.sleep_forever", timeout_seconds=3.0, max_concurrency=1)],
        region=REGION,
        account_id=ACCOUNT_ID,
        queue_timeout_seconds=0.2,
    )
    client = Client(make_proxy(limited, "sleep-forever").wsgi_app)
    first = threading.Thread(target=client.get, args=(BASE + "/survey",))
    try:
        first.start()
        assert records.wait_for("going to sleep") is not None

        response = client.get(BASE + "/survey")
    finally:
        first.join()
        limited.stop()

    assert_gateway_error(response, 429, "too_many_requests")


def test_gateway_logs_access_line(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    Client(make_proxy(runtime).wsgi_app).get(BASE + "/survey")

    lines = [r for r in records.records if r.name == "local.apigateway" and r.getMessage().startswith("GET ")]
    assert len(lines) == 1
    assert lines[0].getMessage().startswith(f"GET {BASE}/survey 200 ")
    assert lines[0].request_id == REQUEST_ID


def test_gateway_access_line_escapes_control_characters(runtime: LambdaRuntime, records: RecordWaiter) -> None:
    Client(make_proxy(runtime).wsgi_app).get(BASE + "/survey%0aFAKE%20LINE%00")

    lines = [r.getMessage() for r in records.records if r.name == "local.apigateway" and r.getMessage().startswith("GET ")]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "\x00" not in lines[0]
    assert lines[0].startswith(f"GET {BASE}/survey\\x0aFAKE LINE\\x00 ")


def test_gateway_without_openapi_routes_to_proxy(runtime: LambdaRuntime, tmp_path: Path) -> None:
    proxy = make_proxy(runtime, openapi_path=tmp_path / "missing.yaml")

    event = json.loads(Client(proxy.wsgi_app).get(BASE + "/survey").get_data())

    assert event["resource"] == PROXY_RESOURCE


def test_gateway_reloads_edited_openapi(runtime: LambdaRuntime, tmp_path: Path) -> None:
    document = tmp_path / "openapi.yaml"
    document.write_text("paths: {}\n")
    proxy = make_proxy(runtime, openapi_path=document)
    before = json.loads(Client(proxy.wsgi_app).get(BASE + "/reports").get_data())

    document.write_text("paths:\n  /reports:\n    get: {}\n")
    after = json.loads(Client(proxy.wsgi_app).get(BASE + "/reports").get_data())

    assert before["resource"] == PROXY_RESOURCE
    assert after["resource"] == "/reports"


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/items/special", "/items/special", None),
        ("/items/42", "/items/{item_id}", {"item_id": "42"}),
        ("/items/42/", "/items/{item_id}", {"item_id": "42"}),
        ("/files/a/b/c.txt", "/files/{path+}", {"path": "a/b/c.txt"}),
        ("/files", PROXY_RESOURCE, {"proxy": "files"}),
        ("/items/42/extra", PROXY_RESOURCE, {"proxy": "items/42/extra"}),
        ("/", "/", None),
    ],
)
def test_route_table_matches_like_api_gateway(path: str, resource: str, parameters: dict | None) -> None:
    table = RouteTable(["/items/{item_id}", "/items/special", "/files/{path+}", "/survey"])

    match = table.match(path)

    assert match.resource == resource
    assert match.path_parameters == parameters


def test_format_request_time_uses_english_month() -> None:
    assert format_request_time(datetime(2026, 3, 1, 5, 6, 7, tzinfo=timezone.utc)) == "01/Mar/2026:05:06:07 +0000"


@pytest.mark.parametrize(
    "result",
    [
        [],
        {"body": "no status"},
        {"statusCode": True},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"X-Bad": "a\r\nSet-Cookie: b"}},
        {"statusCode": 200, "headers": {"X-Bad": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X-Bad": "not a list"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "isBase64Encoded": "yes"},
    ],
)
def test_parse_proxy_response_rejects_malformed(result: Any) -> None:
    with pytest.raises(MalformedProxyResponse):
        parse_proxy_response(json.dumps(result).encode())


def test_parse_proxy_response_multi_value_headers_win() -> None:
    response = parse_proxy_response(
        json.dumps(
            {
                "statusCode": 200,
                "headers": {"X-Both": "single", "Content-Type": "text/plain"},
                "multiValueHeaders": {"x-both": ["first", "second"]},
                "body": "ok",
            }
        ).encode()
    )

    assert response.headers == [("x-both", "first"), ("x-both", "second"), ("Content-Type", "text/plain")]
    assert response.body == b"ok"
