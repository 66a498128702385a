"""One worker process, seen from the runtime: start it, send it invocations, stop it."""
from __future__ import annotations

import json
import logging
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.lambda_runtime.errors import function_error_payload
from local.lambda_runtime.protocol import ProtocolError, read_frame, write_frame

logger = logging.getLogger(__name__)

# The folder that contains the `local` package: the worker starts there so `-m` finds it.
PACKAGE_PARENT_DIR = Path(__file__).resolve().parents[2]
# Maximum time for a worker to import the handler, in seconds. Lambda allows 10 s, but
# local cold starts share a developer's machine with the rest of the stack, so this is looser.
INIT_TIMEOUT_SECONDS = 30.0
# How long a worker may take to exit after its pipe closes or after SIGTERM, in seconds.
STOP_GRACE_SECONDS = 2.0
# How long to wait for the last output lines of an invocation after its result, in seconds.
OUTPUT_DRAIN_SECONDS = 1.0
# Maximum output lines forwarded to the log per invocation. The rest are counted and reported once.
MAX_FORWARDED_LINES = 1000
# Lambda's LogResult (X-Amz-Log-Type: Tail) contains the last 4 KB of the invocation's log.
LOG_TAIL_BYTES = 4096
# Maximum length of an output line in bytes. A longer line is split into several lines.
MAX_LINE_BYTES = 64 * 1024

# Go's names for the signals that end a process, as Lambda's Runtime.ExitError message uses them.
_SIGNAL_DESCRIPTIONS = {
    "SIGKILL": "killed",
    "SIGTERM": "terminated",
    "SIGSEGV": "segmentation fault",
    "SIGABRT": "aborted",
}


class WorkerInitError(Exception):
    """The worker could not load the handler. `payload` is Lambda's init error payload."""

    def __init__(self, error_type: str, payload: bytes) -> None:
        try:
            message = json.loads(payload).get("errorMessage", "")
        except (ValueError, AttributeError):
            message = ""
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.payload = payload


@dataclass
class InvocationOutcome:
    payload: bytes
    # None on success, else the function error's type, e.g. "ValueError" or "Sandbox.Timedout".
    error_type: str | None
    # False when the worker is gone or must not run another invocation.
    reusable: bool
    log_tail: str


