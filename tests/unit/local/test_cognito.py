"""The local Cognito driven through a real boto3 `cognito-idp` client over HTTP on 127.0.0.1.

Each test starts a werkzeug server on a free port that serves `LocalCognito.wsgi_app`,
and verifies issued tokens with PyJWT against the JWKS that server serves.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import BaseWSGIServer, make_server

from local.cognito import LocalCognito
from local.cognito.exceptions import UserNotConfirmedException, UserNotFoundException
from local.cognito.passwords import hash_password, verify_password
from local.outbox import Outbox

POOL_ID = "us-east-1_LocalPool"
CLIENT_ID = "localclient1234567890abcd"
PASSWORD = "Correct1Horse"
ID_CLAIMS = {
    "sub", "email_verified", "iss", "cognito:username", "origin_jti", "aud", "event_id",
    "token_use", "auth_time", "exp", "iat", "jti", "email",
}
ACCESS_CLAIMS = {
    "sub", "iss", "client_id", "origin_jti", "event_id", "token_use", "scope",
    "auth_time", "exp", "iat", "jti", "username",
}


class FakeClock:
    """A clock that stays at one time until a test advances it; it starts at the real time so PyJWT accepts fresh tokens."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Stack:
    cognito: LocalCognito
    url: str
    issuer: str
    client: Any
    clock: FakeClock
    outbox: Outbox

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/{POOL_ID}/.well-known/jwks.json"

    def sign_up(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        return self.client.sign_up(ClientId=CLIENT_ID, Username=email, Password=password)

    def log_in(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.initiate_auth(
            ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
        )
        return response["AuthenticationResult"]

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        response = self.client.initiate_auth(
            ClientId=CLIENT_ID, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
        return response["AuthenticationResult"]

    def admin_get_user(self, username: str) -> dict[str, Any]:
        return self.client.admin_get_user(UserPoolId=POOL_ID, Username=username)

    def last_code(self) -> str:
        return self.outbox.messages()[-1]["body"].rsplit(" ", 1)[-1]

    def fetch_jwks(self) -> dict[str, Any]:
        response = requests.get(self.jwks_url, timeout=5)
        response.raise_for_status()
        return response.json()

    def verify(self, token: str, **options: Any) -> dict[str, Any]:
        """Verify a token as a relying party would: key by kid from the JWKS fetched over HTTP."""
        kid = jwt.get_unverified_header(token)["kid"]
        jwks = {key["kid"]: key for key in self.fetch_jwks()["keys"]}
        if kid not in jwks:
            raise jwt.InvalidKeyError(f"kid {kid} is not in the JWKS")
        key = jwt.PyJWK(jwks[kid]).key
        return jwt.decode(token, key, algorithms=["RS256"], issuer=self.issuer, **options)


def attributes_of(response: dict[str, Any]) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in response["UserAttributes"]}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def start_server(app_holder: dict[str, LocalCognito]) -> tuple[BaseWSGIServer, threading.Thread]:
    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return app_holder["app"].wsgi_app(environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    # A short poll interval lets shutdown() return quickly at teardown.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="cognito-test-server", daemon=True
    )
    thread.start()
    return server, thread


@pytest.fixture
def make_stack() -> Iterator[Callable[..., Stack]]:
    """Start a LocalCognito behind a werkzeug server; keyword arguments go to LocalCognito."""
    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def make(issuer: str | None = None, **options: Any) -> Stack:
        clock = options.pop("clock", None) or FakeClock()
        outbox = Outbox(clock)
        holder: dict[str, LocalCognito] = {}
        server, thread = start_server(holder)
        servers.append((server, thread))
        url = f"http://127.0.0.1:{server.server_port}"
        issuer = issuer or f"{url}/{POOL_ID}"
        holder["app"] = LocalCognito(
            issuer=issuer, user_pool_id=POOL_ID, client_id=CLIENT_ID, outbox=outbox, clock=clock, **options
        )
        client = boto3.client(
            "cognito-idp",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            # No retries: throttling tests count every request.
            config=Config(retries={"total_max_attempts": 1}),
        )
        return Stack(cognito=holder["app"], url=url, issuer=issuer, client=client, clock=clock, outbox=outbox)

    yield make
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack()


@pytest.fixture
def confirming_stack(make_stack: Callable[..., Stack]) -> Stack:
    """A pool whose sign-ups need a confirmation code, with codes 111111, 222222, ... in order."""
    codes = iter(f"{digit}" * 6 for digit in range(1, 10))
    return make_stack(require_confirmation=True, code_generator=lambda: next(codes))


# --- SignUp -------------------------------------------------------------------


def test_sign_up_confirms_at_once_by_default(stack: Stack) -> None:
    response = stack.sign_up("ann@example.com")

    assert response["UserConfirmed"] is True
    assert uuid.UUID(response["UserSub"])
    assert "CodeDeliveryDetails" not in response
    assert stack.admin_get_user("ann@example.com")["UserStatus"] == "CONFIRMED"
    assert stack.outbox.messages() == []


def test_sign_up_stores_email_lowercase(stack: Stack) -> None:
    stack.sign_up("Ann.Lee@Example.COM")

    user = stack.admin_get_user("ann.lee@example.com")

    assert attributes_of(user)["email"] == "ann.lee@example.com"


def test_sign_up_returns_sub_as_username(stack: Stack) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]

    user = stack.admin_get_user("ann@example.com")

    assert user["Username"] == sub
    assert attributes_of(user)["sub"] == sub


def test_sign_up_existing_email_other_case(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.sign_up("ANN@Example.com")

    assert error_of(excinfo) == ("UsernameExistsException", "An account with the given email already exists.")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1a", "Password not long enough"),
        ("lowercase1only", "Password must have uppercase characters"),
        ("UPPERCASE1ONLY", "Password must have lowercase characters"),
        ("NoDigitsHere", "Password must have numeric characters"),
    ],
)
def test_sign_up_weak_password_rejected(stack: Stack, password: str, rule: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.sign_up("ann@example.com", password)

    assert error_of(excinfo) == ("InvalidPasswordException", f"Password did not conform with policy: {rule}")


def test_sign_up_password_policy_accepts_minimum(stack: Stack) -> None:
    response = stack.sign_up("ann@example.com", "Abcdefg1")

    assert response["UserConfirmed"] is True


def test_sign_up_password_outer_space_invalid(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.sign_up("ann@example.com", " Correct1Horse")

    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert "'password'" in message


def test_sign_up_password_too_long_invalid(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.sign_up("ann@example.com", "Aa1" + "x" * 254)

    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert "less than or equal to 256" in message


@pytest.mark.parametrize("username", ["not-an-email", "ann@", "@example.com", "ann@example"])
def test_sign_up_username_not_email(stack: Stack, username: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.sign_up(username)

    assert error_of(excinfo) == ("InvalidParameterException", "Username should be an email.")


def test_sign_up_unknown_attribute_invalid(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.sign_up(
            ClientId=CLIENT_ID,
            Username="ann@example.com",
            Password=PASSWORD,
            UserAttributes=[{"Name": "nickname", "Value": "ann"}],
        )

    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert "nickname" in message


def test_sign_up_email_attribute_accepted(stack: Stack) -> None:
    response = stack.client.sign_up(
        ClientId=CLIENT_ID,
        Username="ann@example.com",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "Ann@example.com"}],
    )

    assert response["UserConfirmed"] is True


def test_sign_up_unknown_client(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.sign_up(ClientId="otherclient", Username="ann@example.com", Password=PASSWORD)

    assert error_of(excinfo) == ("ResourceNotFoundException", "User pool client otherclient does not exist.")


def test_sign_up_with_confirmation_sends_code(confirming_stack: Stack) -> None:
    response = confirming_stack.sign_up("Ann@Example.com")

    assert response["UserConfirmed"] is False
    assert response["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert response["CodeDeliveryDetails"]["AttributeName"] == "email"
    assert "ann@example.com" not in response["CodeDeliveryDetails"]["Destination"]
    messages = confirming_stack.outbox.messages()
    assert len(messages) == 1
    assert messages[0]["to"] == "ann@example.com"
    assert messages[0]["subject"] == "Your verification code"
    assert messages[0]["body"] == "Your confirmation code is 111111"
    assert messages[0]["source"] == "cognito-idp"


def test_sign_up_default_code_is_six_digits(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(require_confirmation=True)

    stack.sign_up("ann@example.com")

    assert re.fullmatch(r"\d{6}", stack.last_code())


# --- ConfirmSignUp ------------------------------------------------------------


def test_confirm_sign_up_with_code_confirms(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ANN@example.com", ConfirmationCode="111111")

    user = confirming_stack.admin_get_user("ann@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["email_verified"] == "true"
    assert "IdToken" in confirming_stack.log_in("ann@example.com")


def test_confirm_sign_up_wrong_code(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="999999")

    assert error_of(excinfo) == ("CodeMismatchException", "Invalid verification code provided, please try again.")
    assert confirming_stack.admin_get_user("ann@example.com")["UserStatus"] == "UNCONFIRMED"


def test_confirm_sign_up_expired_code(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")
    confirming_stack.clock.advance(hours=24)

    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="111111")

    assert error_of(excinfo) == ("ExpiredCodeException", "Invalid code provided, please request a code again.")


def test_confirm_sign_up_code_valid_before_expiry(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")
    confirming_stack.clock.advance(hours=23, minutes=59)

    confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="111111")

    assert confirming_stack.admin_get_user("ann@example.com")["UserStatus"] == "CONFIRMED"


def test_confirm_sign_up_unknown_user(confirming_stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="nobody@example.com", ConfirmationCode="111111")

    assert error_of(excinfo) == ("UserNotFoundException", "Username/client id combination not found.")


def test_confirm_sign_up_confirmed_user(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="111111")

    assert error_of(excinfo) == ("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")


def test_confirm_sign_up_unknown_client(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.confirm_sign_up(ClientId="otherclient", Username="ann@example.com", ConfirmationCode="111111")

    assert error_of(excinfo)[0] == "ResourceNotFoundException"


# --- ResendConfirmationCode ---------------------------------------------------


def test_resend_code_replaces_old_code(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    response = confirming_stack.client.resend_confirmation_code(ClientId=CLIENT_ID, Username="ann@example.com")

    assert response["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert confirming_stack.last_code() == "222222"
    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="111111")
    assert error_of(excinfo)[0] == "CodeMismatchException"
    confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="222222")
    assert confirming_stack.admin_get_user("ann@example.com")["UserStatus"] == "CONFIRMED"


def test_resend_code_restarts_expiry(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")
    confirming_stack.clock.advance(hours=23)
    confirming_stack.client.resend_confirmation_code(ClientId=CLIENT_ID, Username="ann@example.com")
    confirming_stack.clock.advance(hours=2)

    confirming_stack.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="222222")

    assert confirming_stack.admin_get_user("ann@example.com")["UserStatus"] == "CONFIRMED"


def test_resend_code_confirmed_user(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.client.resend_confirmation_code(ClientId=CLIENT_ID, Username="ann@example.com")

    assert error_of(excinfo) == ("InvalidParameterException", "User is already confirmed.")


def test_resend_code_unknown_user(confirming_stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        confirming_stack.client.resend_confirmation_code(ClientId=CLIENT_ID, Username="nobody@example.com")

    assert error_of(excinfo)[0] == "UserNotFoundException"


# --- InitiateAuth: USER_PASSWORD_AUTH -----------------------------------------


def test_initiate_auth_returns_all_tokens(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    response = stack.client.initiate_auth(
        ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": PASSWORD}
    )

    result = response["AuthenticationResult"]
    assert response["ChallengeParameters"] == {}
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}


def test_initiate_auth_email_case_insensitive(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    result = stack.log_in("  ANN@Example.com ")

    assert "AccessToken" in result


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.com", "Wrong1Password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong-password", "unknown-user"],
)
def test_initiate_auth_failure_same_error(stack: Stack, email: str, password: str) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.log_in(email, password)

    assert error_of(excinfo) == ("NotAuthorizedException", "Incorrect username or password.")


def test_initiate_auth_unconfirmed_user(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        confirming_stack.log_in("ann@example.com")

    assert error_of(excinfo) == ("UserNotConfirmedException", "User is not confirmed.")


def test_initiate_auth_unconfirmed_wrong_password(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        confirming_stack.log_in("ann@example.com", "Wrong1Password")

    assert error_of(excinfo)[0] == "NotAuthorizedException"


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH", "CUSTOM_AUTH", "MAGIC_LINK"])
def test_initiate_auth_unsupported_flow(stack: Stack, flow: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.initiate_auth(ClientId=CLIENT_ID, AuthFlow=flow, AuthParameters={"USERNAME": "ann@example.com"})

    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert flow in message


@pytest.mark.parametrize("missing", ["USERNAME", "PASSWORD"])
def test_initiate_auth_missing_parameter(stack: Stack, missing: str) -> None:
    parameters = {"USERNAME": "ann@example.com", "PASSWORD": PASSWORD}
    del parameters[missing]

    with pytest.raises(ClientError) as excinfo:
        stack.client.initiate_auth(ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters)

    assert error_of(excinfo) == ("InvalidParameterException", f"Missing required parameter {missing}")


def test_initiate_auth_unknown_client(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.client.initiate_auth(
            ClientId="otherclient", AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": PASSWORD}
        )

    assert error_of(excinfo) == ("ResourceNotFoundException", "User pool client otherclient does not exist.")


# --- InitiateAuth: REFRESH_TOKEN_AUTH -----------------------------------------


def test_refresh_returns_new_tokens_only(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    first = stack.log_in("ann@example.com")
    stack.clock.advance(minutes=5)

    refreshed = stack.refresh(first["RefreshToken"])

    assert set(refreshed) == {"AccessToken", "ExpiresIn", "TokenType", "IdToken"}
    assert refreshed["TokenType"] == "Bearer"
    # The fake clock runs 5 minutes ahead of the real one, which PyJWT checks iat against.
    old_claims = stack.verify(first["IdToken"], audience=CLIENT_ID)
    new_claims = stack.verify(refreshed["IdToken"], audience=CLIENT_ID, options={"verify_iat": False})
    assert new_claims["jti"] != old_claims["jti"]
    assert new_claims["iat"] == old_claims["iat"] + 300
    assert new_claims["origin_jti"] == old_claims["origin_jti"]
    assert new_claims["event_id"] == old_claims["event_id"]
    assert new_claims["auth_time"] == old_claims["auth_time"]


def test_refresh_token_is_opaque(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]

    assert refresh_token.count(".") == 0
    assert len(refresh_token) >= 64


def test_refresh_invalid_token(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.refresh("not-a-refresh-token")

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Refresh Token")


def test_refresh_expired_token(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]
    stack.clock.advance(days=30)

    with pytest.raises(ClientError) as excinfo:
        stack.refresh(refresh_token)

    assert error_of(excinfo)[0] == "NotAuthorizedException"


def test_refresh_valid_before_thirty_days(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]
    stack.clock.advance(days=29, hours=23)

    assert "IdToken" in stack.refresh(refresh_token)


def test_refresh_after_user_deleted(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]
    stack.client.admin_delete_user(UserPoolId=POOL_ID, Username="ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.refresh(refresh_token)

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Refresh Token")


def test_refresh_missing_token_parameter(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.initiate_auth(ClientId=CLIENT_ID, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={})

    assert error_of(excinfo) == ("InvalidParameterException", "Missing required parameter REFRESH_TOKEN")


# --- GetUser ------------------------------------------------------------------


def test_get_user_returns_sub_and_attributes(stack: Stack) -> None:
    sub = stack.sign_up("Ann@example.com")["UserSub"]
    access_token = stack.log_in("ann@example.com")["AccessToken"]

    response = stack.client.get_user(AccessToken=access_token)

    assert response["Username"] == sub
    assert attributes_of(response) == {"sub": sub, "email": "ann@example.com", "email_verified": "true"}


def test_get_user_rejects_id_token(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    id_token = stack.log_in("ann@example.com")["IdToken"]

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=id_token)

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_get_user_expired_token(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    access_token = stack.log_in("ann@example.com")["AccessToken"]
    stack.clock.advance(seconds=3600)

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=access_token)

    assert error_of(excinfo) == ("NotAuthorizedException", "Access Token has expired")


def test_get_user_tampered_token(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    stack.sign_up("bob@example.com")
    header, _, signature = stack.log_in("ann@example.com")["AccessToken"].split(".")
    other_payload = stack.log_in("bob@example.com")["AccessToken"].split(".")[1]

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=f"{header}.{other_payload}.{signature}")

    assert error_of(excinfo)[0] == "NotAuthorizedException"


def test_get_user_foreign_key_same_kid(stack: Stack) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]
    genuine = stack.log_in("ann@example.com")["AccessToken"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(genuine)["kid"]
    forged = jwt.encode(claims | {"sub": sub}, foreign_key, algorithm="RS256", headers={"kid": kid})

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=forged)

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_get_user_token_of_other_client(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    genuine = stack.log_in("ann@example.com")["AccessToken"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    keys = stack.cognito.export_state()["keys"]
    pem = next(key["private_key_pem"] for key in keys["keys"] if key["kid"] == keys["active_kid"])
    headers = {"kid": keys["active_kid"]}
    forged = jwt.encode(claims | {"client_id": "otherclient"}, pem, algorithm="RS256", headers=headers)

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=forged)

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_get_user_garbage_token(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken="not-a-jwt")

    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_get_user_deleted_user(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    access_token = stack.log_in("ann@example.com")["AccessToken"]
    stack.client.admin_delete_user(UserPoolId=POOL_ID, Username="ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=access_token)

    assert error_of(excinfo) == ("UserNotFoundException", "User does not exist.")


# --- admin actions ------------------------------------------------------------


def test_admin_confirm_sign_up_confirms(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    confirming_stack.client.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="ann@example.com")

    user = confirming_stack.admin_get_user("ann@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    # Like Cognito, confirming without the code does not verify the email address.
    assert attributes_of(user)["email_verified"] == "false"
    assert "IdToken" in confirming_stack.log_in("ann@example.com")


def test_admin_confirm_sign_up_confirmed_user(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.client.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="ann@example.com")

    assert error_of(excinfo)[0] == "NotAuthorizedException"


def test_admin_confirm_sign_up_unknown_user(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="nobody@example.com")

    assert error_of(excinfo) == ("UserNotFoundException", "User does not exist.")


def test_admin_get_user_by_sub(stack: Stack) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]

    user = stack.admin_get_user(sub)

    assert attributes_of(user)["email"] == "ann@example.com"
    assert user["Enabled"] is True
    assert isinstance(user["UserCreateDate"], datetime)


def test_admin_get_user_unknown_user(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.admin_get_user("nobody@example.com")

    assert error_of(excinfo) == ("UserNotFoundException", "User does not exist.")


@pytest.mark.parametrize("action", ["admin_get_user", "admin_confirm_sign_up", "admin_delete_user"])
def test_admin_action_unknown_pool(stack: Stack, action: str) -> None:
    stack.sign_up("ann@example.com")

    with pytest.raises(ClientError) as excinfo:
        getattr(stack.client, action)(UserPoolId="us-east-1_Other", Username="ann@example.com")

    assert error_of(excinfo) == ("ResourceNotFoundException", "User pool us-east-1_Other does not exist.")


def test_admin_delete_user_removes_user(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    stack.client.admin_delete_user(UserPoolId=POOL_ID, Username="ANN@example.com")

    with pytest.raises(ClientError) as excinfo:
        stack.admin_get_user("ann@example.com")
    assert error_of(excinfo)[0] == "UserNotFoundException"
    with pytest.raises(ClientError) as login_excinfo:
        stack.log_in("ann@example.com")
    assert error_of(login_excinfo)[0] == "NotAuthorizedException"


def test_admin_delete_user_frees_email(stack: Stack) -> None:
    first_sub = stack.sign_up("ann@example.com")["UserSub"]
    stack.client.admin_delete_user(UserPoolId=POOL_ID, Username="ann@example.com")

    second_sub = stack.sign_up("ann@example.com")["UserSub"]

    assert second_sub != first_sub


# --- the JSON protocol --------------------------------------------------------


def test_unknown_action_fails_loudly(stack: Stack) -> None:
    with pytest.raises(ClientError) as excinfo:
        stack.client.list_users(UserPoolId=POOL_ID)

    code, message = error_of(excinfo)
    assert code == "InvalidAction"
    assert "ListUsers" in message
    assert "does not emulate" in message
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_missing_parameter_invalid(stack: Stack) -> None:
    response = requests.post(
        stack.url,
        data=json.dumps({"Username": "ann@example.com", "Password": PASSWORD}),
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp", "Content-Type": "application/x-amz-json-1.1"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidParameterException"
    assert "'clientId'" in response.json()["message"]


def test_malformed_json_rejected(stack: Stack) -> None:
    response = requests.post(
        stack.url,
        data=b"{not json",
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp", "Content-Type": "application/x-amz-json-1.1"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    assert response.headers["x-amzn-ErrorType"] == "SerializationException"


def test_too_many_requests_throttled(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(max_requests_per_second=2)
    outcomes = []
    for _ in range(3):
        with pytest.raises(ClientError) as excinfo:
            stack.admin_get_user("nobody@example.com")
        outcomes.append(error_of(excinfo)[0])

    assert outcomes == ["UserNotFoundException", "UserNotFoundException", "TooManyRequestsException"]
    stack.clock.advance(seconds=1)
    with pytest.raises(ClientError) as later:
        stack.admin_get_user("nobody@example.com")
    assert error_of(later)[0] == "UserNotFoundException"


def test_throttling_counts_each_action_apart(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(max_requests_per_second=1)
    stack.sign_up("ann@example.com")

    user = stack.admin_get_user("ann@example.com")

    assert user["UserStatus"] == "CONFIRMED"


# --- tokens and the JWKS ------------------------------------------------------


def test_id_token_verifies_against_served_jwks(stack: Stack) -> None:
    sub = stack.sign_up("Ann@example.com")["UserSub"]
    id_token = stack.log_in("ann@example.com")["IdToken"]

    claims = stack.verify(id_token, audience=CLIENT_ID)

    assert set(claims) == ID_CLAIMS
    assert claims["iss"] == stack.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["token_use"] == "id"
    assert claims["sub"] == sub
    assert claims["cognito:username"] == sub
    assert claims["email"] == "ann@example.com"
    assert claims["email_verified"] is True
    assert claims["iat"] == int(stack.clock.now.timestamp())
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["auth_time"] == claims["iat"]


def test_access_token_verifies_against_served_jwks(stack: Stack) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]
    access_token = stack.log_in("ann@example.com")["AccessToken"]

    claims = stack.verify(access_token)

    assert set(claims) == ACCESS_CLAIMS
    assert claims["iss"] == stack.issuer
    assert claims["client_id"] == CLIENT_ID
    assert claims["token_use"] == "access"
    assert claims["scope"] == "aws.cognito.signin.user.admin"
    assert claims["username"] == sub
    assert claims["exp"] == claims["iat"] + 3600


def test_tokens_of_one_sign_in_share_event(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    result = stack.log_in("ann@example.com")

    id_claims = stack.verify(result["IdToken"], audience=CLIENT_ID)
    access_claims = stack.verify(result["AccessToken"])

    assert id_claims["origin_jti"] == access_claims["origin_jti"]
    assert id_claims["event_id"] == access_claims["event_id"]
    assert id_claims["jti"] != access_claims["jti"]


def test_token_ttl_is_configurable(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(id_token_ttl_seconds=600)
    stack.sign_up("ann@example.com")

    result = stack.log_in("ann@example.com")

    claims = stack.verify(result["AccessToken"])
    assert result["ExpiresIn"] == 600
    assert claims["exp"] - claims["iat"] == 600


def test_issuer_is_verbatim(make_stack: Callable[..., Stack]) -> None:
    issuer = f"http://127.0.0.1:4566/{POOL_ID}"
    stack = make_stack(issuer=issuer)
    stack.sign_up("ann@example.com")

    claims = stack.verify(stack.log_in("ann@example.com")["IdToken"], audience=CLIENT_ID)

    assert claims["iss"] == issuer


def test_token_header_kid_and_alg_only(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    header = jwt.get_unverified_header(stack.log_in("ann@example.com")["IdToken"])

    assert set(header) == {"kid", "alg"}
    assert header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in stack.fetch_jwks()["keys"]}


def test_jwks_document_shape(stack: Stack) -> None:
    response = requests.get(stack.jwks_url, timeout=5)

    keys = response.json()["keys"]
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "kid", "use", "alg", "n", "e"}
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["use"] == "sig"
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["e"] == "AQAB"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", keys[0]["n"])
    assert jwt.PyJWK(keys[0]).key.key_size == 2048


def test_openid_configuration_names_issuer(stack: Stack) -> None:
    response = requests.get(f"{stack.url}/{POOL_ID}/.well-known/openid-configuration", timeout=5)

    document = response.json()
    assert response.status_code == 200
    assert document["issuer"] == stack.issuer
    assert document["jwks_uri"] == f"{stack.issuer}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_well_known_other_pool_not_found(stack: Stack) -> None:
    response = requests.get(f"{stack.url}/us-east-1_Other/.well-known/jwks.json", timeout=5)

    assert response.status_code == 404
    assert "us-east-1_Other" in response.json()["message"]


def test_well_known_post_not_allowed(stack: Stack) -> None:
    response = requests.post(stack.jwks_url, timeout=5)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_handles_claims_own_requests(stack: Stack) -> None:
    cognito = stack.cognito

    assert cognito.handles({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.SignUp", "PATH_INFO": "/"})
    assert cognito.handles({"PATH_INFO": f"/{POOL_ID}/.well-known/jwks.json"})
    assert cognito.handles({"PATH_INFO": f"/{POOL_ID}/.well-known/openid-configuration"})
    assert not cognito.handles({"PATH_INFO": "/us-east-1_Other/.well-known/jwks.json"})
    assert not cognito.handles({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem", "PATH_INFO": "/"})
    assert not cognito.handles({"PATH_INFO": "/restapis/abc/v1/_user_request_/surveys"})


# --- key rotation -------------------------------------------------------------


def test_rotation_keeps_old_key_published(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    old = stack.log_in("ann@example.com")
    old_kid = jwt.get_unverified_header(old["IdToken"])["kid"]

    new_kid = stack.cognito.rotate_keys()

    new = stack.log_in("ann@example.com")
    assert new_kid != old_kid
    assert jwt.get_unverified_header(new["IdToken"])["kid"] == new_kid
    assert {key["kid"] for key in stack.fetch_jwks()["keys"]} == {old_kid, new_kid}
    assert stack.verify(old["IdToken"], audience=CLIENT_ID)["token_use"] == "id"
    assert stack.verify(new["IdToken"], audience=CLIENT_ID)["token_use"] == "id"
    assert stack.client.get_user(AccessToken=old["AccessToken"])["Username"]


def test_drop_retired_keys_invalidates_old_tokens(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    old = stack.log_in("ann@example.com")
    old_kid = jwt.get_unverified_header(old["IdToken"])["kid"]
    new_kid = stack.cognito.rotate_keys()

    dropped = stack.cognito.drop_retired_keys()

    assert dropped == [old_kid]
    assert [key["kid"] for key in stack.fetch_jwks()["keys"]] == [new_kid]
    with pytest.raises(jwt.InvalidKeyError):
        stack.verify(old["IdToken"], audience=CLIENT_ID)
    with pytest.raises(ClientError) as excinfo:
        stack.client.get_user(AccessToken=old["AccessToken"])
    assert error_of(excinfo) == ("NotAuthorizedException", "Invalid Access Token")


def test_refresh_after_rotation_uses_new_key(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]
    new_kid = stack.cognito.rotate_keys()
    stack.cognito.drop_retired_keys()

    refreshed = stack.refresh(refresh_token)

    assert jwt.get_unverified_header(refreshed["IdToken"])["kid"] == new_kid
    assert stack.verify(refreshed["IdToken"], audience=CLIENT_ID)["token_use"] == "id"


def test_drop_retired_keys_without_rotation(stack: Stack) -> None:
    assert stack.cognito.drop_retired_keys() == []
    assert len(stack.fetch_jwks()["keys"]) == 1


# --- issue_tokens -------------------------------------------------------------


def test_issue_tokens_for_confirmed_user(stack: Stack) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]

    result = stack.cognito.issue_tokens("Ann@Example.com")

    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}
    assert stack.verify(result["IdToken"], audience=CLIENT_ID)["sub"] == sub
    assert stack.client.get_user(AccessToken=result["AccessToken"])["Username"] == sub
    assert "IdToken" in stack.refresh(result["RefreshToken"])


def test_issue_tokens_unconfirmed_user(confirming_stack: Stack) -> None:
    confirming_stack.sign_up("ann@example.com")

    with pytest.raises(UserNotConfirmedException):
        confirming_stack.cognito.issue_tokens("ann@example.com")


def test_issue_tokens_unknown_user(stack: Stack) -> None:
    with pytest.raises(UserNotFoundException):
        stack.cognito.issue_tokens("nobody@example.com")


# --- password storage ---------------------------------------------------------


def test_password_stored_as_scrypt_hash(stack: Stack) -> None:
    stack.sign_up("ann@example.com")

    stored = stack.cognito.export_state()["users"][0]["password_hash"]

    assert stored.startswith("scrypt$")
    assert PASSWORD not in stored
    assert PASSWORD not in json.dumps(stack.cognito.export_state())


def test_same_password_gets_different_hashes(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    stack.sign_up("bob@example.com")

    hashes = [user["password_hash"] for user in stack.cognito.export_state()["users"]]

    assert hashes[0] != hashes[1]


def test_verify_password_checks_hash() -> None:
    stored = hash_password(PASSWORD)

    assert verify_password(PASSWORD, stored) is True
    assert verify_password("Correct1Horsf", stored) is False


def test_verify_password_malformed_hash() -> None:
    with pytest.raises(ValueError):
        verify_password(PASSWORD, "plain-text")


# --- saved state --------------------------------------------------------------


def test_state_round_trip_keeps_users_and_keys(stack: Stack, make_stack: Callable[..., Stack]) -> None:
    sub = stack.sign_up("ann@example.com")["UserSub"]
    before = stack.log_in("ann@example.com")
    old_kid = jwt.get_unverified_header(before["IdToken"])["kid"]
    state = json.loads(json.dumps(stack.cognito.export_state()))

    restored = make_stack(issuer=stack.issuer, clock=stack.clock)
    restored.cognito.import_state(state)

    assert [key["kid"] for key in restored.fetch_jwks()["keys"]] == [old_kid]
    assert restored.verify(before["IdToken"], audience=CLIENT_ID)["sub"] == sub
    assert restored.client.get_user(AccessToken=before["AccessToken"])["Username"] == sub
    assert "IdToken" in restored.refresh(before["RefreshToken"])
    assert "IdToken" in restored.log_in("ann@example.com")
    assert restored.admin_get_user("ann@example.com")["Username"] == sub


def test_state_round_trip_keeps_retired_keys(stack: Stack, make_stack: Callable[..., Stack]) -> None:
    stack.sign_up("ann@example.com")
    old_token = stack.log_in("ann@example.com")["IdToken"]
    new_kid = stack.cognito.rotate_keys()
    state = json.loads(json.dumps(stack.cognito.export_state()))

    restored = make_stack(issuer=stack.issuer, clock=stack.clock)
    restored.cognito.import_state(state)

    assert jwt.get_unverified_header(restored.log_in("ann@example.com")["IdToken"])["kid"] == new_kid
    assert restored.verify(old_token, audience=CLIENT_ID)["token_use"] == "id"


def test_state_round_trip_keeps_pending_code(confirming_stack: Stack, make_stack: Callable[..., Stack]) -> None:
    confirming_stack.sign_up("ann@example.com")
    state = json.loads(json.dumps(confirming_stack.cognito.export_state()))

    restored = make_stack(issuer=confirming_stack.issuer, clock=confirming_stack.clock, require_confirmation=True)
    restored.cognito.import_state(state)

    restored.client.confirm_sign_up(ClientId=CLIENT_ID, Username="ann@example.com", ConfirmationCode="111111")
    assert restored.admin_get_user("ann@example.com")["UserStatus"] == "CONFIRMED"


def test_state_stores_refresh_token_hashes_only(stack: Stack) -> None:
    stack.sign_up("ann@example.com")
    refresh_token = stack.log_in("ann@example.com")["RefreshToken"]

    state = json.dumps(stack.cognito.export_state())

    assert refresh_token not in state
    assert len(stack.cognito.export_state()["refresh_tokens"]) == 1


def test_import_state_other_pool_rejected(stack: Stack) -> None:
    state = stack.cognito.export_state() | {"user_pool_id": "us-east-1_Other"}

    with pytest.raises(ValueError, match="us-east-1_Other"):
        stack.cognito.import_state(state)


def test_import_state_unknown_version_rejected(stack: Stack) -> None:
    state = stack.cognito.export_state() | {"version": 99}

    with pytest.raises(ValueError, match="version"):
        stack.cognito.import_state(state)


# --- concurrency and logs -----------------------------------------------------


def test_concurrent_sign_ups_same_email_one_wins(stack: Stack) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def sign_up() -> None:
        try:
            stack.sign_up("ann@example.com")
            outcome = "created"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=sign_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["UsernameExistsException"] * 5 + ["created"]


def test_logs_name_action_without_secrets(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.cognito")
    sub = stack.sign_up("ann@example.com")["UserSub"]
    result = stack.log_in("ann@example.com")
    with pytest.raises(ClientError):
        stack.log_in("ann@example.com", "Wrong1Password")

    text = "\n".join(record.getMessage() for record in caplog.records)

    assert f"SignUp succeeded for user {sub}" in text
    assert f"InitiateAuth succeeded for user {sub}" in text
    assert "InitiateAuth rejected: NotAuthorizedException" in text
    assert PASSWORD not in text
    assert "Wrong1Password" not in text
    assert "ann@example.com" not in text
    assert result["AccessToken"] not in text
    assert result["RefreshToken"] not in text


def test_start_log_names_issuer_and_jwks(make_stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local.cognito")

    stack = make_stack()

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert stack.issuer in text
    assert f"{stack.issuer}/.well-known/jwks.json" in text
