"""The local Lambda service: function configurations, invocation and the pools behind them."""
from __future__ import annotations

import base64
import json
import logging
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from local.faults import FAULT_TIMEOUT_SECONDS, FAULTS, TIMEOUT, Faults
from local.lambda_runtime.api import InvokeApi, StartResponse, WSGIEnvironment
from local.lambda_runtime.environment import create_code_root, worker_environment
from local.lambda_runtime.errors import (
    MAX_PAYLOAD_BYTES,
    InvalidParameterValueException,
    InvalidRequestContentException,
    LambdaServiceError,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
    function_error_payload,
)
from local.lambda_runtime.pool import WorkerPool
from local.lambda_runtime.process import WorkerInitError, WorkerProcess

logger = logging.getLogger(__name__)

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
# How long stop() waits for Event invocations that are still running, in seconds.
EVENT_JOIN_SECONDS = 5.0


@dataclass
class FunctionConfig:
    name: str
    handler: str
    # The folder that contains the function's package folder.
    source_dir: Path
    # The only package of source_dir that the function can import.
    package: str
    environment: dict[str, str]
    timeout_seconds: float
    # NOTE: only reported to the function, in its context and AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
    # Workers have no memory limit.
    memory_mb: int = 512
    # Maximum number of worker processes. Each runs one invocation at a time.
    max_concurrency: int = 4
    # Lambda's runtime identifier, which sets AWS_EXECUTION_ENV.
    runtime: str = "python3.12"


@dataclass
class InvokeResult:
    # 200 for RequestResponse, 202 for Event, 204 for DryRun.
    status_code: int
    payload: bytes
    # "Unhandled" when the function raised, timed out or crashed, else None.
    function_error: str | None
    request_id: str
    executed_version: str | None = "$LATEST"
    # Base64 of the invocation's last 4 KB of log lines, when the caller asked for the tail.
    log_result: str | None = field(default=None, repr=False)


