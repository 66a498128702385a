"""Tokens signed with the user pool's own key but with wrong claims, and key rotation.

The tests sign tokens with the pool's private key, which they read from the saved
state of an offline stack started for this module, so every rejection here is a
claim check and not a signature check. Rotation changes the signer for every user,
which is a second reason for a stack of their own.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.security.conftest import assert_contract_error, skip_on_deployed_stack
from tests.security.support import (
    active_signing_key,
    control_url,
    fresh_times,
    log_text,
    own_offline_stack,
    request_id,
    sign_rs256,
    token_segments,
    unverified_parts,
    wait_for_log_line,
)
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

OTHER_ISSUER = "http://127.0.0.1:9/us-east-1_OtherPool"


@pytest.fixture(scope="module")
def keys_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackUnderTest, Path]]:
    skip_on_deployed_stack()
    data_dir = tmp_path_factory.mktemp("signing-keys") / "data"
    with own_offline_stack("security-signing-keys", data_dir) as stack:
        yield stack, data_dir


@pytest.fixture(scope="module")
def member(keys_stack: tuple[StackUnderTest, Path]) -> User:
    return keys_stack[0].create_user("keys")


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


ClaimEdit = Callable[[dict[str, Any], str], dict[str, Any]]

# Each case edits fresh claims of the member's ID token ("id") or access token ("access").
# The edit gets the claims and the app client id, and returns the claims to sign.
CLAIM_CASES: dict[str, tuple[str, ClaimEdit, str]] = {
    "expired": ("id", lambda c, _: {**c, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "expired"),
    "access expired": (
        "access", lambda c, _: {**c, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "expired"
    ),
    "issued in the future": ("id", lambda c, _: {**c, "iat": int(time.time()) + 3600}, "issued in the future"),
    "other issuer": ("id", lambda c, _: {**c, "iss": OTHER_ISSUER}, "wrong issuer"),
    "issuer with trailing slash": ("id", lambda c, _: {**c, "iss": c["iss"] + "/"}, "wrong issuer"),
    "other audience": ("id", lambda c, _: {**c, "aud": "another-app-client"}, "wrong audience"),
    "audience list without client": ("id", lambda c, _: {**c, "aud": ["another-app-client"]}, "wrong audience"),
    "id token with client_id, no aud": (
        "id", lambda c, client: {**without(c, "aud"), "client_id": client}, "wrong audience"
    ),
    "access token of other client": ("access", lambda c, _: {**c, "client_id": "another-app-client"}, "wrong client_id"),
    "access token with aud, no client_id": (
        "access", lambda c, client: {**without(c, "client_id"), "aud": client}, "wrong client_id"
    ),
    "token_use refresh": ("id", lambda c, _: {**c, "token_use": "refresh"}, "wrong token_use"),
    "token_use in capitals": ("access", lambda c, _: {**c, "token_use": "ACCESS"}, "wrong token_use"),
    "token_use empty": ("id", lambda c, _: {**c, "token_use": ""}, "wrong token_use"),
    "token_use missing": ("id", lambda c, _: without(c, "token_use"), "missing claim token_use"),
    "sub missing": ("id", lambda c, _: without(c, "sub"), "missing claim sub"),
    "sub empty": ("access", lambda c, _: {**c, "sub": ""}, "invalid sub"),
    "exp missing": ("id", lambda c, _: without(c, "exp"), "missing claim exp"),
}


def signed_token(data_dir: Path, member: User, kind: str, edit: ClaimEdit, client_id: str) -> str:
    source = member.id_token if kind == "id" else member.access_token
    claims = edit(fresh_times(unverified_parts(source)[1]), client_id)
    kid, private_key = active_signing_key(data_dir)
    return sign_rs256(claims, private_key, kid)


@pytest.mark.parametrize("kind", ["id", "access"])
def test_pool_key_signature_is_accepted(keys_stack: tuple[StackUnderTest, Path], member: User, kind: str) -> None:
    # The control case: claims re-signed unedited with the pool's key pass, so the cases below fail on their claims.
    stack, data_dir = keys_stack
    token = signed_token(data_dir, member, kind, lambda claims, _: claims, stack.outputs["user_pool_client_id"])
    response = stack.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == member.email


@pytest.mark.parametrize("case", list(CLAIM_CASES))
def test_wrong_claim_is_unauthorized(keys_stack: tuple[StackUnderTest, Path], member: User, case: str) -> None:
    stack, data_dir = keys_stack
    kind, edit, reason = CLAIM_CASES[case]
    token = signed_token(data_dir, member, kind, edit, stack.outputs["user_pool_client_id"])
    response = stack.get("/surveys", headers={"Authorization": f"Bearer {token}"})
    assert_contract_error(response, 401, "unauthorized")

    line = wait_for_log_line(stack, request_id(response), f"token rejected: {reason}")
    assert line is not None, f"no log line names the reason {reason!r}"
    text = log_text(stack)
    for segment in token_segments(token):
        assert segment not in text


def _me(stack: StackUnderTest, token: str) -> requests.Response:
    return stack.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_rotation_keeps_old_tokens_until_dropped(keys_stack: tuple[StackUnderTest, Path]) -> None:
    # Requests run one at a time, so the same warm frontend container (and JWKS cache) serves them all.
    stack, data_dir = keys_stack
    early = stack.create_user("rotation-early")
    old_kid, old_key = active_signing_key(data_dir)
    assert unverified_parts(early.id_token)[0]["kid"] == old_kid
    assert _me(stack, early.id_token).status_code == 200

    rotated = requests.post(control_url(stack, "signer/rotate"), timeout=30)
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    # The old key is still published, so tokens it signed keep working.
    assert _me(stack, early.id_token).status_code == 200

    late = stack.create_user("rotation-late")
    assert unverified_parts(late.id_token)[0]["kid"] == new_kid
    dropped = requests.post(control_url(stack, "signer/drop-retired"), timeout=30)
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["dropped"] == [old_kid]

    # The first token with the new kid makes the container fetch the JWKS again, which drops the old key.
    assert _me(stack, late.id_token).status_code == 200
    for token in (early.id_token, early.access_token):
        response = _me(stack, token)
        assert_contract_error(response, 401, "unauthorized")
        assert wait_for_log_line(stack, request_id(response), "token rejected: unknown kid") is not None
    assert _me(stack, late.access_token).status_code == 200

    # Someone who kept the retired private key signs a fresh token with it.
    resigned = sign_rs256(fresh_times(unverified_parts(early.id_token)[1]), old_key, old_kid)
    assert_contract_error(_me(stack, resigned), 401, "unauthorized")
