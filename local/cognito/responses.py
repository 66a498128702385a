"""The wire layer of the local Cognito: the AWS JSON 1.1 protocol and the pool's well-known endpoints.

Each action method reads its parameters, calls the user pool and shapes Cognito's
response. It keeps no state and applies no rules of its own.

NOTE: requests are not checked for a SigV4 signature, so the admin actions need
no IAM credentials here, unlike on AWS.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from local.cognito.exceptions import (
    CognitoError,
    InternalErrorException,
    InvalidAction,
    InvalidParameterException,
    SerializationException,
    TooManyRequestsException,
)
from local.cognito.models import CONFIRMED, User, UserPool
from local.cognito.throttling import RequestRateLimiter
from local.logs import printable

logger = logging.getLogger(__name__)

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY_BYTES = 64 * 1024  # 64 KiB, far above any request of the emulated actions

# Cognito's length limits for these parameters.
MAX_USERNAME_LENGTH = 128
MAX_CLIENT_ID_LENGTH = 128
MAX_POOL_ID_LENGTH = 55
MAX_CODE_LENGTH = 2048
MAX_TOKEN_LENGTH = 16_384

AUTH_FLOWS = (
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
)
# REFRESH_TOKEN is Cognito's older name of REFRESH_TOKEN_AUTH.
REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")

ActionResult = tuple[dict[str, Any], str | None]  # (response body, sub of the user concerned)


class CognitoResponses:
    """WSGI app of one user pool: actions by X-Amz-Target, plus `/<pool id>/.well-known/*`."""

    def __init__(self, pool: UserPool, *, limiter: RequestRateLimiter | None = None) -> None:
        self._pool = pool
        self._limiter = limiter
        self._well_known_prefix = f"/{pool.user_pool_id}/.well-known/"
        self._actions: dict[str, Callable[[dict[str, Any]], ActionResult]] = {
            "SignUp": self.sign_up,
            "ConfirmSignUp": self.confirm_sign_up,
            "ResendConfirmationCode": self.resend_confirmation_code,
            "InitiateAuth": self.initiate_auth,
            "GetUser": self.get_user,
            "AdminConfirmSignUp": self.admin_confirm_sign_up,
            "AdminGetUser": self.admin_get_user,
            "AdminDeleteUser": self.admin_delete_user,
        }

    def handles(self, environ: dict[str, Any]) -> bool:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX):
            return True
        return environ.get("PATH_INFO", "").startswith(self._well_known_prefix)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(TARGET_PREFIX):
            return self._call_action(target.removeprefix(TARGET_PREFIX), environ, start_response, request_id)
        return self._well_known(environ, start_response, request_id)

    # --- the JSON protocol ---------------------------------------------------

    def _call_action(
        self, action: str, environ: dict[str, Any], start_response: Callable[..., Any], request_id: str
    ) -> Iterable[bytes]:
        log_extra = {"request_id": request_id}
        try:
            handler = self._actions.get(action)
            if handler is None:
                raise InvalidAction(
                    f"The offline stack does not emulate the Cognito action {action!r}; "
                    f"it emulates {', '.join(sorted(self._actions))}."
                )
            if environ.get("REQUEST_METHOD") != "POST":
                raise SerializationException(f"Cognito actions are POST requests, got {environ.get('REQUEST_METHOD')}.")
            if self._limiter is not None and not self._limiter.allow(action):
                # The message is the offline stack's own; the code is Cognito's.
                raise TooManyRequestsException(f"Too many {action} requests; slow down and retry.")
            body = _read_json(environ)
            result, sub = handler(body)
        except CognitoError as exc:
            level = logging.WARNING if isinstance(exc, InvalidAction) else logging.INFO
            logger.log(level, "%s rejected: %s", action, exc.code, extra=log_extra)
            return _json_response(start_response, exc.status, _error_body(exc), request_id, error_type=exc.code)
        except Exception:
            logger.exception("%s failed", action, extra=log_extra)
            error = InternalErrorException(f"The offline stack failed on this request; see its log for request id {request_id}.")
            return _json_response(start_response, error.status, _error_body(error), request_id, error_type=error.code)
        logger.info("%s succeeded for user %s", action, sub or "-", extra=log_extra)
        return _json_response(start_response, 200, result, request_id)

    def sign_up(self, body: dict[str, Any]) -> ActionResult:
        username = _string(body, "Username", MAX_USERNAME_LENGTH)
        logger.debug("SignUp for %s", username)
        result = self._pool.sign_up(
            client_id=_string(body, "ClientId", MAX_CLIENT_ID_LENGTH),
            username=username,
            password=_string(body, "Password"),
            attributes=_attribute_map(body.get("UserAttributes")),
        )
        response: dict[str, Any] = {"UserConfirmed": result.user.status == CONFIRMED, "UserSub": result.user.sub}
        if result.delivery is not None:
            response["CodeDeliveryDetails"] = result.delivery.to_wire()
        return response, result.user.sub

    def confirm_sign_up(self, body: dict[str, Any]) -> ActionResult:
        username = _string(body, "Username", MAX_USERNAME_LENGTH)
        logger.debug("ConfirmSignUp for %s", username)
        user = self._pool.confirm_sign_up(
            client_id=_string(body, "ClientId", MAX_CLIENT_ID_LENGTH),
            username=username,
            code=_string(body, "ConfirmationCode", MAX_CODE_LENGTH),
        )
        return {}, user.sub

    def resend_confirmation_code(self, body: dict[str, Any]) -> ActionResult:
        username = _string(body, "Username", MAX_USERNAME_LENGTH)
        logger.debug("ResendConfirmationCode for %s", username)
        user, delivery = self._pool.resend_confirmation_code(
            client_id=_string(body, "ClientId", MAX_CLIENT_ID_LENGTH), username=username
        )
        return {"CodeDeliveryDetails": delivery.to_wire()}, user.sub

    def initiate_auth(self, body: dict[str, Any]) -> ActionResult:
        flow = _string(body, "AuthFlow")
        client_id = _string(body, "ClientId", MAX_CLIENT_ID_LENGTH)
        parameters = _string_map(body.get("AuthParameters"), "AuthParameters")
        if flow not in AUTH_FLOWS:
            raise InvalidParameterException(
                f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(AUTH_FLOWS)}]"
            )
        self._pool.check_client(client_id)

        if flow == "USER_PASSWORD_AUTH":
            username = _auth_parameter(parameters, "USERNAME")
            logger.debug("InitiateAuth USER_PASSWORD_AUTH for %s", username)
            tokens = self._pool.authenticate(client_id, username, _auth_parameter(parameters, "PASSWORD"))
        elif flow in REFRESH_FLOWS:
            tokens = self._pool.refresh(client_id, _auth_parameter(parameters, "REFRESH_TOKEN"))
        else:
            raise InvalidParameterException(f"{flow} flow not enabled for this client")
        return {"ChallengeParameters": {}, "AuthenticationResult": tokens.authentication_result()}, tokens.sub

    def get_user(self, body: dict[str, Any]) -> ActionResult:
        user = self._pool.get_user(_string(body, "AccessToken", MAX_TOKEN_LENGTH))
        # A pool with email as the username reports the UUID username, which equals the sub.
        return {"Username": user.sub, "UserAttributes": user.attributes()}, user.sub

    def admin_confirm_sign_up(self, body: dict[str, Any]) -> ActionResult:
        user = self._pool.admin_confirm_sign_up(*self._admin_user_parameters(body, "AdminConfirmSignUp"))
        return {}, user.sub

    def admin_get_user(self, body: dict[str, Any]) -> ActionResult:
        user = self._pool.admin_get_user(*self._admin_user_parameters(body, "AdminGetUser"))
        return _admin_user_body(user), user.sub

    def admin_delete_user(self, body: dict[str, Any]) -> ActionResult:
        user = self._pool.admin_delete_user(*self._admin_user_parameters(body, "AdminDeleteUser"))
        return {}, user.sub

    def _admin_user_parameters(self, body: dict[str, Any], action: str) -> tuple[str, str]:
        username = _string(body, "Username", MAX_USERNAME_LENGTH)
        logger.debug("%s for %s", action, username)
        return _string(body, "UserPoolId", MAX_POOL_ID_LENGTH), username

    # --- well-known endpoints ------------------------------------------------

    def _well_known(self, environ: dict[str, Any], start_response: Callable[..., Any], request_id: str) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        match = re.fullmatch(r"/([^/]+)/\.well-known/([^/]+)", path)
        documents = {"jwks.json": self._pool.jwks, "openid-configuration": self._openid_configuration}
        if match is None or match.group(1) != self._pool.user_pool_id or match.group(2) not in documents:
            pool_id = match.group(1) if match is not None else "-"
            logger.info("No well-known document at %s", printable(path), extra={"request_id": request_id})
            body = {"message": f"No document at {path}; user pool {pool_id} does not exist or has no such document."}
            return _json_response(start_response, 404, body, request_id, content_type="application/json")
        if method not in ("GET", "HEAD"):
            body = {"message": f"{method} is not allowed on {path}; use GET."}
            return _json_response(start_response, 405, body, request_id, content_type="application/json", extra_headers=[("Allow", "GET, HEAD")])
        document = documents[match.group(2)]()
        payload = _json_response(start_response, 200, document, request_id, content_type="application/json")
        return [] if method == "HEAD" else payload

    def _openid_configuration(self) -> dict[str, Any]:
        issuer = self._pool.issuer
        # NOTE: the offline stack has no hosted UI, so this document names no
        # authorization, token or userinfo endpoint, unlike Cognito's with a domain.
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "aws.cognito.signin.user.admin"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise SerializationException("Content-Length is not a number.") from exc
    if length > MAX_BODY_BYTES:
        raise SerializationException(f"The request body has {length} bytes; the limit is {MAX_BODY_BYTES}.")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SerializationException("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise SerializationException("The request body must be a JSON object.")
    return body


def _string(body: dict[str, Any], name: str, max_length: int | None = None) -> str:
    """Return a required string parameter, checked as Cognito's input validation would."""
    member = name[:1].lower() + name[1:]  # AWS's validation messages name members in lowerCamelCase
    value = body.get(name)
    if value is None:
        raise InvalidParameterException(
            f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        )
    if not isinstance(value, str):
        raise SerializationException(f"{name} must be a string, got {type(value).__name__}.")
    if max_length is not None and len(value) > max_length:
        raise InvalidParameterException(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {max_length}"
        )
    return value


