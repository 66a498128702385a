"""The context object that a handler receives as its second argument."""
from __future__ import annotations

import time
from collections.abc import Callable


class LambdaContext:
    """Lambda's Python context object, with the attributes AWS's runtime sets.

    As in AWS's runtime (awslambdaric), `memory_limit_in_mb` is the string value of
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE, not an int.
    """

    def __init__(
        self,
        *,
        aws_request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        function_name: str,
        function_version: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        # Set only for invocations through the AWS Mobile SDK.
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(self._clock() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r}, invoked_function_arn={self.invoked_function_arn!r})"
        )
