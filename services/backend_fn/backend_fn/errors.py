"""Errors that the handler turns into the contract's error response.

Each subclass fixes the HTTP status and the contract's error code. The message
goes to the client as it is, so it must name the value that failed and never
contain internals such as ARNs, table names or stack traces.
"""
from __future__ import annotations


class BackendError(Exception):
    """A handled failure with the HTTP status and error code the client gets."""

    status = 500
    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_response(self) -> dict[str, object]:
        return {"status": self.status, "error": self.code, "message": self.message}


class BadRequest(BackendError):
    status = 400
    code = "bad_request"


class Unauthorized(BackendError):
    status = 401
    code = "unauthorized"


class NotFound(BackendError):
    status = 404
    code = "not_found"


class Conflict(BackendError):
    status = 409
    code = "conflict"


class Gone(BackendError):
    status = 410
    code = "gone"


class PayloadTooLarge(BackendError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(BackendError):
    status = 503
    code = "service_unavailable"


def survey_not_found(survey_id: str) -> NotFound:
    return NotFound(f"Survey {survey_id} was not found.")
