"""The offline stack's API Gateway: a REST API whose every route is a Lambda proxy integration.

`RestApiProxy` serves `/restapis/<api id>/<stage>/_user_request_/<path>` (LocalStack's URL
form), builds the REST API proxy event as API Gateway does, invokes the function in
process through `LambdaRuntime` and turns the proxy response back into HTTP. Errors of
the gateway itself use the project's gateway responses: the contract's error body with
CORS headers.
"""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from local.lambda_runtime.errors import (
    LambdaServiceError,
    RequestTooLargeException,
    TooManyRequestsException,
)
from local.logs import printable

if TYPE_CHECKING:
    from local.lambda_runtime import LambdaRuntime

logger = logging.getLogger(__name__)

# API Gateway's limit for a REST API request's payload: 10 MB.
MAX_REQUEST_BYTES = 10_485_760
# The environ key under which RawHeadersRequestHandler stores the headers as sent.
RAW_HEADERS_ENVIRON_KEY = "local.raw_headers"
# Resource of the catch-all route that receives paths the OpenAPI document does not list.
PROXY_RESOURCE = "/{proxy+}"
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}
# Messages for a function whose code cannot load. They say where the details are, because the
# response must not contain the file paths or the traceback that the stack's log shows.
_LOAD_ERROR_MESSAGES = {
    "Runtime.UserCodeSyntaxError": "The API's function failed to load: its code has a syntax error. The stack's log shows the file and line.",
    "Runtime.ImportModuleError": "The API's function failed to load: a module could not be imported. The stack's log shows which.",
}
# English month abbreviations, because requestTime must not depend on the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class RawHeadersRequestHandler(WSGIRequestHandler):
    """Werkzeug request handler that also stores the request's headers as the client sent them.

    WSGI upper-cases header names and joins repeated headers, while API Gateway's
    event keeps the client's spelling and every value. Without this handler, the
    event gets werkzeug's Title-Case names and one joined value per header. The
    handler calls super(), so it combines with other handlers in a subclass.
    """

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[RAW_HEADERS_ENVIRON_KEY] = list(self.headers.items())
        return environ


class MalformedProxyResponse(Exception):
    """The function's result is not a valid Lambda proxy integration response."""


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    path_parameters: dict[str, str] | None


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class RouteTable:
    """The REST API's resources, matched as API Gateway does: literal segments before variables."""

    def __init__(self, resources: Iterable[str], binary_media_types: Iterable[str] = ()) -> None:
        self.binary_media_types = [media_type.lower() for media_type in binary_media_types]
        self.resources = sorted(set(resources), key=_resource_precedence)

    @classmethod
    def from_openapi(cls, document: dict[str, Any]) -> RouteTable:
        paths = document.get("paths") or {}
        resources = [path for path, item in paths.items() if isinstance(item, dict) and _HTTP_METHODS & set(item)]
        return cls(resources, document.get("x-amazon-apigateway-binary-media-types") or ())

    def match(self, path: str) -> RouteMatch:
        """Return the resource for `path`, or the catch-all `/{proxy+}` when none matches."""
        segments = _split_path(path)
        for resource in self.resources:
            parameters = _match_resource(_split_path(resource), segments)
            if parameters is not None:
                return RouteMatch(resource, parameters or None)
        if not segments:
            return RouteMatch("/", None)
        return RouteMatch(PROXY_RESOURCE, {"proxy": "/".join(segments)})

    def is_binary(self, content_type: str | None) -> bool:
        if not content_type:
            return False
        media_type = content_type.split(";", 1)[0].strip().lower()
        return any(fnmatch.fnmatchcase(media_type, pattern) for pattern in self.binary_media_types)


def _split_path(path: str) -> list[str]:
    # API Gateway ignores a trailing slash, and the root path has no segments.
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _resource_precedence(resource: str) -> tuple[int, int, int]:
    segments = _split_path(resource)
    greedy = sum(1 for segment in segments if segment.endswith("+}"))
    variables = sum(1 for segment in segments if segment.startswith("{"))
    return greedy, variables, -len(segments)


