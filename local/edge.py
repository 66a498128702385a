"""The edge endpoint: one WSGI app that sends each AWS API request to the part that serves it.

Routing, first match wins:

- `/_local/*`: the control endpoints;
- requests the local Cognito claims (`X-Amz-Target: AWSCognitoIdentityProviderService.*`,
  `/<user pool id>/.well-known/*`): the signer;
- `/restapis/*`: the API Gateway REST proxy;
- `/2015-03-31/functions/*`: the Lambda Invoke API;
- everything else: moto's server app, embedded in-process (DynamoDB, S3, SNS, IAM, STS).

S3 requests addressed to a virtual host (`<bucket>.localhost:4566`,
`<bucket>.s3.localhost.localstack.cloud:4566`) always go to moto, whatever their path.

While a test has set the `sns` or `jwks` fault (`local.faults`), the edge responds to SNS
Publish and to JWKS requests with an error itself, instead of passing them on.
"""
from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qs

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import WSGIRequestHandler

from local.faults import FAULTS, Faults
from local.logs import printable

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CONTROL = "control"
COGNITO = "cognito-idp"
APIGATEWAY = "apigateway"
LAMBDA = "lambda"
MOTO = "moto"

_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id")
# The stack's own clients (provisioning, website) add this to their User-Agent; their access lines log at DEBUG.
INTERNAL_USER_AGENT = "survey-offline-stack"
# Largest form body read to name the operation of a query-protocol call (SNS, IAM, STS) in the access line.
_MAX_PEEKED_FORM_BYTES = 64 * 1024
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]"}
_WILDCARD_SERVER_NAMES = {"0.0.0.0", "::", ""}
# A user pool id is "<region>_<id>", and bucket names cannot contain "_", so this never matches an S3 path.
_USER_POOL_WELL_KNOWN = re.compile(r"^/[a-z]{2}(-[a-z]+)+-\d+_[A-Za-z0-9]+/\.well-known/(jwks\.json|openid-configuration)$")
# Operations that the `sns` fault makes fail, as `_operation` names them.
_SNS_PUBLISH_OPERATIONS = ("sns Publish", "sns PublishBatch")
# Error codes of the API contract for the statuses that http.server sends itself. The contract
# has no code for 414 or 431, so those get `bad_request`, like every other malformed request.
_SERVER_ERROR_CODES = {413: "payload_too_large", 500: "internal", 503: "service_unavailable"}
# Messages for those statuses. They repeat no part of the request, because the request line
# can contain a presigned URL's credentials and the message is also logged.
_SERVER_ERROR_MESSAGES = {
    400: "The request line or its headers are malformed.",
    414: "The request line is longer than 65536 bytes.",
    431: "The request headers are too large: a header line is over 65536 bytes or there are over 100 headers.",
    501: "The request method is not supported.",
    505: "The HTTP version is not supported; use HTTP/1.1.",
}


class JsonErrorRequestHandler(WSGIRequestHandler):
    """Request handler that writes its own errors as the API contract's JSON body with CORS.

    http.server sends these (malformed request line, headers too large) before any WSGI
    app runs, and its default body is an HTML page without `Access-Control-Allow-Origin`.
    """

    cors_allow_origin = "*"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        error = _SERVER_ERROR_CODES.get(code, "internal" if code >= 500 else "bad_request")
        text = _SERVER_ERROR_MESSAGES.get(code, f"{HTTP_STATUS_CODES.get(code, 'Error')}.")
        self.log_error("code %d, message %s", code, text)
        # A request line that failed to parse leaves the HTTP/0.9 default, under which
        # http.server writes no status line or headers at all.
        if self.request_version in ("", "HTTP/0.9"):
            self.request_version = "HTTP/1.0"
        body = json.dumps({"error": error, "message": text}).encode()
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", self.cors_allow_origin)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class CognitoApp(Protocol):
    """The part of LocalCognito the edge calls."""

    def handles(self, environ: dict[str, Any]) -> bool: ...

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...


