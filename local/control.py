"""The stack's own endpoints under `/_local/`: health, outputs, outbox and signer key rotation."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from werkzeug.http import HTTP_STATUS_CODES

from local.outbox import Outbox

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_local/"

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
    ) -> None:
        self._status = status
        self._outputs = outputs
        self._outbox = outbox
        self._signer = signer
        self._routes: dict[tuple[str, str], Callable[[], tuple[int, dict[str, Any]]]] = {
            ("GET", "health"): self._health,
            ("GET", "outputs"): lambda: (200, self._outputs()),
            ("GET", "outbox"): lambda: (200, {"messages": self._outbox.messages()}),
            ("POST", "signer/rotate"): self._rotate_keys,
            ("POST", "signer/drop-retired"): self._drop_retired_keys,
        }

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        route = environ.get("PATH_INFO", "").removeprefix(CONTROL_PREFIX).rstrip("/")
        handler = self._routes.get((method, route))
        if handler is not None:
            status, body = handler()
            return _json_response(start_response, status, body)
        allowed = sorted(known for known, path in self._routes if path == route)
        if allowed:
            message = f"{method} is not allowed on {CONTROL_PREFIX}{route}; use {', '.join(allowed)}."
            headers = [("Allow", ", ".join(allowed))]
            return _json_response(start_response, 405, _error("method_not_allowed", message), headers)
        return _json_response(start_response, 404, _error("not_found", f"No control endpoint {CONTROL_PREFIX}{route}."))

    def _health(self) -> tuple[int, dict[str, Any]]:
        services = self._status.snapshot()
        if self._status.is_ready():
            return 200, {"status": "ready", "services": services}
        overall = "failed" if FAILED in services.values() else "starting"
        return 503, {"status": overall, "services": services}

    def _rotate_keys(self) -> tuple[int, dict[str, Any]]:
        signer = self._signer()
        if signer is None:
            return 503, _error("service_unavailable", "The signer is not running yet; retry when /_local/health is ready.")
        kid = signer.rotate_keys()
        logger.info("Rotated the signing key, new kid %s", kid)
        return 200, {"kid": kid}

    def _drop_retired_keys(self) -> tuple[int, dict[str, Any]]:
        signer = self._signer()
        if signer is None:
            return 503, _error("service_unavailable", "The signer is not running yet; retry when /_local/health is ready.")
        dropped = signer.drop_retired_keys()
        logger.info("Dropped %d retired signing keys", len(dropped))
        return 200, {"dropped": dropped}


def _error(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def _json_response(
    start_response: Callable[..., Any],
    status: int,
    body: dict[str, Any],
    extra_headers: list[tuple[str, str]] | None = None,
) -> Iterator[bytes]:
    payload = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Cache-Control", "no-store")]
    start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers + (extra_headers or []))
    return iter([payload])
