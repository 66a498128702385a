"""Sign-up, confirmation, login and token refresh through the Cognito user pool client.

The request bodies of these routes carry passwords and tokens, so nothing
here logs a body, a password or a token.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from frontend_fn.errors import (
    ApiError,
    BadGateway,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    UserNotConfirmed,
)
from frontend_fn.responses import ApiResponse, json_response

if TYPE_CHECKING:
    from frontend_fn.dependencies import Dependencies
    from frontend_fn.routing import Request

logger = Logger(child=True)

MAX_EMAIL_CHARS = 254  # maximum address length SMTP delivers: a 256-octet path less its angle brackets
MAX_PASSWORD_CHARS = 256  # Cognito's limit for Password
MAX_CODE_CHARS = 2048  # Cognito's limit for ConfirmationCode
MAX_REFRESH_TOKEN_CHARS = 16_384
MIN_PASSWORD_CHARS = 8

EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)

LOGIN_FAILED_MESSAGE = "Incorrect email or password."

# Cognito error codes that mean the same on every operation.
COMMON_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "TooManyRequestsException": (TooManyRequests, "Too many requests; wait a moment and try again."),
    "LimitExceededException": (TooManyRequests, "Too many attempts; wait a moment and try again."),
    "TooManyFailedAttemptsException": (TooManyRequests, "Too many failed attempts; wait a moment and try again."),
    "InvalidParameterException": (BadRequest, "The user pool rejected a parameter of the request."),
}

SIGN_UP_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "UsernameExistsException": (Conflict, "An account with this email is already registered."),
    "AliasExistsException": (Conflict, "An account with this email is already registered."),
    "InvalidPasswordException": (BadRequest, "password does not meet the password policy."),
}

CONFIRM_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "CodeMismatchException": (BadRequest, "code is wrong; check the code from the email."),
    "ExpiredCodeException": (BadRequest, "code has expired; sign up again to get a new code."),
    "UserNotFoundException": (NotFound, "No account with this email was found."),
    # Cognito raises NotAuthorizedException when the user is already confirmed.
    # The contract lists only 400 and 404 for this route, so it is a 400.
    "NotAuthorizedException": (BadRequest, "This account is already confirmed. Log in with your email and password."),
}

LOGIN_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "NotAuthorizedException": (Unauthorized, LOGIN_FAILED_MESSAGE),
    "UserNotFoundException": (Unauthorized, LOGIN_FAILED_MESSAGE),
    "UserNotConfirmedException": (UserNotConfirmed, "This account is not confirmed yet; enter the code from the email."),
    "PasswordResetRequiredException": (Forbidden, "This account must reset its password before it can log in."),
}

REFRESH_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "NotAuthorizedException": (Unauthorized, "The refresh token is invalid or expired; log in again."),
    "UserNotFoundException": (Unauthorized, "The refresh token is invalid or expired; log in again."),
}

GET_USER_ERRORS: dict[str, tuple[type[ApiError], str]] = {
    "NotAuthorizedException": (Unauthorized, "The token is invalid or has been revoked; log in again."),
    "UserNotFoundException": (Unauthorized, "The token is invalid or has been revoked; log in again."),
}


def _cognito_error(operation: str, exc: Exception, errors: dict[str, tuple[type[ApiError], str]]) -> ApiError:
    """Map a Cognito failure to the contract's error; anything unexpected is a 502."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        mapped = errors.get(code) or COMMON_ERRORS.get(code)
        if mapped is not None:
            error_class, message = mapped
            if code == "InvalidPasswordException":
                # Cognito's text names the policy rule that failed, e.g. "Password must have symbol characters".
                detail = str(exc.response.get("Error", {}).get("Message", ""))[:200]
                message = f"{message[:-1]}: {detail}" if detail else message
            logger.info("Cognito call rejected", extra={"operation": operation, "error_code": code})
            return error_class(message)
        logger.error("Cognito call failed", extra={"operation": operation, "error_code": code}, exc_info=exc)
    else:
        logger.error("Cognito call failed", extra={"operation": operation}, exc_info=exc)
    return BadGateway("The identity service failed; try again later.")


def _string_field(body: dict[str, Any], name: str, max_chars: int) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise BadRequest(f"{name} is required.")
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string.")
    if len(value) > max_chars:
        raise BadRequest(f"{name} must be at most {max_chars} characters.")
    return value


def parse_email(body: dict[str, Any]) -> str:
    email = _string_field(body, "email", MAX_EMAIL_CHARS).strip()
    if not EMAIL_PATTERN.fullmatch(email):
        raise BadRequest("email must be an email address such as name@example.com.")
    return email


