"""Sign-up with emailed confirmation codes, on a second offline stack started with --require-confirmation."""
from __future__ import annotations

import os

import pytest

from tests.integration.conftest import assert_error
from tests.support.offline import start_offline_stack, stop_process
from tests.support.stack import TEST_PASSWORD, StackUnderTest


@pytest.fixture(scope="module")
def confirming_stack() -> StackUnderTest:
    if os.environ.get("SURVEY_API_URL"):
        pytest.skip("starts its own offline stack; not run against a deployed stack")
    process, edge_url, log_path = start_offline_stack("offline-stack-confirm", ["--require-confirmation"])
    try:
        yield StackUnderTest.from_edge(edge_url, log_path=log_path)
    finally:
        stop_process(process)


def test_unconfirmed_login_is_forbidden(confirming_stack: StackUnderTest) -> None:
    email = confirming_stack.new_email("pending")
    signup = confirming_stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD})
    assert signup.status_code == 201, signup.text
    assert signup.json()["confirmed"] is False
    login = confirming_stack.post("/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert_error(login, 403, "user_not_confirmed")


def test_code_from_outbox_confirms(confirming_stack: StackUnderTest) -> None:
    email = confirming_stack.new_email("confirm")
    assert confirming_stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD}).status_code == 201
    code = confirming_stack.latest_code(email)
    assert len(code) == 6

    confirmed = confirming_stack.post("/auth/confirm", json={"email": email, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email": email, "confirmed": True}
    login = confirming_stack.post("/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert login.status_code == 200, login.text


def test_wrong_code_is_bad_request(confirming_stack: StackUnderTest) -> None:
    email = confirming_stack.new_email("wrongcode")
    assert confirming_stack.post("/auth/signup", json={"email": email, "password": TEST_PASSWORD}).status_code == 201
    code = confirming_stack.latest_code(email)
    wrong = "000000" if code != "000000" else "111111"
    assert_error(confirming_stack.post("/auth/confirm", json={"email": email, "code": wrong}), 400, "bad_request")
