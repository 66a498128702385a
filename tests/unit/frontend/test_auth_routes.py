"""Auth routes against a cognito-idp client wrapped in botocore's Stubber."""
from __future__ import annotations

import json

import pytest

from frontend_fn import app

from .helpers import CLIENT_ID, USER_EMAIL, USER_SUB, load_event, log_records, response_json, with_token

PASSWORD = "Correct-Horse-9"
TOKENS = {
    "AccessToken": "access.token.value",
    "ExpiresIn": 3600,
    "TokenType": "Bearer",
    "RefreshToken": "refresh-token-value",
    "IdToken": "id.token.value",
}


def _post(path: str, body: dict | str) -> dict:
    text = body if isinstance(body, str) else json.dumps(body)
    return load_event("apigw_post_auth_login", resource=path, path=path, body=text)


def _call(deps, path, body):
    return app.handle_event(_post(path, body), deps)


def _assert_error(response, status, code):
    assert response["statusCode"] == status
    assert response_json(response)["error"] == code


# Sign-up


def test_signup_returns_201(deps, cognito):
    _client, stubber = cognito
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": False, "UserSub": USER_SUB},
        {"ClientId": CLIENT_ID, "Username": USER_EMAIL, "Password": PASSWORD,
         "UserAttributes": [{"Name": "email", "Value": USER_EMAIL}]},
    )
    response = _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": PASSWORD})
    assert response["statusCode"] == 201
    assert response_json(response) == {"email": USER_EMAIL, "confirmed": False}
    stubber.assert_no_pending_responses()


def test_signup_auto_confirmed_user(deps, cognito):
    _client, stubber = cognito
    stubber.add_response("sign_up", {"UserConfirmed": True, "UserSub": USER_SUB})
    response = _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": PASSWORD})
    assert response_json(response)["confirmed"] is True


@pytest.mark.parametrize(
    "email",
    ["", "plain", "a@b", "a@b.c", "a @b.com", "a@b .com", "@example.com", "a@@example.com",
     "x" * 250 + "@example.com", 42, None, ["a@example.com"]],
)
def test_signup_invalid_email_is_400(deps, email):
    response = _call(deps, "/auth/signup", {"email": email, "password": PASSWORD})
    _assert_error(response, 400, "bad_request")
    assert "email" in response_json(response)["message"]


@pytest.mark.parametrize("password", ["Short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere", "A1b" + "c" * 254, 12345678, None, ""])
def test_signup_weak_password_is_400(deps, password):
    response = _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": password})
    _assert_error(response, 400, "bad_request")
    assert "password" in response_json(response)["message"]


@pytest.mark.parametrize(
    ("error_code", "status", "code"),
    [
        ("UsernameExistsException", 409, "conflict"),
        ("InvalidPasswordException", 400, "bad_request"),
        ("InvalidParameterException", 400, "bad_request"),
        ("TooManyRequestsException", 429, "too_many_requests"),
        ("LimitExceededException", 429, "too_many_requests"),
        ("InternalErrorException", 502, "bad_gateway"),
        ("ResourceNotFoundException", 502, "bad_gateway"),
    ],
)
def test_signup_cognito_errors_are_mapped(deps, cognito, error_code, status, code):
    _client, stubber = cognito
    stubber.add_client_error("sign_up", service_error_code=error_code, service_message="details from Cognito")
    response = _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": PASSWORD})
    _assert_error(response, status, code)
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://surveys.example.com"


def test_signup_password_policy_message_passed_on(deps, cognito):
    _client, stubber = cognito
    stubber.add_client_error("sign_up", service_error_code="InvalidPasswordException",
                             service_message="Password did not conform with policy: Password must have symbol characters")
    response = _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": PASSWORD})
    assert "symbol characters" in response_json(response)["message"]


def test_signup_logs_no_password(deps, cognito, captured_logs):
    _client, stubber = cognito
    stubber.add_client_error("sign_up", service_error_code="InternalErrorException")
    _call(deps, "/auth/signup", {"email": USER_EMAIL, "password": PASSWORD})
    assert PASSWORD not in captured_logs.getvalue()
    assert any(record.get("error_code") == "InternalErrorException" for record in log_records(captured_logs))


# Confirmation


