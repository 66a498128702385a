"""Lambda entry point: API Gateway REST proxy events in, proxy responses out.

Routing is a small table instead of Powertools' APIGatewayRestResolver,
because the contract needs what the resolver (aws-lambda-powertools 3.37)
does not do: CORS headers on every response, also when the request has no
Origin header, 405 with an Allow header for a known path with another method
(the resolver returns 404), and one error body shape for every failure.
"""
from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.common import CaseInsensitiveDict

from frontend_fn import auth_routes, survey_routes, templates
from frontend_fn.config import ConfigurationError, Settings
from frontend_fn.dependencies import Dependencies, build_dependencies
from frontend_fn.errors import ApiError, InternalError, NotFound, ServiceUnavailable, Unauthorized
from frontend_fn.responses import ApiResponse, error_response, preflight_response, to_proxy_response
from frontend_fn.routing import Request, Route, Router
from frontend_fn.tokens import JwksUnavailable, TokenRejected, strip_bearer
from frontend_fn.validation import check_body_size, check_json_content_type, decode_body, parse_json_object

logger = Logger()

ROUTER = Router(
    [
        Route("POST", "/auth/signup", auth_routes.sign_up, requires_token=False, takes_body=True),
        Route("POST", "/auth/confirm", auth_routes.confirm_sign_up, requires_token=False, takes_body=True),
        Route("POST", "/auth/login", auth_routes.log_in, requires_token=False, takes_body=True),
        # Alias of /auth/login kept for clients of the earlier Flask version of the app.
        Route("POST", "/flask/login", auth_routes.log_in, requires_token=False, takes_body=True),
        Route("POST", "/auth/refresh", auth_routes.refresh_tokens, requires_token=False, takes_body=True),
        Route("GET", "/auth/me", auth_routes.current_user, requires_token=True, takes_body=False),
        Route("POST", "/survey/create", survey_routes.create_survey, requires_token=True, takes_body=True),
        Route("GET", "/surveys", survey_routes.list_surveys, requires_token=True, takes_body=False),
        Route("GET", "/survey", survey_routes.get_survey, requires_token=True, takes_body=False),
        Route("PATCH", "/survey", survey_routes.update_survey, requires_token=True, takes_body=True),
        Route("DELETE", "/survey", survey_routes.delete_survey, requires_token=True, takes_body=False),
        Route("GET", "/survey/responses", survey_routes.list_responses, requires_token=True, takes_body=False),
        Route("GET", "/survey/results", survey_routes.get_results, requires_token=True, takes_body=False),
        Route("GET", "/survey/export", survey_routes.export_responses, requires_token=True, takes_body=False),
        Route("GET", "/templates", templates.list_templates, requires_token=True, takes_body=False),
        Route("GET", "/template", templates.get_template, requires_token=True, takes_body=False),
        Route("GET", "/survey/public", survey_routes.get_public_survey, requires_token=False, takes_body=False),
        Route("POST", "/survey/respond", survey_routes.submit_response, requires_token=False, takes_body=True),
    ]
)

_dependencies: Dependencies | None = None


def _route_path(event: dict[str, Any], router: Router) -> str:
    """Return the contract path of the request.

    `resource` is the API Gateway resource that matched, which is the contract
    path itself unless a catch-all such as `/{proxy+}` matched; then `path` is used.
    """
    for candidate in (event.get("resource"), event.get("path")):
        if isinstance(candidate, str):
            normalized = candidate.rstrip("/") or "/"
            if router.knows_path(normalized):
                return normalized
    path = event.get("path")
    return path if isinstance(path, str) else ""


def _authenticate(request: Request, deps: Dependencies) -> None:
    token = strip_bearer(request.headers.get("Authorization"))
    if token is None:
        logger.info("token rejected: missing")
        raise Unauthorized("A token is required; send Authorization: Bearer <token>.")
    try:
        request.caller, _claims = deps.verifier.verify(token)
    except TokenRejected as exc:
        logger.info(f"token rejected: {exc.reason}")
        raise Unauthorized("The token is invalid or expired; log in again.") from exc
    except JwksUnavailable as exc:
        logger.warning("token not checked: signing keys unavailable", extra={"error": str(exc)})
        raise ServiceUnavailable("The sign-in keys are unavailable; try again in a minute.") from exc
    request.token = token


def _dispatch(event: dict[str, Any], deps: Dependencies, router: Router) -> ApiResponse:
    """Check the request's shape and token, then call the route's handler."""
    method = str(event.get("httpMethod") or "").upper()
    path = _route_path(event, router)
    if not router.knows_path(path):
        raise NotFound(f"No route matches {path[:200]}.")
    if method == "OPTIONS":
        return preflight_response(router.allowed_methods(path))
    route = router.match(path, method)

    headers = CaseInsensitiveDict(event.get("headers") or {})
    raw_body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")))
    check_body_size(raw_body)
    if method in ("POST", "PATCH"):
        check_json_content_type(headers.get("Content-Type"))

    request = Request(
        method=method,
        path=path,
        headers=headers,
        query=event.get("queryStringParameters") or {},
        raw_body=raw_body,
        request_id=_request_id(event),
    )
    if route.requires_token:
        _authenticate(request, deps)
    if route.takes_body:
        request.body = parse_json_object(raw_body)
    return route.handler(request, deps)


def _request_id(event: dict[str, Any]) -> str:
    context = event.get("requestContext") or {}
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else ""


def handle_event(event: dict[str, Any], deps: Dependencies, router: Router = ROUTER) -> dict[str, Any]:
    """Handle one API Gateway REST proxy event; every failure becomes a contract error response."""
    started = time.perf_counter()
    try:
        response = _dispatch(event, deps, router)
    except ApiError as exc:
        response = error_response(exc)
    except Exception:
        logger.exception("Unhandled error while serving the request")
        response = error_response(InternalError("The server failed to process the request."))

    logger.info(
        "request completed",
        extra={
            "method": event.get("httpMethod"),
            "resource": event.get("resource"),
            "path": event.get("path"),
            "status": response.status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return to_proxy_response(response, deps.settings.cors_allow_origin)


def _get_dependencies() -> Dependencies:
    global _dependencies
    if _dependencies is None:
        _dependencies = build_dependencies(Settings.from_environment())
    return _dependencies


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        deps = _get_dependencies()
    except Exception as exc:
        # A ConfigurationError names the missing variables; anything else is a bug or a boto3 setup error.
        logger.exception("The function could not start", extra={"configuration_error": isinstance(exc, ConfigurationError)})
        cors_allow_origin = os.environ.get("CORS_ALLOW_ORIGIN", "").strip() or "*"
        return to_proxy_response(error_response(InternalError("The server is misconfigured.")), cors_allow_origin)
    return handle_event(event, deps)
