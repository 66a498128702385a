"""The offline stack's Lambda service: functions run in local worker processes.

`LambdaRuntime` keeps a pool of worker processes per function, each of which imports
the handler once and then serves invocations one at a time, as a warm Lambda
execution environment does. `LambdaRuntime.wsgi_app` serves Lambda's Invoke API.
"""
from __future__ import annotations

from local.lambda_runtime.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    LambdaServiceError,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
)
from local.lambda_runtime.runtime import FunctionConfig, InvokeResult, LambdaRuntime

__all__ = [
    "FunctionConfig",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvokeResult",
    "LambdaRuntime",
    "LambdaServiceError",
    "RequestTooLargeException",
    "ResourceNotFoundException",
    "TooManyRequestsException",
]