def parse_new_password(body: dict[str, Any]) -> str:
    password = _string_field(body, "password", MAX_PASSWORD_CHARS)
    if (
        len(password) < MIN_PASSWORD_CHARS
        or not any(char.isupper() for char in password)
        or not any(char.islower() for char in password)
        or not any(char.isdigit() for char in password)
    ):
        raise BadRequest(
            f"password must have at least {MIN_PASSWORD_CHARS} characters with an upper-case letter, "
            "a lower-case letter and a digit."
        )
    return password


def _token_response(result: dict[str, Any], with_refresh_token: bool) -> dict[str, Any]:
    body = {
        "id_token": result["IdToken"],
        "access_token": result["AccessToken"],
        "expires_in": result["ExpiresIn"],
        "token_type": "Bearer",
    }
    if with_refresh_token:
        body["refresh_token"] = result["RefreshToken"]
    return body


def _authentication_result(operation: str, response: dict[str, Any], with_refresh_token: bool) -> dict[str, Any]:
    result = response.get("AuthenticationResult")
    if result is None:
        # A challenge such as NEW_PASSWORD_REQUIRED or MFA, which this API does not offer.
        logger.warning("Cognito returned an unsupported challenge", extra={"challenge": response.get("ChallengeName")})
        raise Forbidden("This account needs a sign-in step that this API does not support.")
    required = ("IdToken", "AccessToken", "ExpiresIn") + (("RefreshToken",) if with_refresh_token else ())
    missing = [name for name in required if name not in result]
    if missing:
        logger.error("Cognito result lacks tokens", extra={"operation": operation, "missing": missing})
        raise BadGateway("The identity service failed; try again later.")
    return _token_response(result, with_refresh_token)


def sign_up(request: Request, deps: Dependencies) -> ApiResponse:
    body = request.body or {}
    email = parse_email(body)
    password = parse_new_password(body)
    try:
        response = deps.cognito.sign_up(
            ClientId=deps.settings.user_pool_client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error("SignUp", exc, SIGN_UP_ERRORS) from exc
    logger.info("Sign-up accepted", extra={"user_confirmed": bool(response.get("UserConfirmed"))})
    return json_response(201, {"email": email, "confirmed": bool(response.get("UserConfirmed"))})


def confirm_sign_up(request: Request, deps: Dependencies) -> ApiResponse:
    body = request.body or {}
    email = parse_email(body)
    code = _string_field(body, "code", MAX_CODE_CHARS).strip()
    try:
        deps.cognito.confirm_sign_up(ClientId=deps.settings.user_pool_client_id, Username=email, ConfirmationCode=code)
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error("ConfirmSignUp", exc, CONFIRM_ERRORS) from exc
    return json_response(200, {"email": email, "confirmed": True})


def log_in(request: Request, deps: Dependencies) -> ApiResponse:
    body = request.body or {}
    # No email shape or password policy check here: a malformed email cannot
    # exist in the pool, and a failed login must look the same for every cause.
    email = _string_field(body, "email", MAX_EMAIL_CHARS).strip()
    password = _string_field(body, "password", MAX_PASSWORD_CHARS)
    try:
        response = deps.cognito.initiate_auth(
            ClientId=deps.settings.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error("InitiateAuth", exc, LOGIN_ERRORS) from exc
    return json_response(200, _authentication_result("InitiateAuth", response, with_refresh_token=True))


def refresh_tokens(request: Request, deps: Dependencies) -> ApiResponse:
    body = request.body or {}
    refresh_token = _string_field(body, "refresh_token", MAX_REFRESH_TOKEN_CHARS)
    try:
        response = deps.cognito.initiate_auth(
            ClientId=deps.settings.user_pool_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error("InitiateAuth", exc, REFRESH_ERRORS) from exc
    return json_response(200, _authentication_result("InitiateAuth", response, with_refresh_token=False))


def current_user(request: Request, deps: Dependencies) -> ApiResponse:
    """Return the caller's sub and email; an access token carries no email, so ask Cognito for it."""
    caller = request.caller
    if caller is None:
        raise Unauthorized("A valid token is required.")
    email = caller.email
    if email is None and caller.token_use == "access" and request.token is not None:
        email = _email_of_access_token(request.token, deps)
    return json_response(200, {"sub": caller.sub, "email": email})


def _email_of_access_token(access_token: str, deps: Dependencies) -> str | None:
    try:
        response = deps.cognito.get_user(AccessToken=access_token)
    except (ClientError, BotoCoreError) as exc:
        raise _cognito_error("GetUser", exc, GET_USER_ERRORS) from exc
    for attribute in response.get("UserAttributes", []):
        if attribute.get("Name") == "email":
            return attribute.get("Value")
    return None
