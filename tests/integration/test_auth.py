"""Auth routes over HTTP: sign-up, confirm, login, refresh, /auth/me."""
from __future__ import annotations

import pytest

from tests.integration.conftest import assert_error
from tests.support.stack import TEST_PASSWORD, StackUnderTest, User


def test_signup_returns_email_and_confirmed(stack: StackUnderTest) -> None:
    email = stack.new_email("signup")
    response = stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == email
    assert isinstance(body["confirmed"], bool)


def test_signup_twice_is_conflict(stack: StackUnderTest, owner: User) -> None:
    response = stack.post("/auth/signup", json={"email": owner.email, "password": TEST_PASSWORD})
    assert_error(response, 409, "conflict")


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", "@example.com", "x" * 300 + "@example.com"])
def test_signup_invalid_email_is_bad_request(stack: StackUnderTest, email: str) -> None:
    response = stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    body = assert_error(response, 400, "bad_request")
    assert "email" in body["message"]


@pytest.mark.parametrize("password", ["Short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"])
def test_signup_weak_password_is_bad_request(stack: StackUnderTest, password: str) -> None:
    response = stack.post("/auth/signup", json={"email": stack.new_email("weak"), "password": password})
    body = assert_error(response, 400, "bad_request")
    assert "password" in body["message"]


def test_signup_missing_fields_is_bad_request(stack: StackUnderTest) -> None:
    assert_error(stack.post("/auth/signup", json={}), 400, "bad_request")


def test_login_returns_tokens(stack: StackUnderTest, owner: User) -> None:
    response = stack.post("/auth/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    for key in ("id_token", "access_token", "refresh_token"):
        assert isinstance(body[key], str) and body[key], key


def test_login_alias_under_flask(stack: StackUnderTest, owner: User) -> None:
    response = stack.post("/flask/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_login_wrong_password_and_unknown_user_match(stack: StackUnderTest, owner: User) -> None:
    wrong_password = stack.post("/auth/login", json={"email": owner.email, "password": "Wrong-password-1"})
    unknown_user = stack.post("/auth/login", json={"email": stack.new_email("nobody"), "password": TEST_PASSWORD})
    first = assert_error(wrong_password, 401, "unauthorized")
    second = assert_error(unknown_user, 401, "unauthorized")
    assert first["message"] == second["message"]


def test_refresh_returns_new_tokens(stack: StackUnderTest, owner: User) -> None:
    response = stack.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["id_token"]
    assert body["access_token"]
    me = stack.get("/auth/me", headers={"Authorization": f"Bearer {body['id_token']}"})
    assert me.status_code == 200, me.text


def test_refresh_invalid_token_is_unauthorized(stack: StackUnderTest) -> None:
    assert_error(stack.post("/auth/refresh", json={"refresh_token": "not-a-refresh-token"}), 401, "unauthorized")


def test_me_returns_sub_and_email(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/auth/me", headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == owner.email
    assert body["sub"]


def test_me_accepts_access_token(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/auth/me", headers={"Authorization": f"Bearer {owner.access_token}"})
    assert response.status_code == 200, response.text
    assert response.json()["sub"]


def test_me_accepts_bare_token(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/auth/me", headers={"Authorization": owner.id_token})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
def test_me_without_valid_token_is_unauthorized(stack: StackUnderTest, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_error(stack.get("/auth/me", headers=headers), 401, "unauthorized")


def test_tampered_token_is_unauthorized(stack: StackUnderTest, owner: User) -> None:
    header, payload, signature = owner.id_token.split(".")
    tampered = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    assert_error(stack.get("/auth/me", headers={"Authorization": f"Bearer {tampered}"}), 401, "unauthorized")


def test_confirm_unknown_user_is_not_found(stack: StackUnderTest) -> None:
    response = stack.post("/auth/confirm", json={"email": stack.new_email("ghost"), "code": "123456"})
    assert_error(response, 404, "not_found")


def test_confirm_missing_code_is_bad_request(stack: StackUnderTest, owner: User) -> None:
    assert_error(stack.post("/auth/confirm", json={"email": owner.email}), 400, "bad_request")
