"""API responses and their conversion to API Gateway proxy responses, with CORS and security headers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from frontend_fn.errors import ApiError

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# Request headers a browser may send cross-origin; Idempotency-Key is the respond route's.
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key"
# How long browsers may cache a preflight response, in seconds.
CORS_MAX_AGE_SECONDS = 600


@dataclass
class ApiResponse:
    status: int
    # A JSON value, or a str that is sent as it is (CSV), or None for no body.
    body: Any = None
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status=status, body=body, headers=dict(headers or {}))


def error_response(error: ApiError) -> ApiResponse:
    body = {"error": error.code, "message": error.message}
    return ApiResponse(status=error.status, body=body, headers=dict(error.headers))


def preflight_response(allowed_methods: list[str]) -> ApiResponse:
    """Build the response to a CORS preflight (OPTIONS) on a route that serves `allowed_methods`."""
    headers = {
        "Access-Control-Allow-Methods": ", ".join(allowed_methods),
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    }
    return ApiResponse(status=204, body=None, headers=headers)


def to_proxy_response(response: ApiResponse, cors_allow_origin: str) -> dict[str, Any]:
    """Build the API Gateway REST proxy response, adding the headers every response carries."""
    headers = {
        "Access-Control-Allow-Origin": cors_allow_origin,
        "X-Content-Type-Options": "nosniff",
        # Responses carry tokens or private survey data, so no cache may keep them.
        "Cache-Control": "no-store",
    }
    if cors_allow_origin != "*":
        # The response depends on the configured origin, so caches must not share it across origins.
        headers["Vary"] = "Origin"

    if response.body is None:
        body = ""
    elif isinstance(response.body, str) and response.content_type != JSON_CONTENT_TYPE:
        body = response.body
        headers["Content-Type"] = response.content_type
    else:
        body = json.dumps(response.body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        headers["Content-Type"] = JSON_CONTENT_TYPE

    headers.update(response.headers)
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": False}
