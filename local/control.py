"""The stack's own endpoints under `/_local/`: health, outputs, outbox, signer key rotation and test faults."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from werkzeug.http import HTTP_STATUS_CODES

from local.faults import FAULTS, FaultError, Faults
from local.outbox import Outbox

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_local/"
# Largest request body a control endpoint reads, in bytes.
MAX_CONTROL_BODY_BYTES = 64 * 1024

STARTING = "starting"
RUNNING = "running"
STOPPED = "stopped"
FAILED = "failed"


class KeySigner(Protocol):
    """The part of LocalCognito that the control endpoints call."""

    def rotate_keys(self) -> str: ...

    def drop_retired_keys(self) -> list[str]: ...


class StackStatus:
    """Thread-safe state of each part of the stack (starting, running, stopped or failed)."""

    def __init__(self, services: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._states = {service: STARTING for service in services}

    def set(self, service: str, state: str) -> None:
        with self._lock:
            self._states[service] = state

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._states)

    def is_ready(self) -> bool:
        with self._lock:
            return all(state == RUNNING for state in self._states.values())


class ControlEndpoints:
    """WSGI app of the `/_local/*` endpoints."""

    def __init__(
        self,
        *,
        status: StackStatus,
        outputs: Callable[[], dict[str, str]],
        outbox: Outbox,
        signer: Callable[[], KeySigner | None],
        faults: Faults = FAULTS,
    ) -> None:
        self._status = status
        self._outputs = outputs
        self._outbox = outbox
        self._signer = signer
        self._faults = faults
        self._routes: dict[tuple[str, str], Callable[[], tuple[int, dict[str, Any]]]] = {
            ("GET", "health"): self._health,
            ("GET", "outputs"): lambda: (200, self._outputs()),
            ("GET", "outbox"): lambda: (200, {"messages": self._outbox.messages()}),
            ("POST", "signer/rotate"): self._rotate_keys,
            ("POST", "signer/drop-retired"): self._drop_retired_keys,
            ("GET", "faults"): lambda: (200, {"faults": self._faults.snapshot()}),
            ("DELETE", "faults"): self._clear_faults,
        }
        # Routes whose handler reads the request body.
        self._body_routes: dict[tuple[str, str], Callable[[bytes], tuple[int, dict[str, Any]]]] = {
            ("POST", "faults"): self._set_faults,
        }

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        route = environ.get("PATH_INFO", "").removeprefix(CONTROL_PREFIX).rstrip("/")
        handler = self._routes.get((method, route))
        if handler is not None:
            status, body = handler()
            return json_response(start_response, status, body)
        body_handler = self._body_routes.get((method, route))
        if body_handler is not None:
            request_body = _read_body(environ)
            if request_body is None:
                message = f"The body of {method} {CONTROL_PREFIX}{route} must be at most {MAX_CONTROL_BODY_BYTES} bytes."
                return json_response(start_response, 413, error_body("payload_too_large", message))
            status, body = body_handler(request_body)
            return json_response(start_response, status, body)
        allowed = sorted(known for known, path in [*self._routes, *self._body_routes] if path == route)
        if allowed:
            message = f"{method} is not allowed on {CONTROL_PREFIX}{route}; use {', '.join(allowed)}."
            headers = [("Allow", ", ".join(allowed))]
            return json_response(start_response, 405, error_body("method_not_allowed", message), headers)
        return json_response(start_response, 404, error_body("not_found", f"No control endpoint {CONTROL_PREFIX}{route}."))

    def _health(self) -> tuple[int, dict[str, Any]]:
        services = self._status.snapshot()
        if self._status.is_ready():
            return 200, {"status": "ready", "services": services}
        overall = "failed" if FAILED in services.values() else "starting"
        return 503, {"status": overall, "services": services}

    def _rotate_keys(self) -> tuple[int, dict[str, Any]]:
        signer = self._signer()
        if signer is None:
            return 503, error_body("service_unavailable", "The signer is not running yet; retry when /_local/health is ready.")
        kid = signer.rotate_keys()
        logger.info("Rotated the signing key, new kid %s", kid)
        return 200, {"kid": kid}

    def _drop_retired_keys(self) -> tuple[int, dict[str, Any]]:
        signer = self._signer()
        if signer is None:
            return 503, error_body("service_unavailable", "The signer is not running yet; retry when /_local/health is ready.")
        dropped = signer.drop_retired_keys()
        logger.info("Dropped %d retired signing keys", len(dropped))
        return 200, {"dropped": dropped}


    def _set_faults(self, request_body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            document = json.loads(request_body or b"null")
        except ValueError:
            return 400, error_body("bad_request", 'The body must be JSON, such as {"sns": "fail"}.')
        try:
            return 200, {"faults": self._faults.set(document)}
        except FaultError as exc:
            return 400, error_body("bad_request", str(exc))

    def _clear_faults(self) -> tuple[int, dict[str, Any]]:
        self._faults.clear()
        return 200, {"faults": {}}


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """Return the request body, or None when it is larger than MAX_CONTROL_BODY_BYTES."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_CONTROL_BODY_BYTES:
        return None
    return environ["wsgi.input"].read(length) if length > 0 else b""


def error_body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def json_response(
    start_response: Callable[..., Any],
    status: int,
    body: dict[str, Any],
    extra_headers: list[tuple[str, str]] | None = None,
) -> Iterator[bytes]:
    payload = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Cache-Control", "no-store")]
    start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers + (extra_headers or []))
    return iter([payload])
