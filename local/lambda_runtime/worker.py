"""Entry point of a worker process: imports one handler once, then runs invocations.

`WorkerProcess` starts this module as `python -m local.lambda_runtime.worker <marker>`
with the function's environment (`_HANDLER`, `LAMBDA_TASK_ROOT` and Lambda's other
variables). The parent writes invoke frames to the worker's stdin and reads result
frames from its original stdout. Before the function is imported, both pipes move to
private file descriptors, and fd 1 is pointed at stderr. So everything the function
prints reaches the parent's log reader, and nothing it prints or reads can corrupt a
frame. After each invocation the worker writes `<marker> END <request id>` to the log
pipe, so the parent can tell when it has read every line of that invocation.

Error payloads and log lines follow AWS's Python runtime (awslambdaric, bootstrap.py).
"""
from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from local.faults import CRASH_AFTER_HANDLER, GARBAGE, RAISE, TIMEOUT
from local.lambda_runtime.context import LambdaContext
from local.lambda_runtime.errors import function_error_payload
from local.lambda_runtime.protocol import read_frame, write_frame

Handler = Callable[[Any, LambdaContext], Any]

# How long a worker waits under the `timeout` fault, in seconds: far longer than the
# fault's timeout, after which the runtime kills the worker.
FAULT_HOLD_SECONDS = 3600.0
# The result of an invocation under the `garbage` fault: neither JSON nor an error payload.
GARBAGE_PAYLOAD = b"\x00<html>not a Lambda result</html>"
# The exit status of a worker under the `crash-after-handler` fault.
FAULT_EXIT_STATUS = 70


class InjectedFault(Exception):
    """The error of an invocation under the `raise` fault, set through /_local/faults by a test."""


class HandlerLoadError(Exception):
    """The handler could not be imported: Lambda's init error, with its error type."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


class _RequestIdFilter(logging.Filter):
    """Adds the current request id to log records, as Lambda's root log handler does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def take_protocol_pipes() -> tuple[BinaryIO, BinaryIO]:
    """Move the protocol pipes off fds 0 and 1 and return them as binary streams."""
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    # AWS's runtime makes both streams unbuffered, so output survives os._exit and crashes.
    sys.stdout.reconfigure(line_buffering=True, write_through=True)
    sys.stderr.reconfigure(line_buffering=True, write_through=True)
    return protocol_in, protocol_out


def isolate_imports(code_root: str) -> None:
    """Make the code root the only project folder on sys.path, and the working directory.

    The worker starts in the folder that contains the `local` package, which `-m`
    puts on sys.path. Removing it keeps the function from importing the other
    function's package or the offline stack by accident.
    """
    launch_dir = os.getcwd()
    sys.path[:] = [entry for entry in sys.path if entry not in ("", launch_dir)]
    sys.path.insert(0, code_root)
    os.chdir(code_root)


def install_log_handler() -> _RequestIdFilter:
    """Install Lambda's text log handler on the root logger and return its request id filter."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def load_handler(handler_name: str) -> Handler:
    """Import the handler's module and return the handler, or raise HandlerLoadError."""
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
    except ValueError as exc:
        raise HandlerLoadError("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}': {exc}") from exc

    if module_name.split(".")[0] in sys.builtin_module_names:
        raise HandlerLoadError(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise HandlerLoadError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise HandlerLoadError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace
        ) from exc
    except Exception as exc:
        # Any other exception at import time is reported with its own class name.
        raise HandlerLoadError(type(exc).__name__, str(exc), _user_stack_trace(exc)) from exc

    try:
        return getattr(module, function_name)
    except AttributeError as exc:
        raise HandlerLoadError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from exc