def _match_resource(template: list[str], segments: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return parameters if len(template) == len(segments) else None


@dataclass(frozen=True)
class GatewayRequest:
    """The parts of an HTTP request that API Gateway puts into the proxy event."""

    method: str
    # The path below the stage, starting with "/".
    path: str
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str
    # The Host header, which is requestContext.domainName.
    host: str


def build_proxy_event(
    request: GatewayRequest,
    route: RouteMatch,
    *,
    api_id: str,
    stage: str,
    account_id: str,
    request_id: str,
    extended_request_id: str,
    now: datetime,
    is_binary: bool,
) -> dict[str, Any]:
    """Build the REST API (v1) proxy event that API Gateway sends for `request`."""
    headers: dict[str, str] = {}
    multi_value_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_value_headers.setdefault(name, []).append(value)

    query: dict[str, str] = {}
    multi_value_query: dict[str, list[str]] = {}
    for name, value in request.query:
        # The single-value map keeps the last value, as API Gateway does.
        query[name] = value
        multi_value_query.setdefault(name, []).append(value)

    body: str | None = None
    is_base64_encoded = False
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            # API Gateway would garble non-UTF-8 bytes unless the content type is binary, but base64 keeps them intact.
            text = None
        if text is None or is_binary:
            body = base64.b64encode(request.body).decode("ascii")
            is_base64_encoded = True
        else:
            body = text

    user_agent = next((value for name, value in request.headers if name.lower() == "user-agent"), None)
    domain_name = request.host
    return {
        "resource": route.resource,
        "path": request.path,
        # HEAD stays HEAD, as on a REST API whose routes declare no HEAD method: the function answers 405.
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_value_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_value_query or None,
        "pathParameters": route.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0].split(":", 1)[0],
            "extendedRequestId": extended_request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": f"/{stage}{request.path}",
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": format_request_time(now),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": resource_id(route.resource),
            "resourcePath": route.resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64_encoded,
    }


def format_request_time(now: datetime) -> str:
    """Format a time as requestContext.requestTime, e.g. `04/Dec/2026:19:48:44 +0000`."""
    utc = now.astimezone(timezone.utc)
    return f"{utc:%d}/{_MONTHS[utc.month - 1]}/{utc:%Y:%H:%M:%S} +0000"


def resource_id(resource: str) -> str:
    """Return a stable 6-character id for a resource, shaped like API Gateway's resource ids."""
    digest = int.from_bytes(hashlib.sha256(resource.encode()).digest()[:8], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    characters = []
    for _ in range(6):
        digest, remainder = divmod(digest, len(alphabet))
        characters.append(alphabet[remainder])
    return "".join(characters)


def parse_proxy_response(payload: bytes) -> GatewayResponse:
    """Turn a function's proxy integration result into an HTTP response.

    Raises MalformedProxyResponse, with the reason, in the cases where API Gateway
    returns 502 "Malformed Lambda proxy response".
    """
    try:
        result = json.loads(payload)
    except ValueError as exc:
        raise MalformedProxyResponse(f"the result is not JSON: {exc}") from exc
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"the result is a JSON {type(result).__name__}, not an object")

    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode must be an integer from 100 to 599, not {status!r}")

    headers = _proxy_headers(result)
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string or null, not a JSON {type(body).__name__}")
    is_base64_encoded = result.get("isBase64Encoded", False)
    if not isinstance(is_base64_encoded, bool):
        raise MalformedProxyResponse(f"isBase64Encoded must be a boolean, not {is_base64_encoded!r}")

    if body is None:
        body_bytes = b""
    elif is_base64_encoded:
        try:
            body_bytes = base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise MalformedProxyResponse(f"body is not valid base64: {exc}") from exc
    else:
        body_bytes = body.encode("utf-8")

    if not any(name.lower() == "content-type" for name, _ in headers):
        # API Gateway's default Content-Type for a proxy response without one.
        headers.append(("Content-Type", "application/json"))
    return GatewayResponse(status=status, headers=headers, body=body_bytes)


def _proxy_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict):
        raise MalformedProxyResponse("headers must be an object")
    if not isinstance(multi, dict):
        raise MalformedProxyResponse("multiValueHeaders must be an object")

    headers: list[tuple[str, str]] = []
    multi_names = {name.lower() for name in multi}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((name, _header_value(name, value)) for value in values)
    # A header in both maps takes the values of multiValueHeaders, as API Gateway merges them.
    for name, value in single.items():
        if name.lower() not in multi_names:
            headers.append((name, _header_value(name, value)))
    return headers


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise MalformedProxyResponse(f"header {name!r} has a JSON {type(value).__name__} value, not a string")
    if "\r" in text or "\n" in text or "\r" in name or "\n" in name:
        raise MalformedProxyResponse(f"header {name!r} contains a line break")
    return text


