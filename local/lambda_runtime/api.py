"""Lambda's Invoke API over HTTP, as boto3's `lambda` client calls it."""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local.lambda_runtime.errors import (
    MAX_PAYLOAD_BYTES,
    LambdaServiceError,
    NotImplementedOperation,
    RequestTooLargeException,
    ResourceNotFoundException,
)

if TYPE_CHECKING:
    from local.lambda_runtime.runtime import LambdaRuntime

logger = logging.getLogger(__name__)

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]

_FUNCTIONS_PREFIX = "/2015-03-31/functions/"
_INVOCATIONS_SUFFIX = "/invocations"


class InvokeApi:
    """WSGI app for `POST /2015-03-31/functions/<function>/invocations`.

    Every other Lambda API operation gets a 501 NotImplemented error that names it, so a
    script that needs more than Invoke fails loudly instead of acting on a stub response.
    """

    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except LambdaServiceError as exc:
            response = error_response(exc)
        except Exception:
            request_id = str(uuid.uuid4())
            logger.exception(
                "The Invoke API failed on %s %s", request.method, request.path, extra={"request_id": request_id}
            )
            error = LambdaServiceError("The offline Lambda service failed. See the stack's log for the error.")
            response = error_response(error, request_id)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        is_invoke = path.startswith(_FUNCTIONS_PREFIX) and path.endswith(_INVOCATIONS_SUFFIX)
        if not is_invoke or request.method != "POST":
            raise NotImplementedOperation(
                f"The offline stack's Lambda API serves only Invoke, so {request.method} {path} is not emulated."
            )
        function_identifier = path[len(_FUNCTIONS_PREFIX):-len(_INVOCATIONS_SUFFIX)]
        if not function_identifier or "/" in function_identifier:
            raise ResourceNotFoundException(f"Function not found: {function_identifier}")
        if request.headers.get("X-Amz-Client-Context"):
            raise NotImplementedOperation("The offline stack does not emulate X-Amz-Client-Context.")

        # Check the function before reading a body that may be large.
        self._runtime.resolve(function_identifier, request.args.get("Qualifier"))
        payload = read_body(request, MAX_PAYLOAD_BYTES)
        result = self._runtime.invoke(
            function_identifier,
            payload,
            invocation_type=request.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
            log_type=request.headers.get("X-Amz-Log-Type", "None"),
            qualifier=request.args.get("Qualifier"),
        )

        headers = {"x-amzn-RequestId": result.request_id}
        if result.status_code == 200:
            headers["X-Amz-Executed-Version"] = result.executed_version or "$LATEST"
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if result.log_result is not None:
            headers["X-Amz-Log-Result"] = result.log_result
        content_type = "application/json" if result.status_code == 200 else None
        return Response(result.payload, status=result.status_code, headers=headers, content_type=content_type)


def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the request body, raising RequestTooLargeException past `max_bytes` without reading it all."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestTooLargeException(
            f"Request must be smaller than {max_bytes} bytes for the InvokeFunction operation"
        )
    body = request.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise RequestTooLargeException(
            f"Request must be smaller than {max_bytes} bytes for the InvokeFunction operation"
        )
    return body


def error_response(error: LambdaServiceError, request_id: str | None = None) -> Response:
    """Encode an error in Lambda's REST-JSON error format, which botocore parses."""
    headers = {
        "x-amzn-RequestId": request_id or str(uuid.uuid4()),
        "x-amzn-ErrorType": error.code,
    }
    return Response(json.dumps(error.body()), status=error.status, headers=headers, content_type="application/json")