def _string_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise SerializationException(f"{name} must be a map of strings.")
    return value


def _auth_parameter(parameters: dict[str, str], name: str) -> str:
    value = parameters.get(name)
    if not value:
        raise InvalidParameterException(f"Missing required parameter {name}")
    return value


def _attribute_map(value: Any) -> dict[str, str]:
    """Turn a `[{"Name": ..., "Value": ...}]` list into a dict."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise SerializationException("UserAttributes must be a list of {Name, Value} objects.")
    attributes: dict[str, str] = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not isinstance(item.get("Value", ""), str):
            raise SerializationException("UserAttributes must be a list of {Name, Value} objects.")
        attributes[item["Name"]] = item.get("Value", "")
    return attributes


def _admin_user_body(user: User) -> dict[str, Any]:
    return {
        "Username": user.sub,
        "UserAttributes": user.attributes(),
        # The JSON protocol sends timestamps as seconds since the epoch.
        "UserCreateDate": user.created_at.timestamp(),
        "UserLastModifiedDate": user.updated_at.timestamp(),
        "Enabled": user.enabled,
        "UserStatus": user.status,
    }


def _error_body(error: CognitoError) -> dict[str, str]:
    return {"__type": error.code, "message": error.message}


def _json_response(
    start_response: Callable[..., Any],
    status: int,
    body: dict[str, Any],
    request_id: str,
    *,
    error_type: str | None = None,
    content_type: str = JSON_CONTENT_TYPE,
    extra_headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    payload = json.dumps(body).encode()
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", request_id),
    ]
    if error_type is not None:
        headers.append(("x-amzn-ErrorType", error_type))
    start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers + (extra_headers or []))
    return [payload]