def run_invocation(
    handler: Handler, header: dict[str, Any], event_bytes: bytes, request_filter: _RequestIdFilter
) -> tuple[dict[str, Any], bytes]:
    """Run the handler on one event and return the result frame's header and payload."""
    request_id = header["request_id"]
    request_filter.request_id = request_id
    context = LambdaContext(
        aws_request_id=request_id,
        invoked_function_arn=header["invoked_function_arn"],
        deadline_ms=header["deadline_ms"],
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        function_version=os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        memory_limit_in_mb=os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        log_group_name=os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
        log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
    )
    fault = header.get("fault")
    try:
        if fault == RAISE:
            raise InjectedFault("Fault injected by a test: the handler was not called.")
        if fault == TIMEOUT:
            time.sleep(FAULT_HOLD_SECONDS)
        if fault == GARBAGE:
            return {"type": "result", "request_id": request_id, "error_type": None}, GARBAGE_PAYLOAD
        result = handler(json.loads(event_bytes), context)
        if fault == CRASH_AFTER_HANDLER:
            sys.stdout.flush()
            os._exit(FAULT_EXIT_STATUS)
    except Exception as exc:
        error_type, message, stack_trace = type(exc).__name__, str(exc), _user_stack_trace(exc)
        write_error_log(error_type, message, stack_trace)
        payload = function_error_payload(error_type, message, request_id=request_id, stack_trace=stack_trace)
        return {"type": "result", "request_id": request_id, "error_type": error_type}, payload

    try:
        payload = encode_result(result)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        write_error_log("Runtime.MarshalError", message, None)
        payload = function_error_payload("Runtime.MarshalError", message, request_id=request_id)
        return {"type": "result", "request_id": request_id, "error_type": "Runtime.MarshalError"}, payload
    return {"type": "result", "request_id": request_id, "error_type": None}, payload


def encode_result(result: Any) -> bytes:
    """Encode a handler's return value as AWS's runtime does: bytes as they are, the rest as JSON."""
    if isinstance(result, bytes):
        return result
    return json.dumps(result, ensure_ascii=False, default=_encode_decimal).encode()


def _encode_decimal(value: Any) -> Any:
    # AWS's runtime writes a Decimal (as boto3's DynamoDB resource returns) as a JSON number.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _user_stack_trace(exc: BaseException) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the worker's own frames and importlib's, as AWS's runtime drops its bootstrap frames.
    user_frames = [
        frame for frame in frames if frame.filename != __file__ and not frame.filename.startswith("<frozen importlib")
    ]
    return traceback.format_list(user_frames)


def write_error_log(error_type: str, message: str, stack_trace: list[str] | None) -> None:
    """Log an unhandled error in the shape AWS's runtime gives it in CloudWatch."""
    lines = [f"[ERROR] {error_type}: {message}"]
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for entry in stack_trace:
            lines.extend(entry.splitlines())
    # AWS's runtime joins the lines with "\r" so that the error stays one log event.
    sys.stdout.write("\r".join(lines) + "\n")


def write_end_marker(marker: str, request_id: str) -> None:
    # The function may have replaced sys.stdout, so flush every stream and write to fd 1 itself.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os.write(1, f"{marker} END {request_id}\n".encode())


def main(argv: list[str]) -> int:
    marker = argv[1]
    # Ctrl-C in the terminal reaches the whole process group, but the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_in, protocol_out = take_protocol_pipes()
    isolate_imports(os.environ["LAMBDA_TASK_ROOT"])
    # A fresh worker must import edited code even when an edit keeps the file's size and mtime second.
    sys.dont_write_bytecode = True
    request_filter = install_log_handler()

    try:
        handler = load_handler(os.environ["_HANDLER"])
    except HandlerLoadError as exc:
        write_error_log(exc.error_type, exc.message, exc.stack_trace)
        write_end_marker(marker, "init")
        payload = function_error_payload(exc.error_type, exc.message, request_id="", stack_trace=exc.stack_trace)
        write_frame(protocol_out, {"type": "init_error", "error_type": exc.error_type}, payload)
        return 0
    write_end_marker(marker, "init")
    write_frame(protocol_out, {"type": "ready"})

    while (frame := read_frame(protocol_in)) is not None:
        header, event_bytes = frame
        result_header, payload = run_invocation(handler, header, event_bytes, request_filter)
        write_end_marker(marker, result_header["request_id"])
        write_frame(protocol_out, result_header, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
