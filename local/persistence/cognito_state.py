"""The local Cognito pool with its users, codes, refresh tokens and signing keys saved after each change."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from local.persistence.files import write_atomic
from local.persistence.moto_journal import call_buffered

logger = logging.getLogger(__name__)

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# Actions that change nothing in the pool. Any other action that succeeds saves the state:
# InitiateAuth too, because a password sign-in stores a new refresh token.
READ_ACTIONS = frozenset({"GetUser", "AdminGetUser"})


class CognitoPool(Protocol):
    """The part of LocalCognito that this wrapper calls."""

    def handles(self, environ: dict[str, Any]) -> bool: ...

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...

    def rotate_keys(self) -> str: ...

    def drop_retired_keys(self) -> list[str]: ...

    def issue_tokens(self, email: str) -> dict[str, Any]: ...

    def export_state(self) -> dict[str, Any]: ...

    def import_state(self, state: dict[str, Any]) -> None: ...


class PersistentCognito:
    """Wrap a LocalCognito so that every change is in `path` before the caller sees its result.

    The file is replaced atomically with `export_state()`, which contains password hashes,
    refresh token hashes and private keys, so it is readable by its owner only (mode 0600).
    Other attributes pass through to the wrapped pool.
    """

    def __init__(self, inner: CognitoPool, path: Path) -> None:
        self._inner = inner
        self.path = path
        # Each save exports the state while holding this lock, so the last file written
        # always has the latest state, whatever order concurrent changes finish in.
        self._save_lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def restore(self) -> int:
        """Load the saved state into the pool, if there is one; return the number of users."""
        if not self.path.exists():
            return 0
        state = json.loads(self.path.read_text())
        self._inner.import_state(state)
        return len(state.get("users", []))

    def save(self) -> None:
        with self._save_lock:
            data = json.dumps(self._inner.export_state(), separators=(",", ":")).encode()
            write_atomic(self.path, data, mode=0o600)

    # --- the edge's and the control endpoints' interface ------------------------

    def handles(self, environ: dict[str, Any]) -> bool:
        return self._inner.handles(environ)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(TARGET_PREFIX) or target.removeprefix(TARGET_PREFIX) in READ_ACTIONS:
            return self._inner.wsgi_app(environ, start_response)
        # Buffer the response, so that a failed save can still turn it into an error.
        status, headers, body = call_buffered(self._inner.wsgi_app, environ)
        if status.startswith("2"):
            try:
                self.save()
            except OSError as error:
                logger.error("Saving the Cognito state to %s failed after %s", self.path, target, exc_info=error)
                return _internal_error(start_response, f"The offline stack could not save the user pool ({error}).")
        start_response(status, headers)
        return [body]

    def rotate_keys(self) -> str:
        kid = self._inner.rotate_keys()
        self.save()
        return kid

    def drop_retired_keys(self) -> list[str]:
        dropped = self._inner.drop_retired_keys()
        self.save()
        return dropped

    def issue_tokens(self, email: str) -> dict[str, Any]:
        result = self._inner.issue_tokens(email)
        self.save()
        return result


def _internal_error(start_response: Callable[..., Any], message: str) -> list[bytes]:
    payload = json.dumps({"__type": "InternalErrorException", "message": message}).encode()
    start_response("500 Internal Server Error", [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Content-Length", str(len(payload))),
        ("x-amzn-ErrorType", "InternalErrorException"),
    ])
    return [payload]
