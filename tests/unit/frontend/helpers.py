"""Helpers of the frontend unit tests: signing keys, a JWKS server on 127.0.0.1, sample events."""
from __future__ import annotations

import base64
import copy
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = REPO_ROOT / "tests" / "events"
REGION = "us-east-1"
CLIENT_ID = "testclientid123"
USER_POOL_ID = "us-east-1_TestPool"
BUCKET = "survey-private-123456789012"
BACKEND_FUNCTION = "survey-backend"
SURVEY_ID = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
USER_SUB = "0b5e8f4a-2c1d-4e3f-9a8b-7c6d5e4f3a2b"
USER_EMAIL = "alice@example.com"


class FakeClock:
    """A monotonic clock that moves only when a test advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key list and availability tests change."""

    def __init__(self) -> None:
        self.keys: list[dict[str, str]] = []
        self.available = True
        self.request_count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
                server.request_count += 1
                if not server.available:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/{USER_POOL_ID}/.well-known/jwks.json"
        self.issuer = f"http://127.0.0.1:{self._httpd.server_address[1]}/{USER_POOL_ID}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def invoke_result(payload: Any, function_error: str | None = None) -> dict[str, Any]:
    """Build what lambda.invoke returns when the backend returns `payload`."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(raw), len(raw)),
                              "ExecutedVersion": "$LATEST"}
    if function_error:
        result["FunctionError"] = function_error
    return result


def load_event(name: str, **changes: Any) -> dict[str, Any]:
    """Load tests/events/<name>.json; keyword arguments replace top-level keys."""
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    event = copy.deepcopy(event)
    event.update(changes)
    return event


def with_token(event: dict[str, Any], token: str | None, scheme: str = "Bearer ") -> dict[str, Any]:
    headers = dict(event.get("headers") or {})
    headers.pop("Authorization", None)
    if token is not None:
        headers["Authorization"] = f"{scheme}{token}"
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    return event


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def log_records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
