"""Lambda entry point: parse the invoke payload, run the action and return the response object.

The frontend invokes this function with `{action, caller, args, request_id}`
and relays `{status, body}` or `{status, error, message}` to the client. Every
failure caused by the payload is such a 4xx object. Anything else is logged
with its traceback and raised, so the frontend receives a FunctionError and
responds with 502.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from backend_fn.errors import BackendError, BadRequest, Unauthorized
from backend_fn.service import Caller, SurveyService

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "survey-backend"))
# Registering the package logger lets the modules' logging.getLogger(__name__)
# loggers write through the Powertools JSON formatter with the appended keys.
logging.getLogger("backend_fn")
copy_config_to_registered_loggers(source_logger=logger, include={"backend_fn"})

ActionFunction = Callable[[SurveyService, Caller | None, dict[str, Any]], dict[str, Any]]


def success(body: Any, status: int = 200, content_type: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status, "body": body}
    if content_type is not None:
        response["content_type"] = content_type
    return response


def create_survey(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.create_survey(caller, args.get("survey")), 201)


def list_surveys(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.list_surveys(caller, args.get("limit"), args.get("next_token")))


def get_survey(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.get_survey(caller, args.get("survey_id")))


def update_survey(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.update_survey(caller, args.get("survey_id"), args.get("changes")))


def delete_survey(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.delete_survey(caller, args.get("survey_id")))


def list_responses(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.list_responses(caller, args.get("survey_id"), args.get("limit"), args.get("next_token")))


def get_results(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.get_results(caller, args.get("survey_id")))


def export_responses(service: SurveyService, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    exported = service.export_responses(caller, args.get("survey_id"), args.get("format"))
    return success(exported.body, content_type=exported.content_type)


def get_public_survey(service: SurveyService, caller: None, args: dict[str, Any]) -> dict[str, Any]:
    return success(service.get_public_survey(args.get("survey_id")))


def submit_response(service: SurveyService, caller: None, args: dict[str, Any]) -> dict[str, Any]:
    result = service.submit_response(args.get("survey_id"), args.get("answers"), args.get("idempotency_key"))
    return success({"response_id": result.response_id}, 201 if result.created else 200)


# Action name -> (whether a signed-in caller is required, function).
ACTIONS: dict[str, tuple[bool, ActionFunction]] = {
    "create_survey": (True, create_survey),
    "list_surveys": (True, list_surveys),
    "get_survey": (True, get_survey),
    "update_survey": (True, update_survey),
    "delete_survey": (True, delete_survey),
    "list_responses": (True, list_responses),
    "get_results": (True, get_results),
    "export_responses": (True, export_responses),
    "get_public_survey": (False, get_public_survey),
    "submit_response": (False, submit_response),
}


def parse_caller(value: Any) -> Caller:
    if not isinstance(value, dict) or not isinstance(value.get("sub"), str) or not value["sub"]:
        raise Unauthorized("This action requires a signed-in caller.")
    email = value.get("email")
    return Caller(sub=value["sub"], email=email if isinstance(email, str) else None)


def loggable_survey_id(args: Any, response: dict[str, Any] | None = None) -> str | None:
    """Return the survey id of the request or of the created survey, if it looks like one."""
    candidate = args.get("survey_id") if isinstance(args, dict) else None
    if candidate is None and response is not None and isinstance(response.get("body"), dict):
        candidate = response["body"].get("survey_id")
    return candidate if isinstance(candidate, str) and len(candidate) <= 64 else None


def dispatch(service: SurveyService, event: Any) -> dict[str, Any]:
    """Run the action that the payload names and return the response object."""
    if not isinstance(event, dict):
        return BadRequest("The invoke payload must be a JSON object.").to_response()
    action = event.get("action")
    request_id = event.get("request_id")
    if isinstance(request_id, str):
        logger.append_keys(request_id=request_id)
    if isinstance(action, str) and action in ACTIONS:
        logger.append_keys(action=action)
    args = event.get("args")
    survey_id = loggable_survey_id(args)

    try:
        if action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}.")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise BadRequest("args must be a JSON object.")
        needs_caller, run = ACTIONS[action]
        caller = parse_caller(event.get("caller")) if needs_caller else None
        response = run(service, caller, args)
    except BackendError as exc:
        logger.info("Action rejected", extra={"status": exc.status, "error": exc.code, "survey_id": survey_id})
        # The message can quote submitted values, so it stays out of INFO logs.
        logger.debug("Rejection message: %s", exc.message)
        return exc.to_response()
    except Exception:
        logger.exception("Action failed with an unexpected error", extra={"survey_id": survey_id})
        raise

    logger.info(
        "Action completed",
        extra={"status": response["status"], "survey_id": survey_id or loggable_survey_id({}, response)},
    )
    return response


service = SurveyService.from_environment()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(service, event)