def create_moto_app() -> WsgiApp:
    """Build moto's server app, the same one `moto_server` runs, for use inside this process."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class EdgeApp:
    """Dispatch requests on the edge port; parts that start later are attached when they are up.

    Until a part is attached, its requests get 503 with a message to retry.
    """

    def __init__(self, *, control: WsgiApp, moto_app: WsgiApp, account_id: str, faults: Faults = FAULTS) -> None:
        self.control = control
        self.moto_app = moto_app
        self.account_id = account_id
        self.faults = faults
        self.cognito: CognitoApp | None = None
        self.apigateway_app: WsgiApp | None = None
        self.lambda_app: WsgiApp | None = None

    def route(self, environ: dict[str, Any]) -> str:
        """Return the name of the part that serves this request."""
        path = environ.get("PATH_INFO", "")
        if _is_s3_virtual_host(environ.get("HTTP_HOST", "")):
            return MOTO
        if path.startswith("/_local/") or path == "/_local":
            return CONTROL
        if self.cognito is not None and self.cognito.handles(environ):
            return COGNITO
        if _claims_cognito(environ):
            # The signer is not attached yet. Return 503 rather than let moto's own
            # Cognito respond from a different user pool.
            return COGNITO
        if path.startswith("/restapis/"):
            return APIGATEWAY
        if path.startswith("/2015-03-31/functions/"):
            return LAMBDA
        return MOTO

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = self.route(environ)
        app = self._app_for(target)
        if target == MOTO:
            # moto takes the account from this header before the access key, so a stack whose
            # account id differs from moto's default needs it on every request.
            environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", self.account_id)
        operation = _operation(target, environ)
        started = time.monotonic()
        response_started = False

        def logging_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal response_started
            response_started = True
            _log_access(target, operation, environ, status, headers, started)
            return start_response(status, headers, exc_info)

        if app is None:
            return _unavailable(target, logging_start_response)
        if target == CONTROL:
            rejection = _control_rejection(environ)
            if rejection is not None:
                status, code, message = rejection
                return _contract_error(logging_start_response, status, code, message)
        fault_response = self._fault_response(target, operation, environ)
        if fault_response is not None:
            return fault_response(logging_start_response)
        try:
            return app(environ, logging_start_response)
        except Exception:
            request_id = str(uuid.uuid4())
            logger.exception(
                "%s failed on %s %s", target, printable(environ.get("REQUEST_METHOD", "-")), printable(environ.get("PATH_INFO", "-")),
                extra={"request_id": request_id},
            )
            if response_started:
                raise
            return _internal_error(request_id, logging_start_response)

    def _fault_response(
        self, target: str, operation: str, environ: dict[str, Any]
    ) -> Callable[[Callable[..., Any]], list[bytes]] | None:
        """Return the error writer of a fault that a test set for this request, or None."""
        if target == MOTO and operation in _SNS_PUBLISH_OPERATIONS and self.faults.sns_fails():
            return _sns_internal_error
        is_jwks = target == COGNITO and environ.get("PATH_INFO", "").endswith("/.well-known/jwks.json")
        if is_jwks and self.faults.jwks_unavailable():
            return _jwks_unavailable
        return None

    def _app_for(self, target: str) -> WsgiApp | None:
        if target == CONTROL:
            return self.control
        if target == COGNITO:
            return self.cognito.wsgi_app if self.cognito is not None else None
        if target == APIGATEWAY:
            return self.apigateway_app
        if target == LAMBDA:
            return self.lambda_app
        return self.moto_app


def _is_s3_virtual_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower()
    if name in _LOOPBACK_NAMES or not name:
        return False
    return name.endswith(".localhost") or ".s3." in f".{name}"


def _control_rejection(environ: dict[str, Any]) -> tuple[int, str, str] | None:
    """Return the status, code and message that reject a control request from a browser page, or None.

    A page on another site could reach the control endpoints through DNS rebinding (a Host
    header naming its own domain) or with a "simple" cross-site POST that needs no preflight.
    """
    port = environ.get("SERVER_PORT", "")
    own_names = {"localhost", "127.0.0.1", "[::1]"}
    server_name = environ.get("SERVER_NAME", "")
    if server_name and server_name not in _WILDCARD_SERVER_NAMES:
        own_names.add(f"[{server_name}]" if ":" in server_name else server_name)
    host = environ.get("HTTP_HOST", "").lower()
    allowed_hosts = {f"{name}:{port}" for name in own_names}
    if port == "80":
        # Clients leave out the default port.
        allowed_hosts |= own_names
    if host not in allowed_hosts:
        return 403, "forbidden", f"The control endpoints accept only Host localhost:{port} or 127.0.0.1:{port}."
    has_body = environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ
    is_json = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() == "application/json"
    if environ.get("REQUEST_METHOD") in ("POST", "DELETE") and has_body and not is_json:
        return 415, "unsupported_media_type", "Send the control request's body with Content-Type: application/json."
    return None


def _contract_error(start_response: Callable[..., Any], status: int, code: str, message: str) -> list[bytes]:
    payload = json.dumps({"error": code, "message": message}).encode()
    start_response(
        f"{status} {HTTP_STATUS_CODES[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def _claims_cognito(environ: dict[str, Any]) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("AWSCognitoIdentityProviderService."):
        return True
    return _USER_POOL_WELL_KNOWN.match(environ.get("PATH_INFO", "")) is not None


def _operation(target: str, environ: dict[str, Any]) -> str:
    """Name the AWS service and operation of a request for the access line."""
    amz_target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = amz_target.rsplit(".", 1)[-1] if amz_target else ""
    if target != MOTO:
        return f"{target} {operation}".rstrip()
    operation = operation or _form_action(environ)
    service = _signing_service(environ.get("HTTP_AUTHORIZATION", "")) or "aws"
    return f"{service} {operation}".rstrip()


def _form_action(environ: dict[str, Any]) -> str:
    """Return the `Action` of a query-protocol request body, leaving the body readable for moto."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return ""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return ""
    if not 0 < length <= _MAX_PEEKED_FORM_BYTES:
        return ""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    values = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])
    return values[0]