class LambdaRuntime:
    """Runs Lambda functions in local worker processes, with Lambda's invoke semantics."""

    def __init__(
        self,
        functions: list[FunctionConfig],
        *,
        region: str,
        account_id: str,
        clock: Callable[[], float] = time.time,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        queue_timeout_seconds: float | None = None,
        faults: Faults = FAULTS,
    ) -> None:
        """Create the runtime. No worker starts before start() or the first invocation.

        `queue_timeout_seconds` is the maximum time an invocation waits for a worker when
        every worker of its function is busy. The default is the function's timeout.
        `faults` are the Lambda faults that tests set through /_local/faults.
        """
        self.region = region
        self.account_id = account_id
        self._faults = faults
        self._clock = clock
        self._new_request_id = new_request_id
        self._functions: dict[str, FunctionConfig] = {}
        for function in functions:
            if function.name in self._functions:
                raise ValueError(f"Function name {function.name!r} is configured twice.")
            self._functions[function.name] = function
        self._code_roots: dict[str, Path] = {}
        self._code_roots_lock = threading.Lock()
        self._pools = {
            function.name: WorkerPool(
                function.name,
                max_workers=function.max_concurrency,
                queue_timeout_seconds=(
                    function.timeout_seconds if queue_timeout_seconds is None else queue_timeout_seconds
                ),
                create_worker=lambda function=function: self._create_worker(function),
            )
            for function in functions
        }
        self._event_threads: set[threading.Thread] = set()
        self._event_threads_lock = threading.Lock()
        self._api = InvokeApi(self)

    def function_names(self) -> list[str]:
        return list(self._functions)

    def function_arn(self, function_name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}"

    def resolve(self, identifier: str, qualifier: str | None = None) -> FunctionConfig:
        """Find a function by name, `name:qualifier`, partial ARN or full ARN.

        Raises ResourceNotFoundException for an unknown function and for any qualifier
        but $LATEST, because the offline stack publishes no versions or aliases.
        """
        parts = identifier.split(":")
        if identifier.startswith("arn:"):
            # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
            if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
                raise ResourceNotFoundException(f"Function not found: {identifier}")
            region, account_id, name = parts[3], parts[4], parts[6]
            arn_qualifier = parts[7] if len(parts) == 8 else None
        elif len(parts) in (3, 4) and parts[1] == "function":
            # <account>:function:<name>[:<qualifier>]
            region, account_id, name = self.region, parts[0], parts[2]
            arn_qualifier = parts[3] if len(parts) == 4 else None
        elif len(parts) in (1, 2):
            region, account_id, name = self.region, self.account_id, parts[0]
            arn_qualifier = parts[1] if len(parts) == 2 else None
        else:
            raise ResourceNotFoundException(f"Function not found: {identifier}")

        effective_qualifier = qualifier or arn_qualifier
        function = self._functions.get(name)
        known = function is not None and region == self.region and account_id == self.account_id
        if not known or effective_qualifier not in (None, "$LATEST"):
            arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
            if effective_qualifier:
                arn += f":{effective_qualifier}"
            raise ResourceNotFoundException(f"Function not found: {arn}")
        assert function is not None
        return function

    def start(self) -> None:
        """Start one warm worker per function, in parallel. An init error is logged, not raised."""
        threads = [threading.Thread(target=pool.prewarm, name=f"prewarm-{name}") for name, pool in self._pools.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def stop(self) -> None:
        """Stop every worker, wait for running Event invocations, and delete the code roots."""
        for pool in self._pools.values():
            pool.stop()
        with self._event_threads_lock:
            event_threads = list(self._event_threads)
        for thread in event_threads:
            thread.join(timeout=EVENT_JOIN_SECONDS)
        with self._code_roots_lock:
            code_roots, self._code_roots = list(self._code_roots.values()), {}
        for code_root in code_roots:
            shutil.rmtree(code_root, ignore_errors=True)

    def recycle(self, function_name: str) -> None:
        """Replace a function's workers, so the next invocation imports its code afresh."""
        self._pools[self.resolve(function_name).name].recycle()

    def prewarm(self, function_name: str) -> None:
        """Start one idle worker of a function unless it has a worker. An init error is logged, not raised."""
        self._pools[self.resolve(function_name).name].prewarm()

    def invoke(
        self,
        function_name: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str = "None",
        qualifier: str | None = None,
    ) -> InvokeResult:
        """Invoke a function as Lambda's Invoke API does.

        Raises ResourceNotFoundException, RequestTooLargeException,
        InvalidRequestContentException, InvalidParameterValueException and
        TooManyRequestsException with AWS's codes. A function that fails returns a
        result with `function_error` "Unhandled" and Lambda's error payload.
        """
        function = self.resolve(function_name, qualifier)
        if invocation_type not in INVOCATION_TYPES:
            raise InvalidParameterValueException(
                f"Invalid invocation type {invocation_type!r}. Use one of {', '.join(INVOCATION_TYPES)}."
            )
        if log_type not in ("None", "Tail"):
            raise InvalidParameterValueException(f"Invalid log type {log_type!r}. Use None or Tail.")
        # NOTE: AWS caps Event payloads lower than RequestResponse ones, but this limit applies to both.
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise RequestTooLargeException(
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
            )
        # An empty payload reaches the handler as an empty JSON object, as on AWS.
        event = payload if payload.strip() else b"{}"
        try:
            json.loads(event)
        except ValueError as exc:
            raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from exc

        request_id = self._new_request_id()
        if invocation_type == "DryRun":
            return InvokeResult(status_code=204, payload=b"", function_error=None, request_id=request_id)
        if invocation_type == "Event":
            self._start_event_invocation(function, event, request_id)
            return InvokeResult(status_code=202, payload=b"", function_error=None, request_id=request_id)
        return self._run(function, event, request_id, tail=log_type == "Tail")

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve Lambda's Invoke API: POST /2015-03-31/functions/<name or ARN>/invocations."""
        return self._api(environ, start_response)

    def _run(self, function: FunctionConfig, event: bytes, request_id: str, *, tail: bool) -> InvokeResult:
        started = time.monotonic()
        pool = self._pools[function.name]
        try:
            worker = pool.acquire()
        except WorkerInitError as exc:
            self._log_invocation(function.name, request_id, started, f"init failed ({exc})")
            return InvokeResult(status_code=200, payload=exc.payload, function_error="Unhandled", request_id=request_id)
        except TooManyRequestsException:
            self._log_invocation(function.name, request_id, started, "rejected: every worker stayed busy")
            raise

        fault = self._faults.lambda_fault(function.name)
        timeout_seconds = FAULT_TIMEOUT_SECONDS if fault == TIMEOUT else function.timeout_seconds
        if fault is not None:
            logger.warning("Injecting the %s fault into %s", fault, function.name, extra={"request_id": request_id})
        reusable = False
        try:
            outcome = worker.invoke(
                request_id,
                event,
                invoked_function_arn=self.function_arn(function.name),
                deadline_ms=int((self._clock() + timeout_seconds) * 1000),
                timeout_seconds=timeout_seconds,
                fault=fault,
            )
            reusable = outcome.reusable
        finally:
            pool.release(worker, reusable=reusable)

        payload, error_type = outcome.payload, outcome.error_type
        if len(payload) > MAX_PAYLOAD_BYTES:
            error_type = "Function.ResponseSizeTooLarge"
            message = f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
            payload = function_error_payload(error_type, message)
        outcome_text = f"failed ({error_type})" if error_type else "succeeded"
        self._log_invocation(function.name, request_id, started, outcome_text)
        return InvokeResult(
            status_code=200,
            payload=payload,
            function_error="Unhandled" if error_type else None,
            request_id=request_id,
            log_result=base64.b64encode(outcome.log_tail.encode()).decode() if tail else None,
        )

    def _start_event_invocation(self, function: FunctionConfig, event: bytes, request_id: str) -> None:
        def run() -> None:
            # AWS retries a failed Event invocation twice, but the offline stack runs it once and logs the outcome.
            try:
                self._run(function, event, request_id, tail=False)
            except LambdaServiceError as exc:
                logger.error(
                    "Event invocation of %s failed: %s: %s", function.name, exc.code, exc.message,
                    extra={"request_id": request_id},
                )
            except Exception:
                logger.exception("Event invocation of %s failed", function.name, extra={"request_id": request_id})
            finally:
                with self._event_threads_lock:
                    self._event_threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"event-{function.name}-{request_id}", daemon=True)
        with self._event_threads_lock:
            self._event_threads.add(thread)
        thread.start()

    def _create_worker(self, function: FunctionConfig) -> WorkerProcess:
        code_root = self._code_root(function)
        now = datetime.fromtimestamp(self._clock(), tz=timezone.utc)
        environment = worker_environment(
            function_name=function.name,
            handler=function.handler,
            memory_mb=function.memory_mb,
            runtime=function.runtime,
            region=self.region,
            code_root=code_root,
            log_stream_name=f"{now:%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}",
            function_environment=function.environment,
        )
        output_logger = logging.getLogger(f"local.lambda_runtime.functions.{function.name}")
        return WorkerProcess(function_name=function.name, environment=environment, output_logger=output_logger)

    def _code_root(self, function: FunctionConfig) -> Path:
        with self._code_roots_lock:
            if function.name not in self._code_roots:
                self._code_roots[function.name] = create_code_root(function.source_dir, function.package)
            return self._code_roots[function.name]

    @staticmethod
    def _log_invocation(function_name: str, request_id: str, started: float, outcome: str) -> None:
        duration_ms = (time.monotonic() - started) * 1000
        logger.info(
            "Invoked %s in %.1f ms: %s", function_name, duration_ms, outcome, extra={"request_id": request_id}
        )
