"""Forged, edited and malformed tokens get 401, and the log names the reason but never the token.

These attacks need no private key of the user pool: they start from a real token
and the public JWKS. Attacks that need the pool's key are in test_signing_keys.py.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from tests.security.conftest import assert_contract_error
from tests.security.support import (
    b64url,
    b64url_json,
    log_text,
    new_rsa_key,
    request_id,
    sign_rs256,
    token_segments,
    unverified_parts,
    wait_for_log_line,
)
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

# Routes that need a token: one the frontend serves itself and one that reaches the backend.
PROBE_ROUTES = ("/auth/me", "/surveys")

Forgery = Callable[[str, dict, User], str]


@pytest.fixture(scope="module")
def public_jwk(stack: StackUnderTest, owner: User) -> dict:
    """Return the JWK of the key that signed the owner's token, from the issuer's published JWKS."""
    header, claims = unverified_parts(owner.id_token)
    jwks = requests.get(f"{claims['iss']}/.well-known/jwks.json", timeout=10).json()
    return next(key for key in jwks["keys"] if key["kid"] == header["kid"])


def hs256_token(claims: dict, kid: str, secret: bytes) -> str:
    # PyJWT refuses a PEM key as an HMAC secret, which is what an attacker's library would not do.
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64url_json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def pem_of(jwk: dict) -> bytes:
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def forged_tokens(token: str, jwk: dict, intruder: User) -> dict[str, tuple[str, str]]:
    """Return tokens built from a real one, by case: (token, the reason the frontend logs)."""
    header, claims = unverified_parts(token)
    header_segment, payload_segment, signature_segment = token.split(".")
    kid = header["kid"]
    intruder_sub = unverified_parts(intruder.id_token)[1]["sub"]
    return {
        "alg none": (f"{b64url_json({'alg': 'none', 'kid': kid})}.{payload_segment}.", "algorithm not allowed: none"),
        "HS256 with PEM public key": (hs256_token(claims, kid, pem_of(jwk)), "algorithm not allowed: HS256"),
        "HS256 with JWK public key": (hs256_token(claims, kid, json.dumps(jwk).encode()), "algorithm not allowed: HS256"),
        "unknown kid": (sign_rs256(claims, new_rsa_key(), f"unknown-{uuid.uuid4().hex}"), "unknown kid"),
        "other key, known kid": (sign_rs256(claims, new_rsa_key(), kid), "bad signature"),
        "payload edited after signing": (
            f"{header_segment}.{b64url_json({**claims, 'sub': intruder_sub})}.{signature_segment}",
            "bad signature",
        ),
        "signature removed": (f"{header_segment}.{payload_segment}.", "bad signature"),
        "two segments": (f"{header_segment}.{payload_segment}", "malformed: not three segments"),
        "four segments": (f"{token}.{signature_segment}", "malformed: not three segments"),
        "header not base64": (f"!!!.{payload_segment}.{signature_segment}", "malformed"),
        "header not JSON": (f"{b64url(b'not json at all')}.{payload_segment}.{signature_segment}", "malformed"),
        "payload not base64": (f"{header_segment}.!!!.{signature_segment}", "malformed"),
        "16 KB header": (
            f"{b64url_json({'alg': 'RS256', 'kid': kid, 'pad': 'a' * 16_384})}.{payload_segment}.{signature_segment}",
            "token too long",
        ),
        "3 KB header": (
            f"{b64url_json({'alg': 'RS256', 'kid': kid, 'pad': 'a' * 3_000})}.{payload_segment}.{signature_segment}",
            "malformed: header too long",
        ),
    }


FORGERY_CASES = [
    "alg none", "HS256 with PEM public key", "HS256 with JWK public key", "unknown kid", "other key, known kid",
    "payload edited after signing", "signature removed", "two segments", "four segments", "header not base64",
    "header not JSON", "payload not base64", "16 KB header", "3 KB header",
]


@pytest.mark.parametrize("case", FORGERY_CASES)
@pytest.mark.parametrize("path", PROBE_ROUTES)
def test_forged_token_is_unauthorized(
    stack: StackUnderTest, owner: User, intruder: User, public_jwk: dict, case: str, path: str
) -> None:
    token, reason = forged_tokens(owner.id_token, public_jwk, intruder)[case]
    response = stack.get(path, headers={"Authorization": f"Bearer {token}"})
    assert_contract_error(response, 401, "unauthorized")
    for segment in token_segments(token):
        assert segment not in response.text

    if stack.log_path is None:
        return
    line = wait_for_log_line(stack, request_id(response), f"token rejected: {reason}")
    assert line is not None, f"no log line names the reason {reason!r}"
    text = log_text(stack)
    for segment in token_segments(token):
        assert segment not in text


@pytest.mark.parametrize("token_kind", ["id_token", "access_token"])
def test_real_token_is_accepted(stack: StackUnderTest, owner: User, token_kind: str) -> None:
    # The control case of the forgeries: the unedited token works on the same route.
    response = stack.get("/auth/me", headers={"Authorization": f"Bearer {getattr(owner, token_kind)}"})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == owner.email


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer ".encode() + "ü.ä.ö".encode("utf-8"),
        "Bearer ".encode() + "eyJ\u00e9.e30.sig".encode("latin-1"),
        b"Bearer \xff\xfe.\x00\x01.\x80",
    ],
    ids=["utf-8 letters", "latin-1 letter", "raw bytes"],
)
def test_non_ascii_token_is_unauthorized(stack: StackUnderTest, authorization: bytes) -> None:
    response = stack.get("/auth/me", headers={"Authorization": authorization})
    assert_contract_error(response, 401, "unauthorized")
    if stack.log_path is not None:
        assert wait_for_log_line(stack, request_id(response), "token rejected: malformed") is not None


def test_refresh_token_as_bearer_is_unauthorized(stack: StackUnderTest, owner: User) -> None:
    response = stack.get("/auth/me", headers={"Authorization": f"Bearer {owner.refresh_token}"})
    assert_contract_error(response, 401, "unauthorized")
    if stack.log_path is not None:
        assert wait_for_log_line(stack, request_id(response), "token rejected:") is not None
        assert owner.refresh_token not in log_text(stack)


def test_edited_token_cannot_read_other_survey(
    stack: StackUnderTest, owner: User, intruder: User, create_survey: Callable[..., dict]
) -> None:
    # The intruder puts the owner's sub into the intruder's own token to read the owner's survey.
    survey = create_survey()
    owner_sub = unverified_parts(owner.id_token)[1]["sub"]
    header_segment, _, signature_segment = intruder.id_token.split(".")
    claims = unverified_parts(intruder.id_token)[1]
    forged = f"{header_segment}.{b64url_json({**claims, 'sub': owner_sub})}.{signature_segment}"
    response = stack.get("/survey", params={"survey_id": survey["survey_id"]}, headers={"Authorization": f"Bearer {forged}"})
    assert_contract_error(response, 401, "unauthorized")
    assert survey["title"] not in response.text