def _signing_service(authorization: str) -> str | None:
    # SigV4: "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ..."
    try:
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        return scope.split("/")[3]
    except IndexError:
        return None


def _log_access(
    target: str, operation: str, environ: dict[str, Any], status: str, headers: list[tuple[str, str]], started: float
) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    request_id = next((value for name, value in headers if name.lower() in _REQUEST_ID_HEADERS), None)
    # moto logs nothing of its own, so its requests get an INFO line. The other parts log
    # their requests themselves, and health polls and the stack's own calls would fill the
    # terminal, so those lines are DEBUG unless the response is a server error.
    internal = INTERNAL_USER_AGENT in environ.get("HTTP_USER_AGENT", "")
    level = logging.INFO if target == MOTO and not internal else logging.DEBUG
    # A 503 from /_local/health means "still starting", which start-up scripts poll for, so it stays DEBUG.
    starting = target == CONTROL and status.startswith("503")
    if status.startswith("5") and not starting:
        level = logging.WARNING
    # The query string stays out of the log because presigned URLs carry credentials in it.
    logger.log(
        level,
        "%s %s %s -> %s (%.0f ms)",
        operation,
        printable(environ.get("REQUEST_METHOD", "-")),
        printable(environ.get("PATH_INFO", "-")),
        status.split(" ", 1)[0],
        elapsed_ms,
        extra={"request_id": request_id},
    )


def _json_error(start_response: Callable[..., Any], status: int, error_type: str, message: str, request_id: str) -> list[bytes]:
    # The AWS JSON protocol's error shape, which SDK clients of every part here can parse.
    payload = json.dumps({"__type": error_type, "message": message}).encode()
    start_response(
        f"{status} {HTTP_STATUS_CODES[status]}",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", error_type),
            ("x-amzn-RequestId", request_id),
        ],
    )
    return [payload]


def _unavailable(target: str, start_response: Callable[..., Any]) -> list[bytes]:
    message = f"The offline stack's {target} part is not running yet; retry when /_local/health reports ready."
    if target == APIGATEWAY:
        # API clients (the browser app among them) expect the contract's error body and CORS.
        payload = json.dumps({"error": "service_unavailable", "message": message}).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Access-Control-Allow-Origin", "*"),
            ],
        )
        return [payload]
    return _json_error(start_response, 503, "ServiceUnavailableException", message, str(uuid.uuid4()))


def _internal_error(request_id: str, start_response: Callable[..., Any]) -> list[bytes]:
    message = f"The offline stack failed on this request; see its log for request id {request_id}."
    return _json_error(start_response, 500, "InternalFailure", message, request_id)


def _sns_internal_error(start_response: Callable[..., Any]) -> list[bytes]:
    # SNS speaks the query protocol, whose errors are this XML document.
    request_id = str(uuid.uuid4())
    payload = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type>'
        "<Code>InternalError</Code><Message>Publish failed: a test set the sns fault.</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    start_response(
        "500 Internal Server Error",
        [("Content-Type", "text/xml"), ("Content-Length", str(len(payload))), ("x-amzn-RequestId", request_id)],
    )
    return [payload]


def _jwks_unavailable(start_response: Callable[..., Any]) -> list[bytes]:
    payload = json.dumps({"message": "The JWKS is unavailable: a test set the jwks fault."}).encode()
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]
