"""Survey routes: check the request's shape, then hand it to the backend action."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontend_fn.errors import BadRequest
from frontend_fn.validation import (
    parse_export_format,
    parse_idempotency_key,
    parse_limit,
    parse_next_token,
    parse_survey_id,
)

if TYPE_CHECKING:
    from frontend_fn.dependencies import Dependencies
    from frontend_fn.responses import ApiResponse
    from frontend_fn.routing import Request


def _call(action: str, request: Request, deps: Dependencies, args: dict[str, Any]) -> ApiResponse:
    caller = request.caller.to_payload() if request.caller is not None else None
    return deps.backend.call(action, caller, args, request.request_id)


def _query_survey_id(request: Request) -> str:
    return parse_survey_id(request.query.get("survey_id"))


def create_survey(request: Request, deps: Dependencies) -> ApiResponse:
    return _call("create_survey", request, deps, {"survey": request.body})


def list_surveys(request: Request, deps: Dependencies) -> ApiResponse:
    args = {"limit": parse_limit(request.query), "next_token": parse_next_token(request.query)}
    return _call("list_surveys", request, deps, args)


def get_survey(request: Request, deps: Dependencies) -> ApiResponse:
    return _call("get_survey", request, deps, {"survey_id": _query_survey_id(request)})


def update_survey(request: Request, deps: Dependencies) -> ApiResponse:
    survey_id = _query_survey_id(request)
    return _call("update_survey", request, deps, {"survey_id": survey_id, "changes": request.body})


def delete_survey(request: Request, deps: Dependencies) -> ApiResponse:
    return _call("delete_survey", request, deps, {"survey_id": _query_survey_id(request)})


def list_responses(request: Request, deps: Dependencies) -> ApiResponse:
    args = {
        "survey_id": _query_survey_id(request),
        "limit": parse_limit(request.query),
        "next_token": parse_next_token(request.query),
    }
    return _call("list_responses", request, deps, args)


def get_results(request: Request, deps: Dependencies) -> ApiResponse:
    return _call("get_results", request, deps, {"survey_id": _query_survey_id(request)})


def export_responses(request: Request, deps: Dependencies) -> ApiResponse:
    survey_id = _query_survey_id(request)
    export_format = parse_export_format(request.query)
    response = _call("export_responses", request, deps, {"survey_id": survey_id, "format": export_format})
    if response.status == 200:
        extension = "csv" if export_format == "csv" else "json"
        response.headers["Content-Disposition"] = f'attachment; filename="survey-{survey_id}.{extension}"'
    return response


def get_public_survey(request: Request, deps: Dependencies) -> ApiResponse:
    return _call("get_public_survey", request, deps, {"survey_id": _query_survey_id(request)})


def submit_response(request: Request, deps: Dependencies) -> ApiResponse:
    body = request.body or {}
    idempotency_key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
    survey_id = parse_survey_id(body.get("survey_id"))
    answers = body.get("answers")
    if answers is None:
        raise BadRequest("answers is required.")
    if not isinstance(answers, dict):
        raise BadRequest("answers must be an object that maps question ids to values.")
    args = {"survey_id": survey_id, "answers": answers, "idempotency_key": idempotency_key}
    return _call("submit_response", request, deps, args)
