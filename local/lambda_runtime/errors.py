"""Errors of the local Lambda service, each with AWS's error code and HTTP status.

The Invoke API turns them into Lambda's REST-JSON error format (`x-amzn-ErrorType`
header, `{"Type": ..., "message": ...}` body). Errors raised by the function itself are
not exceptions here: they are payloads with `X-Amz-Function-Error`, as on AWS.
"""
from __future__ import annotations

import json

# Lambda's limit for a synchronous invocation's request and response payloads: 6 MB.
MAX_PAYLOAD_BYTES = 6_291_456


class LambdaServiceError(Exception):
    """Base error of the local Lambda service."""

    code = "ServiceException"
    status = 500
    # "User" for errors the caller can fix, "Service" for errors of the service itself.
    error_kind = "Service"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"Type": self.error_kind, "message": self.message}


class ResourceNotFoundException(LambdaServiceError):
    code = "ResourceNotFoundException"
    status = 404
    error_kind = "User"


class InvalidRequestContentException(LambdaServiceError):
    code = "InvalidRequestContentException"
    status = 400
    error_kind = "User"


class InvalidParameterValueException(LambdaServiceError):
    code = "InvalidParameterValueException"
    status = 400
    error_kind = "User"


class RequestTooLargeException(LambdaServiceError):
    code = "RequestTooLargeException"
    status = 413
    error_kind = "User"


class TooManyRequestsException(LambdaServiceError):
    code = "TooManyRequestsException"
    status = 429
    error_kind = "User"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, str]:
        return {"Reason": self.reason, **super().body()}


class NotImplementedOperation(LambdaServiceError):
    """A Lambda API operation that the offline stack does not emulate."""

    code = "NotImplemented"
    status = 501
    error_kind = "User"


def function_error_payload(
    error_type: str,
    message: str,
    *,
    request_id: str | None = None,
    stack_trace: list[str] | None = None,
) -> bytes:
    """Encode a function error as Lambda's response payload.

    Errors of the user's code carry `requestId` and `stackTrace`. Errors that the
    Lambda platform reports (timeouts, a runtime that exited) have only the type and
    message, so both fields are left out when `request_id` is None.
    """
    payload: dict[str, object] = {"errorMessage": message, "errorType": error_type}
    if request_id is not None:
        payload["requestId"] = request_id
        payload["stackTrace"] = stack_trace or []
    return json.dumps(payload).encode()
