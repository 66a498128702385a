"""Routing of the edge endpoint, with stand-ins for every part."""
from __future__ import annotations

import json
import logging
import socket
from urllib.parse import urlsplit
from typing import Any

import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from local.edge import APIGATEWAY, COGNITO, CONTROL, LAMBDA, MOTO, EdgeApp, JsonErrorRequestHandler
from tests.unit.local.fixtures.runtime_support import serve_wsgi

SIGV4_DYNAMODB = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


class RecordingApp:
    """A WSGI stand-in that records the environ it got and responds with its own name."""

    def __init__(self, name: str, headers: list[tuple[str, str]] | None = None) -> None:
        self.name = name
        self.headers = headers or []
        self.environ: dict[str, Any] | None = None
        self.body: bytes | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environ = environ
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        start_response("200 OK", [("Content-Type", "text/plain"), *self.headers])
        return [self.name.encode()]


class StubCognito:
    def __init__(self) -> None:
        self.app = RecordingApp("cognito")

    def handles(self, environ: dict[str, Any]) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        return target.startswith("AWSCognitoIdentityProviderService.") or environ["PATH_INFO"].startswith(
            "/us-east-1_LocalPool/.well-known/"
        )

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return self.app(environ, start_response)


@pytest.fixture
def moto() -> RecordingApp:
    return RecordingApp("moto", headers=[("x-amzn-RequestId", "moto-request-1")])


@pytest.fixture
def edge(moto: RecordingApp) -> EdgeApp:
    return EdgeApp(control=RecordingApp("control"), moto_app=moto, account_id="000000000042")


@pytest.fixture
def attached(edge: EdgeApp) -> EdgeApp:
    edge.cognito = StubCognito()
    edge.apigateway_app = RecordingApp("apigateway")
    edge.lambda_app = RecordingApp("lambda")
    return edge


def _environ(path: str = "/", method: str = "GET", headers: dict[str, str] | None = None, host: str = "127.0.0.1:4600") -> dict[str, Any]:
    builder = EnvironBuilder(path=path, method=method, headers={"Host": host, **(headers or {})})
    return builder.get_environ()


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/_local/health", {}, CONTROL),
        ("/restapis/abc123defg/v1/_user_request_/surveys", {}, APIGATEWAY),
        ("/2015-03-31/functions/survey-backend/invocations", {}, LAMBDA),
        ("/", {"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}, COGNITO),
        ("/us-east-1_LocalPool/.well-known/jwks.json", {}, COGNITO),
        ("/", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, MOTO),
        ("/survey-web-123456789012/index.html", {}, MOTO),
        ("/survey-web-123456789012/.well-known/jwks.json", {}, MOTO),
    ],
)
def test_edge_routes(attached: EdgeApp, path: str, headers: dict[str, str], expected: str) -> None:
    assert attached.route(_environ(path, headers=headers)) == expected


@pytest.mark.parametrize("host", ["survey-web-123456789012.localhost:4600", "bucket.s3.localhost.localstack.cloud:4600"])
def test_edge_virtual_host_goes_to_moto(attached: EdgeApp, host: str) -> None:
    assert attached.route(_environ("/restapis/x", host=host)) == MOTO


def test_edge_jwks_before_signer_is_503(edge: EdgeApp) -> None:
    response = Client(edge).get("/us-east-1_LocalPool/.well-known/jwks.json")
    assert response.status_code == 503


def test_edge_dispatches_to_attached_parts(attached: EdgeApp) -> None:
    client = Client(attached)
    assert client.get("/restapis/abc/v1/_user_request_/x").data == b"apigateway"
    assert client.post("/2015-03-31/functions/f/invocations").data == b"lambda"
    assert client.post("/", headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}).data == b"cognito"
    assert client.get("/_local/outputs").data == b"control"
    assert client.get("/some-bucket").data == b"moto"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/2015-03-31/functions/f/invocations", {}),
        ("/", {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}),
    ],
)
def test_edge_unattached_aws_part_is_503(edge: EdgeApp, path: str, headers: dict[str, str]) -> None:
    response = Client(edge).post(path, headers=headers)
    assert response.status_code == 503
    assert response.headers["x-amzn-ErrorType"] == "ServiceUnavailableException"
    assert "health" in json.loads(response.data)["message"]


def test_edge_unattached_api_is_contract_503(edge: EdgeApp) -> None:
    response = Client(edge).get("/restapis/abc/v1/_user_request_/surveys")
    assert response.status_code == 503
    assert response.json["error"] == "service_unavailable"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_edge_sets_account_header_for_moto(edge: EdgeApp, moto: RecordingApp) -> None:
    Client(edge).get("/some-bucket")
    assert moto.environ is not None
    assert moto.environ["HTTP_X_MOTO_ACCOUNT_ID"] == "000000000042"