def test_confirm_returns_confirmed(deps, cognito):
    _client, stubber = cognito
    stubber.add_response("confirm_sign_up", {},
                         {"ClientId": CLIENT_ID, "Username": USER_EMAIL, "ConfirmationCode": "123456"})
    response = _call(deps, "/auth/confirm", {"email": USER_EMAIL, "code": "123456"})
    assert response["statusCode"] == 200
    assert response_json(response) == {"email": USER_EMAIL, "confirmed": True}


@pytest.mark.parametrize(
    ("error_code", "status", "code"),
    [
        ("CodeMismatchException", 400, "bad_request"),
        ("ExpiredCodeException", 400, "bad_request"),
        ("UserNotFoundException", 404, "not_found"),
        ("NotAuthorizedException", 400, "bad_request"),
        ("TooManyFailedAttemptsException", 429, "too_many_requests"),
        ("InternalErrorException", 502, "bad_gateway"),
    ],
)
def test_confirm_cognito_errors_are_mapped(deps, cognito, error_code, status, code):
    _client, stubber = cognito
    stubber.add_client_error("confirm_sign_up", service_error_code=error_code)
    response = _call(deps, "/auth/confirm", {"email": USER_EMAIL, "code": "123456"})
    _assert_error(response, status, code)


def test_confirm_already_confirmed_says_so(deps, cognito):
    _client, stubber = cognito
    stubber.add_client_error("confirm_sign_up", service_error_code="NotAuthorizedException")
    response = _call(deps, "/auth/confirm", {"email": USER_EMAIL, "code": "123456"})
    _assert_error(response, 400, "bad_request")
    assert "already confirmed" in response_json(response)["message"]


def test_confirm_missing_code_is_400(deps):
    response = _call(deps, "/auth/confirm", {"email": USER_EMAIL})
    _assert_error(response, 400, "bad_request")
    assert "code" in response_json(response)["message"]


# Login and refresh


@pytest.mark.parametrize("path", ["/auth/login", "/flask/login"])
def test_login_returns_tokens(deps, cognito, path):
    _client, stubber = cognito
    stubber.add_response(
        "initiate_auth",
        {"AuthenticationResult": TOKENS, "ChallengeParameters": {}},
        {"ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
         "AuthParameters": {"USERNAME": USER_EMAIL, "PASSWORD": PASSWORD}},
    )
    response = _call(deps, path, {"email": USER_EMAIL, "password": PASSWORD})
    assert response["statusCode"] == 200
    assert response_json(response) == {
        "id_token": "id.token.value",
        "access_token": "access.token.value",
        "refresh_token": "refresh-token-value",
        "expires_in": 3600,
        "token_type": "Bearer",
    }
    assert response["headers"]["Cache-Control"] == "no-store"


def test_login_failures_share_one_message(deps, cognito):
    _client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code="NotAuthorizedException",
                             service_message="Incorrect username or password.")
    stubber.add_client_error("initiate_auth", service_error_code="UserNotFoundException",
                             service_message="User does not exist.")
    wrong_password = _call(deps, "/auth/login", {"email": USER_EMAIL, "password": "Wrong-pass-1"})
    unknown_user = _call(deps, "/auth/login", {"email": "nobody@example.com", "password": PASSWORD})
    _assert_error(wrong_password, 401, "unauthorized")
    _assert_error(unknown_user, 401, "unauthorized")
    assert wrong_password["body"] == unknown_user["body"]


def test_login_unconfirmed_user_is_403(deps, cognito):
    _client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code="UserNotConfirmedException")
    response = _call(deps, "/auth/login", {"email": USER_EMAIL, "password": PASSWORD})
    _assert_error(response, 403, "user_not_confirmed")


@pytest.mark.parametrize(
    ("error_code", "status", "code"),
    [
        ("TooManyRequestsException", 429, "too_many_requests"),
        ("PasswordResetRequiredException", 403, "forbidden"),
        ("InternalErrorException", 502, "bad_gateway"),
    ],
)
def test_login_other_cognito_errors_are_mapped(deps, cognito, error_code, status, code):
    _client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code=error_code)
    response = _call(deps, "/auth/login", {"email": USER_EMAIL, "password": PASSWORD})
    _assert_error(response, status, code)


