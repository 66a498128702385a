"""Developer endpoints of the running stack, for `python -m local token` and `logs`.

- `GET /_local/logs`: the functions and how many recent log lines the stack keeps of each;
- `GET /_local/logs?function=<name>&after=<seq>&limit=<n>`: one function's log lines
  after sequence number `after`, oldest first;
- `POST /_local/token` with `{"email": ...}`: ID, access and refresh tokens of a confirmed
  user, without a password.

NOTE: the token endpoint signs a user in without a password, as Cognito's admin API
would with credentials. The stack checks no credentials at all, which is why it listens
on 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import parse_qs


from local.cognito.exceptions import UserNotConfirmedException, UserNotFoundException
from local.control import error_body, json_response

logger = logging.getLogger(__name__)

# The parent logger of every function's output lines (see LambdaRuntime._create_worker).
FUNCTION_LOGGER = "local.lambda_runtime.functions"
# Recent output lines kept per function.
MAX_LINES_PER_FUNCTION = 2000
# Most lines one GET /_local/logs returns.
MAX_LINES_PER_REQUEST = 1000
# Largest request body of POST /_local/token, in bytes.
MAX_TOKEN_BODY_BYTES = 4096

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TokenIssuer(Protocol):
    """The part of LocalCognito that POST /_local/token calls."""

    def issue_tokens(self, email: str) -> dict[str, Any]: ...


class FunctionLogBuffer(logging.Handler):
    """Keep the most recent output lines of each function, numbered in the order they arrived."""

    def __init__(self, max_lines: int = MAX_LINES_PER_FUNCTION) -> None:
        super().__init__(level=logging.DEBUG)
        self._max_lines = max_lines
        self._lines: dict[str, deque[dict[str, Any]]] = {}
        self._sequence = 0
        self._buffer_lock = threading.Lock()

    def install(self) -> None:
        logging.getLogger(FUNCTION_LOGGER).addHandler(self)

    def uninstall(self) -> None:
        logging.getLogger(FUNCTION_LOGGER).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        function_name = record.name.removeprefix(FUNCTION_LOGGER + ".")
        if function_name == record.name:
            return
        try:
            message = record.getMessage()
        except Exception:
            self.handleError(record)
            return
        with self._buffer_lock:
            self._sequence += 1
            lines = self._lines.setdefault(function_name, deque(maxlen=self._max_lines))
            lines.append(
                {
                    "seq": self._sequence,
                    "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
                    "level": record.levelname,
                    "request_id": getattr(record, "request_id", None),
                    "message": message,
                }
            )

    def lines(self, function_name: str, after: int = 0, limit: int = MAX_LINES_PER_REQUEST) -> list[dict[str, Any]]:
        """Return up to `limit` lines of a function with a sequence number above `after`, oldest first."""
        with self._buffer_lock:
            kept = list(self._lines.get(function_name, ()))
        newer = [line for line in kept if line["seq"] > after]
        return newer[:limit]

    def counts(self) -> dict[str, int]:
        with self._buffer_lock:
            return {name: len(lines) for name, lines in self._lines.items()}

    @property
    def last_sequence(self) -> int:
        with self._buffer_lock:
            return self._sequence


class DevEndpoints:
    """WSGI app of /_local/logs and /_local/token, in front of the other control endpoints."""

    def __init__(
        self,
        *,
        logs: FunctionLogBuffer,
        function_names: Callable[[], list[str]],
        issuer: Callable[[], TokenIssuer | None],
    ) -> None:
        self._logs = logs
        self._function_names = function_names
        self._issuer = issuer
        self._routes: dict[str, dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]]] = {
            "/_local/logs": {"GET": self._get_logs},
            "/_local/token": {"POST": self._issue_token},
        }

    def wrap(self, control_app: WsgiApp) -> WsgiApp:
        """Return a WSGI app that serves these endpoints and passes every other request to `control_app`."""

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            methods = self._routes.get(environ.get("PATH_INFO", "").rstrip("/"))
            if methods is None:
                return control_app(environ, start_response)
            method = environ.get("REQUEST_METHOD", "GET")
            handler = methods.get(method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                message = f"{method} is not allowed on {environ.get('PATH_INFO')}; use {allowed}."
                return json_response(start_response, 405, error_body("method_not_allowed", message), [("Allow", allowed)])
            status, body = handler(environ)
            return json_response(start_response, status, body)

        return app

    # --- logs ---------------------------------------------------------------------------

    def _get_logs(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        known = self._function_names()
        function_name = _first(query, "function")
        if function_name is None:
            counts = self._logs.counts()
            return 200, {"functions": {name: counts.get(name, 0) for name in known}}
        resolved = resolve_function_name(function_name, known)
        if resolved is None:
            return 404, error_body(
                "not_found", f"No function {function_name!r}. The stack runs {', '.join(known)}."
            )
        try:
            after = int(_first(query, "after") or 0)
            limit = int(_first(query, "limit") or MAX_LINES_PER_REQUEST)
        except ValueError:
            return 400, error_body("bad_request", "after and limit must be integers.")
        if limit < 1:
            return 400, error_body("bad_request", f"limit must be at least 1, got {limit}.")
        lines = self._logs.lines(resolved, after=after, limit=min(limit, MAX_LINES_PER_REQUEST))
        # `next` is the `after` of the following request, so a follower never skips or repeats a line.
        next_after = lines[-1]["seq"] if lines else max(after, 0)
        return 200, {"function": resolved, "lines": lines, "next": next_after}

    # --- token --------------------------------------------------------------------------

    def _issue_token(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        issuer = self._issuer()
        if issuer is None:
            return 503, error_body("service_unavailable", "Cognito is not running yet; retry when /_local/health is ready.")
        email = _email_from_body(environ)
        if email is None:
            return 400, error_body("bad_request", 'The body must be a JSON object with an "email" string.')
        try:
            result = issuer.issue_tokens(email)
        except UserNotFoundException:
            message = f"No user {email}. Create it with `python -m local token {email} --create`."
            return 404, error_body("not_found", message)
        except UserNotConfirmedException:
            message = f"The user {email} is not confirmed. Confirm it with the code in the outbox, or create it with --create."
            return 409, error_body("conflict", message)
        return 200, {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "refresh_token": result.get("RefreshToken"),
            "expires_in": result["ExpiresIn"],
            "token_type": "Bearer",
        }


def resolve_function_name(name: str, known: list[str]) -> str | None:
    """Find a function by its name or by the part after the prefix, e.g. `frontend` for `survey-frontend`."""
    if name in known:
        return name
    matches = [candidate for candidate in known if candidate.endswith(f"-{name}")]
    return matches[0] if len(matches) == 1 else None


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _email_from_body(environ: dict[str, Any]) -> str | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_TOKEN_BODY_BYTES:
        return None
    try:
        document = json.loads(environ["wsgi.input"].read(length))
    except ValueError:
        return None
    email = document.get("email") if isinstance(document, dict) else None
    return email.strip() if isinstance(email, str) and email.strip() else None
