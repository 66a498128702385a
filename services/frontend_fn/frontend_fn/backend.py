"""Calls to the backend function with lambda.invoke, and the mapping of its results to responses.

The backend returns a JSON object for every handled case:
`{"status": 200, "body": ..., "content_type"?: "text/csv"}` or
`{"status": 404, "error": "not_found", "message": "..."}`. Anything else,
a FunctionError, a timeout or a connection failure becomes 502 bad_gateway.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from frontend_fn.errors import CODE_BY_STATUS, BadGateway, ServiceUnavailable
from frontend_fn.responses import CSV_CONTENT_TYPE, ApiResponse

logger = Logger(child=True)

# Success statuses of each action, from the API contract. A repeated
# submission with the same Idempotency-Key may return 200.
SUCCESS_STATUSES: dict[str, frozenset[int]] = {
    "create_survey": frozenset({201}),
    "list_surveys": frozenset({200}),
    "get_survey": frozenset({200}),
    "update_survey": frozenset({200}),
    "delete_survey": frozenset({200}),
    "list_responses": frozenset({200}),
    "get_results": frozenset({200}),
    "export_responses": frozenset({200}),
    "get_public_survey": frozenset({200}),
    "submit_response": frozenset({200, 201}),
}
# Error statuses the backend may return: the contract's codes, less those only
# the frontend or API Gateway decide (401, 405, 413, 415) and 502.
BACKEND_ERROR_STATUSES = frozenset({400, 403, 404, 409, 410, 429, 500, 503})
MAX_ERROR_MESSAGE_CHARS = 1000
# Substrings that must not reach a client in a backend's error message.
UNSAFE_MESSAGE_MARKERS = ("arn:aws", "Traceback", "botocore", "Exception:")
GENERIC_FAILURE_MESSAGE = "The survey service failed; try again later."


class BackendFailure(Exception):
    """The backend's response is not a handled result; the message is for the log only."""


@dataclass(frozen=True)
class BackendResult:
    status: int
    body: Any
    content_type: str | None = None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


class BackendClient:
    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self._lambda = lambda_client
        self._function_name = function_name

    def call(self, action: str, caller: dict[str, Any] | None, args: dict[str, Any], request_id: str) -> ApiResponse:
        """Invoke the backend and convert its result to a response.

        Raise ServiceUnavailable when Lambda throttles the call and BadGateway on any other failure.
        """
        payload = {"action": action, "caller": caller, "args": args, "request_id": request_id}
        try:
            raw = self._invoke(payload)
            result = parse_result(action, raw)
        except BackendFailure as exc:
            logger.error("Backend call failed", extra={"action": action, "reason": str(exc)})
            raise BadGateway(GENERIC_FAILURE_MESSAGE) from exc
        return to_response(result)

    def _invoke(self, payload: dict[str, Any]) -> bytes:
        try:
            response = self._lambda.invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "TooManyRequestsException":
                # Lambda throttled the backend (concurrency limit); the client may retry.
                logger.warning("Backend invoke throttled", extra={"action": payload["action"]})
                raise ServiceUnavailable("The survey service is busy; try again in a moment.") from exc
            raise BackendFailure(f"invoke failed with {code or type(exc).__name__}") from exc
        except BotoCoreError as exc:
            # Read timeouts, connection errors and the like.
            raise BackendFailure(f"invoke failed: {type(exc).__name__}: {exc}") from exc

        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise BackendFailure(f"FunctionError {response['FunctionError']}: {body[:500]!r}")
        return body


def parse_result(action: str, raw: bytes) -> BackendResult:
    """Check that a backend payload is a documented result; raise BackendFailure if not."""
    try:
        result = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BackendFailure(f"payload is not JSON: {raw[:200]!r}") from exc
    if not isinstance(result, dict):
        raise BackendFailure(f"payload is a {type(result).__name__}, not an object")

    status = result.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        raise BackendFailure(f"payload has no integer status: {str(status)[:50]}")

    if status in SUCCESS_STATUSES.get(action, frozenset()):
        return _success_result(status, result)
    if status in BACKEND_ERROR_STATUSES:
        return _error_result(status, result)
    raise BackendFailure(f"status {status} is not one the contract lists for {action}")


def _success_result(status: int, result: dict[str, Any]) -> BackendResult:
    if "body" not in result:
        raise BackendFailure(f"status {status} payload has no body")
    body = result["body"]
    content_type = result.get("content_type")
    if content_type is None:
        if not isinstance(body, (dict, list)):
            raise BackendFailure(f"JSON body is a {type(body).__name__}, not an object or array")
        return BackendResult(status=status, body=body)
    is_csv = isinstance(content_type, str) and content_type.split(";", 1)[0].strip().lower() == "text/csv"
    if not is_csv or not isinstance(body, str):
        raise BackendFailure(f"unsupported content_type {str(content_type)[:50]} with a {type(body).__name__} body")
    return BackendResult(status=status, body=body, content_type=CSV_CONTENT_TYPE)


def _error_result(status: int, result: dict[str, Any]) -> BackendResult:
    code = CODE_BY_STATUS[status]
    message = result.get("message")
    if result.get("error") != code:
        logger.warning("Backend error code does not match its status", extra={"status": status, "error": str(result.get("error"))[:50]})
    if not isinstance(message, str) or not message or any(marker in message for marker in UNSAFE_MESSAGE_MARKERS):
        message = GENERIC_FAILURE_MESSAGE if status >= 500 else "The request was rejected."
    return BackendResult(status=status, body={"error": code, "message": message[:MAX_ERROR_MESSAGE_CHARS]})


def to_response(result: BackendResult) -> ApiResponse:
    if result.content_type is not None:
        return ApiResponse(status=result.status, body=result.body, content_type=result.content_type)
    return ApiResponse(status=result.status, body=result.body)