def test_login_challenge_is_403(deps, cognito):
    _client, stubber = cognito
    stubber.add_response("initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s" * 32, "ChallengeParameters": {}})
    response = _call(deps, "/auth/login", {"email": USER_EMAIL, "password": PASSWORD})
    _assert_error(response, 403, "forbidden")


def test_login_result_without_tokens_is_502(deps, cognito):
    _client, stubber = cognito
    stubber.add_response("initiate_auth", {"AuthenticationResult": {"AccessToken": "a", "ExpiresIn": 3600}})
    response = _call(deps, "/auth/login", {"email": USER_EMAIL, "password": PASSWORD})
    _assert_error(response, 502, "bad_gateway")


@pytest.mark.parametrize("body", [{"email": USER_EMAIL}, {"password": PASSWORD}, {"email": 1, "password": PASSWORD}])
def test_login_missing_fields_is_400(deps, body):
    _assert_error(_call(deps, "/auth/login", body), 400, "bad_request")


def test_login_logs_no_password_or_tokens(deps, cognito, captured_logs):
    _client, stubber = cognito
    stubber.add_response("initiate_auth", {"AuthenticationResult": TOKENS})
    _call(deps, "/auth/login", {"email": USER_EMAIL, "password": PASSWORD})
    output = captured_logs.getvalue()
    assert PASSWORD not in output
    assert "refresh-token-value" not in output
    assert "id.token.value" not in output


def test_refresh_returns_tokens_without_refresh_token(deps, cognito):
    _client, stubber = cognito
    result = {key: value for key, value in TOKENS.items() if key != "RefreshToken"}
    stubber.add_response(
        "initiate_auth",
        {"AuthenticationResult": result},
        {"ClientId": CLIENT_ID, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": "refresh-token-value"}},
    )
    response = _call(deps, "/auth/refresh", {"refresh_token": "refresh-token-value"})
    assert response["statusCode"] == 200
    assert response_json(response) == {
        "id_token": "id.token.value",
        "access_token": "access.token.value",
        "expires_in": 3600,
        "token_type": "Bearer",
    }


def test_refresh_invalid_token_is_401(deps, cognito):
    _client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code="NotAuthorizedException")
    response = _call(deps, "/auth/refresh", {"refresh_token": "revoked"})
    _assert_error(response, 401, "unauthorized")


def test_refresh_missing_token_is_400(deps):
    response = _call(deps, "/auth/refresh", {})
    _assert_error(response, 400, "bad_request")
    assert "refresh_token" in response_json(response)["message"]


# Current user


def _me_event(token: str) -> dict:
    return with_token(load_event("apigw_get_surveys", resource="/auth/me", path="/auth/me", queryStringParameters=None), token)


def test_me_with_id_token_needs_no_cognito_call(deps, cognito, make_token):
    response = app.handle_event(_me_event(make_token()), deps)
    assert response["statusCode"] == 200
    assert response_json(response) == {"sub": USER_SUB, "email": USER_EMAIL}
    cognito[1].assert_no_pending_responses()


def test_me_with_access_token_reads_email_from_cognito(deps, cognito, make_token):
    _client, stubber = cognito
    token = make_token(token_use="access")
    stubber.add_response(
        "get_user",
        {"Username": USER_SUB, "UserAttributes": [{"Name": "sub", "Value": USER_SUB}, {"Name": "email", "Value": USER_EMAIL}]},
        {"AccessToken": token},
    )
    response = app.handle_event(_me_event(token), deps)
    assert response["statusCode"] == 200
    assert response_json(response) == {"sub": USER_SUB, "email": USER_EMAIL}
    stubber.assert_no_pending_responses()


def test_me_with_revoked_access_token_is_401(deps, cognito, make_token):
    _client, stubber = cognito
    stubber.add_client_error("get_user", service_error_code="NotAuthorizedException")
    response = app.handle_event(_me_event(make_token(token_use="access")), deps)
    _assert_error(response, 401, "unauthorized")


def test_me_without_token_is_401(deps):
    event = with_token(load_event("apigw_get_surveys", resource="/auth/me", path="/auth/me"), None)
    _assert_error(app.handle_event(event, deps), 401, "unauthorized")