class _OpenApiRoutes:
    """The route table of an OpenAPI file, read again when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._table = RouteTable([])
        self._missing_logged = False

    def table(self) -> RouteTable:
        with self._lock:
            try:
                mtime = self._path.stat().st_mtime
            except FileNotFoundError:
                if not self._missing_logged:
                    logger.warning(
                        "OpenAPI document %s not found, so every path goes to %s", self._path, PROXY_RESOURCE
                    )
                    self._missing_logged = True
                return self._table
            if mtime != self._mtime:
                self._mtime = mtime
                self._load()
            return self._table

    def _load(self) -> None:
        try:
            document = yaml.safe_load(self._path.read_text(encoding="utf-8"))
            table = RouteTable.from_openapi(document if isinstance(document, dict) else {})
        except (OSError, yaml.YAMLError) as exc:
            logger.error("Could not read OpenAPI document %s, so the previous routes stay: %s", self._path, exc)
            return
        self._table = table
        logger.info("Loaded %d API resources from %s", len(table.resources), self._path)


class RestApiProxy:
    """API Gateway REST API with one Lambda proxy integration behind every route."""

    def __init__(
        self,
        runtime: LambdaRuntime,
        *,
        function_name: str,
        api_id: str,
        stage: str,
        openapi_path: Path,
        cors_allow_origin: str,
        account_id: str,
        region: str,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._runtime = runtime
        self._function_name = function_name
        self._api_id = api_id
        self._stage = stage
        self._routes = _OpenApiRoutes(openapi_path)
        self._cors_allow_origin = cors_allow_origin or "*"
        self._account_id = account_id
        # The REST proxy event carries no region, so `region` is accepted only to keep the stack's interface.
        del region
        self._clock = clock
        self._new_request_id = new_request_id
        self._random_bytes = random_bytes
        self._prefix = f"/restapis/{api_id}/{stage}/_user_request_"

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        request = Request(environ)
        now = self._clock()
        request_id = self._new_request_id()
        trace_id = f"Root=1-{int(now.timestamp()):08x}-{self._random_bytes(12).hex()}"
        extended_request_id = base64.b64encode(self._random_bytes(11)).decode("ascii")
        try:
            response = self._handle(request, environ, now, request_id, extended_request_id, trace_id)
        except Exception:
            logger.exception(
                "The API gateway failed on %s %s", printable(request.method), printable(request.path), extra={"request_id": request_id}
            )
            response = self._gateway_error(500, "internal", "The API gateway failed to handle the request.")

        headers = list(response.headers)
        present = {name.lower() for name, _ in headers}
        for name, value in (
            ("x-amzn-RequestId", request_id),
            ("x-amz-apigw-id", extended_request_id),
            ("X-Amzn-Trace-Id", trace_id),
        ):
            if name.lower() not in present:
                headers.append((name, value))
        logger.info(
            "%s %s %d %.1f ms",
            printable(request.method), printable(request.path), response.status, (time.monotonic() - started) * 1000,
            extra={"request_id": request_id},
        )
        http_response = Response(response.body, status=response.status)
        http_response.headers.clear()
        for name, value in headers:
            http_response.headers.add(name, value)
        return http_response(environ, start_response)

    def _handle(
        self,
        request: Request,
        environ: dict[str, Any],
        now: datetime,
        request_id: str,
        extended_request_id: str,
        trace_id: str,
    ) -> GatewayResponse:
        path = request.path
        if path != self._prefix and not path.startswith(self._prefix + "/"):
            return self._gateway_error(
                404, "not_found", f"No API is deployed at this path. The API's base path is {self._prefix}."
            )
        too_large_message = f"The request body is larger than API Gateway's limit of {MAX_REQUEST_BYTES} bytes."
        if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
            return self._gateway_error(413, "payload_too_large", too_large_message)
        body = request.stream.read(MAX_REQUEST_BYTES + 1)
        if len(body) > MAX_REQUEST_BYTES:
            return self._gateway_error(413, "payload_too_large", too_large_message)

        gateway_request = self._gateway_request(request, environ, path[len(self._prefix):] or "/", body, trace_id)
        routes = self._routes.table()
        event = build_proxy_event(
            gateway_request,
            routes.match(gateway_request.path),
            api_id=self._api_id,
            stage=self._stage,
            account_id=self._account_id,
            request_id=request_id,
            extended_request_id=extended_request_id,
            now=now,
            is_binary=routes.is_binary(request.headers.get("Content-Type")),
        )
        return self._invoke(event, request_id)

    def _gateway_request(
        self, request: Request, environ: dict[str, Any], path: str, body: bytes, trace_id: str
    ) -> GatewayRequest:
        raw_headers = environ.get(RAW_HEADERS_ENVIRON_KEY)
        headers = list(raw_headers) if raw_headers is not None else list(request.headers.items())
        source_ip = request.remote_addr or "127.0.0.1"
        host = request.host
        # Headers API Gateway adds to every request it passes on.
        forwarded_for = [value for name, value in headers if name.lower() == "x-forwarded-for"]
        headers = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
        headers.append(("X-Forwarded-For", ", ".join([*forwarded_for, source_ip])))
        headers.append(("X-Forwarded-Port", environ.get("SERVER_PORT", "80")))
        headers.append(("X-Forwarded-Proto", request.scheme))
        headers.append(("X-Amzn-Trace-Id", trace_id))
        return GatewayRequest(
            method=request.method,
            path=path,
            headers=headers,
            query=list(request.args.items(multi=True)),
            body=body,
            source_ip=source_ip,
            protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            host=host,
        )

    def _invoke(self, event: dict[str, Any], request_id: str) -> GatewayResponse:
        log_extra = {"request_id": request_id}
        try:
            result = self._runtime.invoke(self._function_name, json.dumps(event).encode())
        except TooManyRequestsException:
            logger.warning("The function %s is at its concurrency limit", self._function_name, extra=log_extra)
            # NOTE: how API Gateway reports a throttled Lambda integration is not verified, so 429 names the cause.
            return self._gateway_error(429, "too_many_requests", "Too many requests are running. Try again shortly.")
        except RequestTooLargeException as exc:
            logger.warning("The proxy event is too large for Lambda: %s", exc.message, extra=log_extra)
            return self._gateway_error(413, "payload_too_large", "The request is too large for the API's function.")
        except LambdaServiceError as exc:
            logger.error("Invoking %s failed: %s: %s", self._function_name, exc.code, exc.message, extra=log_extra)
            return self._gateway_error(500, "internal", "The API's integration is misconfigured.")

        if result.function_error:
            error_type, error_message = _function_error(result.payload)
            logger.warning(
                "The function %s failed (lambda request %s): %s: %s",
                self._function_name, result.request_id, error_type, error_message, extra=log_extra,
            )
            if error_type == "Sandbox.Timedout":
                return self._gateway_error(502, "bad_gateway", "The API's function timed out.")
            if error_type in _LOAD_ERROR_MESSAGES:
                return self._gateway_error(502, "bad_gateway", _LOAD_ERROR_MESSAGES[error_type])
            return self._gateway_error(502, "bad_gateway", "The API's function failed to handle the request.")

        try:
            return parse_proxy_response(result.payload)
        except MalformedProxyResponse as exc:
            logger.warning("Malformed Lambda proxy response from %s: %s", self._function_name, exc, extra=log_extra)
            return self._gateway_error(502, "bad_gateway", "The API's function returned a malformed response.")

    def _gateway_error(self, status: int, code: str, message: str) -> GatewayResponse:
        """Build a gateway response in the shape the project configures for DEFAULT_4XX and DEFAULT_5XX."""
        return GatewayResponse(
            status=status,
            headers=[
                ("Content-Type", "application/json"),
                ("Access-Control-Allow-Origin", self._cors_allow_origin),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
            body=json.dumps({"error": code, "message": message}).encode(),
        )


def _function_error(payload: bytes) -> tuple[str, str]:
    try:
        error = json.loads(payload)
    except ValueError:
        return "Unknown", payload[:200].decode(errors="replace")
    if not isinstance(error, dict):
        return "Unknown", str(error)[:200]
    return str(error.get("errorType", "Unknown")), str(error.get("errorMessage", ""))
