"""Fault injection for tests of the offline stack. Test-only: nothing on AWS has an equivalent.

Tests set faults with `POST /_local/faults` and clear them with `DELETE /_local/faults`:

- `{"lambda": {"<function name>": mode}}`: every invocation of that function fails, by mode:
  - `raise`: the handler is not called, and the invocation fails as if it raised at entry;
  - `garbage`: the handler is not called, and the invocation succeeds with a payload that is not JSON;
  - `timeout`: the worker waits before the handler and is killed after FAULT_TIMEOUT_SECONDS,
    so the handler never runs;
  - `crash-after-handler`: the handler runs to the end, then the worker process exits before it
    sends the result, so the caller sees a failure for work that was done.
- `{"sns": "fail"}`: SNS Publish returns 500 InternalError.
- `{"jwks": "unavailable"}`: the user pool's JWKS returns 503.

A POST adds to the faults already set. Faults last until cleared or until the process
exits, also across stacks that one process starts, as unit tests do. Setting one logs a
WARNING, so a stack left faulty is visible in its log.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

RAISE = "raise"
GARBAGE = "garbage"
TIMEOUT = "timeout"
CRASH_AFTER_HANDLER = "crash-after-handler"
LAMBDA_MODES = (RAISE, GARBAGE, TIMEOUT, CRASH_AFTER_HANDLER)
SNS_MODES = ("fail",)
JWKS_MODES = ("unavailable",)
# The function timeout, in seconds, that replaces the configured one under the `timeout` fault.
FAULT_TIMEOUT_SECONDS = 0.2


class FaultError(ValueError):
    """A fault document with an unknown fault or mode, which the message names."""


class Faults:
    """The faults that are set, shared by the control endpoints, the edge and the Lambda runtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lambda: dict[str, str] = {}
        self._sns: str | None = None
        self._jwks: str | None = None

    def set(self, document: Any) -> dict[str, Any]:
        """Add the faults of a request body to those already set, and return every fault now set.

        Raises FaultError, and changes nothing, when the document has an unknown key or mode.
        """
        lambda_faults, sns, jwks = _parse(document)
        with self._lock:
            self._lambda.update(lambda_faults)
            self._sns = sns or self._sns
            self._jwks = jwks or self._jwks
        for function_name, mode in lambda_faults.items():
            logger.warning("Fault set for tests: every invocation of %s will %s", function_name, _describe(mode))
        if sns:
            logger.warning("Fault set for tests: SNS Publish will fail with 500 InternalError")
        if jwks:
            logger.warning("Fault set for tests: the user pool's JWKS will return 503")
        return self.snapshot()

    def clear(self) -> None:
        with self._lock:
            was_set = bool(self._lambda) or self._sns is not None or self._jwks is not None
            self._lambda = {}
            self._sns = None
            self._jwks = None
        if was_set:
            logger.info("Cleared every fault")

    def snapshot(self) -> dict[str, Any]:
        """Return the faults that are set, in the shape `set` accepts."""
        with self._lock:
            document: dict[str, Any] = {}
            if self._lambda:
                document["lambda"] = dict(self._lambda)
            if self._sns is not None:
                document["sns"] = self._sns
            if self._jwks is not None:
                document["jwks"] = self._jwks
            return document

    def lambda_fault(self, function_name: str) -> str | None:
        with self._lock:
            return self._lambda.get(function_name)

    def sns_fails(self) -> bool:
        with self._lock:
            return self._sns is not None

    def jwks_unavailable(self) -> bool:
        with self._lock:
            return self._jwks is not None


def _parse(document: Any) -> tuple[dict[str, str], str | None, str | None]:
    if not isinstance(document, dict):
        raise FaultError('The body must be a JSON object such as {"sns": "fail"}.')
    unknown = sorted(set(document) - {"lambda", "sns", "jwks"})
    if unknown:
        raise FaultError(f"Unknown fault {unknown[0]!r}; use lambda, sns or jwks.")

    lambda_faults = document.get("lambda", {})
    if not isinstance(lambda_faults, dict):
        raise FaultError('"lambda" must map function names to modes, e.g. {"survey-backend": "raise"}.')
    for function_name, mode in lambda_faults.items():
        if mode not in LAMBDA_MODES:
            raise FaultError(f"Unknown mode {mode!r} for function {function_name!r}; use one of {', '.join(LAMBDA_MODES)}.")

    sns = document.get("sns")
    if sns is not None and sns not in SNS_MODES:
        raise FaultError(f"Unknown sns mode {sns!r}; use one of {', '.join(SNS_MODES)}.")
    jwks = document.get("jwks")
    if jwks is not None and jwks not in JWKS_MODES:
        raise FaultError(f"Unknown jwks mode {jwks!r}; use one of {', '.join(JWKS_MODES)}.")
    return dict(lambda_faults), sns, jwks


def _describe(mode: str) -> str:
    return {
        RAISE: "fail before its handler runs",
        GARBAGE: "return a payload that is not JSON",
        TIMEOUT: f"time out after {FAULT_TIMEOUT_SECONDS} s before its handler runs",
        CRASH_AFTER_HANDLER: "exit once its handler has returned, before sending the result",
    }[mode]


# The stack's one set of faults. Each part takes it as a default argument, and unit tests pass their own.
FAULTS = Faults()