class WorkerProcess:
    """A worker subprocess that runs one function's invocations, one at a time."""

    def __init__(
        self,
        *,
        function_name: str,
        environment: dict[str, str],
        output_logger: logging.Logger,
    ) -> None:
        self.function_name = function_name
        self._environment = environment
        self._output_logger = output_logger
        self._marker = secrets.token_hex(16)
        self._process: subprocess.Popen[bytes] | None = None
        self._frames: queue.Queue[tuple[dict[str, Any], bytes] | None] = queue.Queue()
        self._readers: list[threading.Thread] = []
        # Output state, shared with the output reader thread.
        self._output = threading.Condition()
        self._request_id: str | None = None
        self._last_marker: str | None = None
        self._output_closed = False
        self._forwarded_lines = 0
        self._dropped_lines = 0
        self._tail: deque[str] = deque(maxlen=200)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> float:
        """Start the process, wait until it has imported the handler and return the init duration in ms.

        Raises WorkerInitError, after stopping the process, when the handler cannot be
        loaded, the process exits, or the Init phase times out.
        """
        started = time.monotonic()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.lambda_runtime.worker", self._marker],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=PACKAGE_PARENT_DIR,
            env=self._environment,
        )
        self._start_reader(self._read_frames, "frames")
        self._start_reader(self._read_output, "output")

        try:
            frame = self._frames.get(timeout=INIT_TIMEOUT_SECONDS)
        except queue.Empty:
            self.kill()
            message = f"Error: Init phase timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds"
            raise WorkerInitError("Sandbox.Timedout", function_error_payload("Sandbox.Timedout", message)) from None
        if frame is None:
            status = self._exit_status()
            self.kill()
            message = f"Error: Runtime exited with error: {status}"
            raise WorkerInitError("Runtime.ExitError", function_error_payload("Runtime.ExitError", message))

        header, body = frame
        self._wait_for_marker("init")
        if header["type"] == "init_error":
            self.stop()
            raise WorkerInitError(str(header["error_type"]), body)
        return (time.monotonic() - started) * 1000

    def invoke(
        self,
        request_id: str,
        event: bytes,
        *,
        invoked_function_arn: str,
        deadline_ms: int,
        timeout_seconds: float,
        fault: str | None = None,
    ) -> InvocationOutcome:
        """Run one invocation, and kill the worker when it runs past `timeout_seconds`.

        `fault` is a Lambda mode of local.faults, which the worker applies to this invocation.
        """
        with self._output:
            self._request_id = request_id
            self._forwarded_lines = 0
            self._dropped_lines = 0
            self._tail.clear()

        header = {
            "type": "invoke",
            "request_id": request_id,
            "invoked_function_arn": invoked_function_arn,
            "deadline_ms": deadline_ms,
        }
        if fault is not None:
            header["fault"] = fault
        assert self._process is not None and self._process.stdin is not None
        try:
            write_frame(self._process.stdin, header, event)
            frame = self._frames.get(timeout=timeout_seconds)
        except OSError:
            # The worker is gone, so its pipe is closed.
            frame = None
        except queue.Empty:
            logger.warning(
                "Killing worker %s of %s: the invocation timed out after %.2f s",
                self.pid, self.function_name, timeout_seconds, extra={"request_id": request_id},
            )
            self.kill()
            message = f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds"
            return self._outcome(function_error_payload("Sandbox.Timedout", message), "Sandbox.Timedout", False)

        if frame is None:
            status = self._exit_status()
            self._wait_for_marker(request_id)
            logger.error(
                "Worker %s of %s exited during an invocation (%s)",
                self.pid, self.function_name, status, extra={"request_id": request_id},
            )
            message = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
            return self._outcome(function_error_payload("Runtime.ExitError", message), "Runtime.ExitError", False)

        result_header, payload = frame
        self._wait_for_marker(request_id)
        error_type = result_header.get("error_type")
        return self._outcome(payload, str(error_type) if error_type else None, True)

    def stop(self) -> None:
        """Close the worker's pipe so that it exits. Terminate it, then kill it, if it does not."""
        if self._process is None:
            return
        if self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
        self._join_readers()

    def kill(self) -> None:
        """Send SIGTERM, then SIGKILL after a grace period, and wait for the process to end."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        self._join_readers()

    def _outcome(self, payload: bytes, error_type: str | None, reusable: bool) -> InvocationOutcome:
        with self._output:
            tail = "\n".join(self._tail)
            dropped = self._dropped_lines
            request_id = self._request_id
            self._request_id = None
        if dropped:
            self._output_logger.warning(
                "%d more output lines were not logged (at most %d lines per invocation)",
                dropped, MAX_FORWARDED_LINES, extra={"request_id": request_id},
            )
        encoded_tail = tail.encode()[-LOG_TAIL_BYTES:].decode(errors="ignore")
        return InvocationOutcome(payload=payload, error_type=error_type, reusable=reusable, log_tail=encoded_tail)

    def _exit_status(self) -> str:
        assert self._process is not None
        try:
            code = self._process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return f"signal: {_SIGNAL_DESCRIPTIONS.get(name, name.lower())}"
        return f"exit status {code}"

    def _start_reader(self, target: Any, role: str) -> None:
        thread = threading.Thread(target=target, name=f"{self.function_name}-{role}-{self.pid}", daemon=True)
        thread.start()
        self._readers.append(thread)

    def _join_readers(self) -> None:
        for thread in self._readers:
            if thread is not threading.current_thread():
                thread.join(timeout=STOP_GRACE_SECONDS)

    def _read_frames(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        try:
            while (frame := read_frame(stream)) is not None:
                self._frames.put(frame)
        except (ProtocolError, ValueError, OSError) as exc:
            logger.error("Worker %s of %s sent a broken frame: %s", self.pid, self.function_name, exc)
        finally:
            self._frames.put(None)

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        stream = self._process.stderr
        marker_prefix = f"{self._marker} END "
        try:
            while raw_line := stream.readline(MAX_LINE_BYTES):
                # A "\r" inside a line separates the lines of one multi-line log event.
                line = raw_line.decode(errors="replace").rstrip("\r\n").replace("\r", "\n")
                if line.startswith(marker_prefix):
                    with self._output:
                        self._last_marker = line[len(marker_prefix):]
                        self._output.notify_all()
                    continue
                self._forward_line(line)
        except (OSError, ValueError):
            pass
        finally:
            with self._output:
                self._output_closed = True
                self._output.notify_all()

    def _forward_line(self, line: str) -> None:
        with self._output:
            request_id = self._request_id
            self._tail.append(line)
            if self._forwarded_lines >= MAX_FORWARDED_LINES:
                self._dropped_lines += 1
                return
            self._forwarded_lines += 1
        extra = {"request_id": request_id} if request_id else None
        self._output_logger.log(output_line_level(line), "%s", line, extra=extra)

    def _wait_for_marker(self, request_id: str) -> None:
        deadline = time.monotonic() + OUTPUT_DRAIN_SECONDS
        with self._output:
            while self._last_marker != request_id and not self._output_closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._output.wait(remaining)


def output_line_level(line: str) -> int:
    """Return the log level that a function's output line states, INFO when it states none.

    Recognizes the text format of Lambda's root log handler (`[ERROR]\\t...`, `[ERROR] ...`)
    and JSON lines with a "level" key, as Powertools' Logger writes them.
    """
    name = ""
    if line.startswith("[") and "]" in line[:12]:
        name = line[1:line.index("]")]
    elif line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("level"), str):
            name = record["level"]
    level = logging.getLevelName(name.upper()) if name else logging.INFO
    return level if isinstance(level, int) else logging.INFO