def test_edge_keeps_form_body_for_moto(edge: EdgeApp, moto: RecordingApp) -> None:
    body = "Action=Publish&TopicArn=arn&Message=hello"
    Client(edge).post("/", data=body, content_type="application/x-www-form-urlencoded")
    assert moto.body == body.encode()


def test_edge_part_failure_is_500_without_traceback(edge: EdgeApp) -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("secret internals")

    edge.lambda_app = broken
    response = Client(edge).post("/2015-03-31/functions/f/invocations")
    assert response.status_code == 500
    assert response.headers["x-amzn-ErrorType"] == "InternalFailure"
    assert "secret internals" not in response.get_data(as_text=True)


def test_edge_access_line_names_operation(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.edge")
    Client(edge).post(
        "/",
        data=json.dumps({}),
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Authorization": SIGV4_DYNAMODB},
    )
    record = caplog.records[-1]
    assert record.getMessage().startswith("dynamodb ListTables POST / -> 200")
    assert record.request_id == "moto-request-1"


def test_edge_access_line_names_form_action(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.edge")
    Client(edge).post("/", data="Action=Publish&Message=x", content_type="application/x-www-form-urlencoded")
    assert caplog.records[-1].getMessage().startswith("aws Publish POST /")


def test_edge_access_line_omits_query_string(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.edge")
    Client(edge).get("/bucket/key?X-Amz-Signature=secret")
    assert "secret" not in caplog.records[-1].getMessage()


def test_edge_access_line_escapes_newline_in_path(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.edge")
    Client(edge).get("/bucket%0aFAKE%20LINE%00")
    message = caplog.records[-1].getMessage()
    assert "\n" not in message
    assert "\x00" not in message
    assert "/bucket\\x0aFAKE LINE\\x00" in message


def test_edge_control_and_internal_at_debug(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="local.edge")
    client = Client(edge)
    client.get("/_local/health")
    client.get("/bucket", headers={"User-Agent": "Boto3/1.0 survey-offline-stack"})
    assert [record.levelno for record in caplog.records] == [logging.DEBUG, logging.DEBUG]


def test_edge_self_logging_parts_at_debug(attached: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="local.edge")
    Client(attached).get("/restapis/abc/v1/_user_request_/x")
    assert caplog.records[-1].levelno == logging.DEBUG


def test_edge_server_error_logs_warning(edge: EdgeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="local.edge")
    Client(edge).post("/2015-03-31/functions/f/invocations")
    assert caplog.records[-1].levelno == logging.WARNING
    assert "-> 503" in caplog.records[-1].getMessage()


def send_raw_request(base_url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send `request` as is and return the status line, headers and body of the response."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status_line, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_server_errors_use_contract_json(request_bytes: bytes, status: int) -> None:
    with serve_wsgi(RecordingApp("unused"), JsonErrorRequestHandler) as base_url:
        status_line, headers, body = send_raw_request(base_url, request_bytes)

    assert status_line.startswith(f"HTTP/1.0 {status} ") or status_line.startswith(f"HTTP/1.1 {status} ")
    assert headers.get("access-control-allow-origin") == "*"
    assert headers.get("content-type") == "application/json"
    assert json.loads(body)["error"] == "bad_request"
    assert "aaaa" not in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("host", "content_type", "status"),
    [
        ("evil.example", "application/json", 403),
        ("evil.example:4566", "application/json", 403),
        ("127.0.0.1:4566", "text/plain", 415),
        ("localhost:4566", "application/x-www-form-urlencoded", 415),
    ],
)
def test_edge_control_rejects_cross_site(edge: EdgeApp, host: str, content_type: str, status: int) -> None:
    builder = EnvironBuilder(
        path="/_local/token", method="POST", data='{"email":"alice@example.com"}',
        content_type=content_type, base_url=f"http://{host}",
    )
    environ = builder.get_environ()
    environ["SERVER_NAME"], environ["SERVER_PORT"] = "127.0.0.1", "4566"
    # Called directly because Client rebuilds SERVER_NAME from the Host header, which a real server does not.
    body, response_status, _ = run_wsgi_app(edge, environ)
    assert response_status.startswith(str(status))
    assert b"".join(body) != b"control"


@pytest.mark.parametrize("host", ["127.0.0.1:4566", "localhost:4566", "LOCALHOST:4566"])
def test_edge_control_accepts_own_host(edge: EdgeApp, host: str) -> None:
    builder = EnvironBuilder(
        path="/_local/token", method="POST", data="{}", content_type="application/json; charset=utf-8",
        base_url=f"http://{host}",
    )
    environ = builder.get_environ()
    environ["SERVER_NAME"], environ["SERVER_PORT"] = "127.0.0.1", "4566"
    body, _, _ = run_wsgi_app(edge, environ)
    assert b"".join(body) == b"control"
