"""The API contract's error codes and the checks every error response must pass."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

# HTTP status of each error code the API contract lists. `user_not_confirmed`
# is the login route's 403 for an account whose sign-up code is not confirmed.
CONTRACT_ERROR_STATUS: dict[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "user_not_confirmed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "gone": 410,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "too_many_requests": 429,
    "internal": 500,
    "bad_gateway": 502,
    "service_unavailable": 503,
}


def error_body_problems(status: int, headers: Mapping[str, Any], content: bytes) -> list[str]:
    """Return what is wrong with an error response, or an empty list when it matches the contract.

    `headers` maps names to a value or a list of values, in any letter case.
    """
    problems: list[str] = []
    names = {name.lower() for name in headers}
    if "access-control-allow-origin" not in names:
        problems.append("the response has no Access-Control-Allow-Origin header")
    try:
        body = json.loads(content)
    except ValueError:
        return [*problems, f"the body is not JSON: {content[:200]!r}"]
    if not isinstance(body, dict) or set(body) != {"error", "message"}:
        return [*problems, f"the body is not {{error, message}}: {str(body)[:200]}"]

    code = body["error"]
    if code not in CONTRACT_ERROR_STATUS:
        problems.append(f"error {code!r} is not one of the contract's codes")
    elif CONTRACT_ERROR_STATUS[code] != status:
        problems.append(f"error {code!r} belongs to status {CONTRACT_ERROR_STATUS[code]}, not {status}")
    if not isinstance(body["message"], str) or not body["message"]:
        problems.append(f"message must be a non-empty string, got {body['message']!r}")
    return problems


def assert_client_error(response: requests.Response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """Check that a response is a 4xx in the contract's error shape, and return its body."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.status_code >= 400, f"{response.status_code}: {response.text[:500]}"
    if status is not None:
        assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    problems = error_body_problems(response.status_code, response.headers, response.content)
    assert problems == [], problems
    body = response.json()
    if code is not None:
        assert body["error"] == code, body
    return body
