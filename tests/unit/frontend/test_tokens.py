"""Token verification against a JWKS served over HTTP on 127.0.0.1, including the usual JWT attacks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from frontend_fn.tokens import (
    MIN_REFETCH_INTERVAL_SECONDS,
    JwksCache,
    JwksUnavailable,
    TokenRejected,
    TokenVerifier,
    parse_jwks,
    strip_bearer,
)

from .helpers import CLIENT_ID, USER_EMAIL, USER_SUB, FakeClock, JwksServer, SigningKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rejection_reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        verifier.verify(token)
    return caught.value.reason


def test_verify_id_token_returns_caller(verifier, make_token):
    caller, claims = verifier.verify(make_token())
    assert caller.sub == USER_SUB
    assert caller.email == USER_EMAIL
    assert caller.token_use == "id"
    assert claims["aud"] == CLIENT_ID


def test_verify_access_token_has_no_email(verifier, make_token):
    caller, _claims = verifier.verify(make_token(token_use="access"))
    assert caller.sub == USER_SUB
    assert caller.email is None
    assert caller.to_payload() == {"sub": USER_SUB, "email": None}


def test_verify_alg_none_rejected(verifier, make_token):
    header = _b64url(json.dumps({"alg": "none", "kid": "key-1", "typ": "JWT"}).encode())
    payload = make_token().split(".")[1]
    assert "algorithm not allowed" in _rejection_reason(verifier, f"{header}.{payload}.")


def test_verify_hs256_with_public_key_as_secret_rejected(verifier, make_token, signing_key):
    public_pem = signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT refuses to sign HS256 with a PEM key, so build the token by hand as an attacker would.
    header = _b64url(json.dumps({"alg": "HS256", "kid": "key-1", "typ": "JWT"}).encode())
    payload = make_token().split(".")[1]
    signature = _b64url(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert "algorithm not allowed" in _rejection_reason(verifier, f"{header}.{payload}.{signature}")


def test_verify_hs256_with_shared_secret_rejected(verifier, make_token):
    token = make_token(algorithm="HS256", signing_secret="a-secret-of-at-least-32-bytes-long!!")
    assert "algorithm not allowed" in _rejection_reason(verifier, token)


def test_verify_expired_token_rejected(verifier, make_token):
    now = int(time.time())
    token = make_token(iat=now - 7200, exp=now - 60)
    assert _rejection_reason(verifier, token) == "expired"


def test_verify_expiry_within_leeway_accepted(verifier, make_token):
    now = int(time.time())
    caller, _claims = verifier.verify(make_token(iat=now - 3600, exp=now - 10))
    assert caller.sub == USER_SUB


def test_verify_other_issuer_rejected(verifier, make_token):
    token = make_token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")
    assert _rejection_reason(verifier, token) == "wrong issuer"


def test_verify_issuer_prefix_rejected(verifier, make_token, jwks_server):
    token = make_token(iss=jwks_server.issuer + "x")
    assert _rejection_reason(verifier, token) == "wrong issuer"


def test_verify_other_audience_rejected(verifier, make_token):
    assert _rejection_reason(verifier, make_token(aud="another-client")) == "wrong audience"


def test_verify_access_token_other_client_rejected(verifier, make_token):
    token = make_token(token_use="access", client_id="another-client")
    assert _rejection_reason(verifier, token) == "wrong client_id"


def test_verify_id_token_without_audience_rejected(verifier, make_token):
    assert _rejection_reason(verifier, make_token(aud=None)) == "wrong audience"


@pytest.mark.parametrize("token_use", ["refresh", "ID", "", "admin"])
def test_verify_wrong_token_use_rejected(verifier, make_token, token_use):
    assert _rejection_reason(verifier, make_token(token_use=token_use)) == "wrong token_use"


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "token_use"])
def test_verify_missing_claim_rejected(verifier, make_token, claim):
    assert _rejection_reason(verifier, make_token(**{claim: None})) == f"missing claim {claim}"


def test_verify_token_issued_in_future_rejected(verifier, make_token):
    now = int(time.time())
    assert _rejection_reason(verifier, make_token(iat=now + 600, exp=now + 4200)) == "issued in the future"


def test_verify_other_key_with_known_kid_rejected(verifier, make_token, attacker_key):
    assert attacker_key.kid == "key-1"
    assert _rejection_reason(verifier, make_token(key=attacker_key)) == "bad signature"


def test_verify_edited_payload_rejected(verifier, make_token):
    header, payload, signature = make_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    edited = _b64url(json.dumps(claims).encode())
    assert _rejection_reason(verifier, f"{header}.{edited}.{signature}") == "bad signature"


def test_verify_stripped_signature_rejected(verifier, make_token):
    header, payload, _signature = make_token().split(".")
    assert _rejection_reason(verifier, f"{header}.{payload}.") == "bad signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.###.$$$",
        "eyJhbGciOiJSUzI1NiJ9.payload",
        _b64url(b"not json") + ".e30.sig",
        _b64url(b"[1, 2]") + ".e30.sig",
        "." * 2,
        "\u00e9\u00e9.\u00e9\u00e9.\u00e9\u00e9",
        "\ud800.e30.sig",
        "e30.\udfff.sig",
    ],
)
def test_verify_malformed_token_rejected(verifier, token):
    with pytest.raises(TokenRejected):
        verifier.verify(token)


def test_verify_huge_header_rejected(verifier, make_token):
    token = make_token(headers={"padding": "x" * 5000})
    assert _rejection_reason(verifier, token) == "malformed: header too long"


def test_verify_huge_token_rejected(verifier, make_token):
    token = make_token(filler="y" * 20000)
    assert _rejection_reason(verifier, token) == "token too long"


def test_verify_missing_kid_rejected(verifier, make_token, signing_key):
    token = jwt.encode({"sub": "x"}, signing_key.private_key, algorithm="RS256")
    assert _rejection_reason(verifier, token) == "missing kid"


def test_jwks_unknown_kid_refetches_once_per_interval(jwks_server, clock, make_token, second_key):
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())
    assert jwks_server.request_count == 1

    unknown = SigningKey("made-up-kid")
    for _ in range(20):
        assert _rejection_reason(verifier, make_token(key=unknown)) == "unknown kid"
    # One refetch for the first unknown kid, then the interval blocks the rest.
    assert jwks_server.request_count == 2

    clock.advance(MIN_REFETCH_INTERVAL_SECONDS + 1)
    assert _rejection_reason(verifier, make_token(key=unknown)) == "unknown kid"
    assert jwks_server.request_count == 3


def test_jwks_new_kid_after_rotation_verifies(jwks_server, clock, make_token, signing_key, second_key):
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())

    jwks_server.keys = [signing_key.jwk(), second_key.jwk()]
    caller, _claims = verifier.verify(make_token(key=second_key))
    assert caller.sub == USER_SUB
    # The old key is still published, so its tokens keep verifying.
    caller, _claims = verifier.verify(make_token())
    assert caller.sub == USER_SUB


def test_jwks_removed_kid_stops_verifying_after_refetch(jwks_server, clock, make_token, signing_key, second_key):
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())

    jwks_server.keys = [second_key.jwk()]
    verifier.verify(make_token(key=second_key))
    assert _rejection_reason(verifier, make_token()) == "unknown kid"


def test_jwks_removed_kid_stops_verifying_after_max_age(jwks_server, clock, make_token, second_key):
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())

    jwks_server.keys = [second_key.jwk()]
    clock.advance(60)
    verifier.verify(make_token())  # cached and fresh: still valid
    clock.advance(300)
    assert _rejection_reason(verifier, make_token()) == "unknown kid"


def test_jwks_issuer_down_cold_start_is_unavailable(jwks_server, clock, make_token):
    jwks_server.available = False
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    with pytest.raises(JwksUnavailable):
        verifier.verify(make_token())
    with pytest.raises(JwksUnavailable):
        verifier.verify(make_token())
    # The failed fetch starts the interval, so the second request did not call the issuer.
    assert jwks_server.request_count == 1


def test_jwks_issuer_down_cached_key_still_verifies(jwks_server, clock, make_token):
    cache = JwksCache(jwks_server.url, clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())

    jwks_server.available = False
    clock.advance(3600)  # past the max age, so the cache tries a refresh and fails
    caller, _claims = verifier.verify(make_token())
    assert caller.sub == USER_SUB
    assert jwks_server.request_count == 2


def test_jwks_issuer_unreachable_is_unavailable(clock, make_token, jwks_server):
    # A port that was free a moment ago: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = JwksCache(f"http://127.0.0.1:{port}/jwks.json", clock=clock)
    verifier = TokenVerifier(cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)
    with pytest.raises(JwksUnavailable):
        verifier.verify(make_token())


def test_jwks_injected_fetcher_is_used(make_token, signing_key, jwks_server):
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return json.dumps({"keys": [signing_key.jwk()]}).encode()

    verifier = TokenVerifier(JwksCache("https://issuer.invalid/jwks.json", fetch=fetch, clock=FakeClock()),
                             issuer=jwks_server.issuer, client_id=CLIENT_ID)
    verifier.verify(make_token())
    assert calls == ["https://issuer.invalid/jwks.json"]


def test_parse_jwks_skips_non_rsa_and_bad_keys(signing_key):
    document = {"keys": [
        signing_key.jwk(),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not an object",
    ]}
    keys = parse_jwks(json.dumps(document).encode())
    assert sorted(keys) == ["key-1"]


def test_parse_jwks_rejects_document_without_keys():
    with pytest.raises(ValueError):
        parse_jwks(b'{"issuer": "x"}')


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("abc.def.ghi", "abc.def.ghi"),
        ("  Bearer   abc.def.ghi  ", "abc.def.ghi"),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_strip_bearer_forms(header, expected):
    assert strip_bearer(header) == expected


def test_jwks_server_fixture_counts_requests(jwks_server: JwksServer):
    cache = JwksCache(jwks_server.url, clock=FakeClock())
    with pytest.raises(TokenRejected):
        cache.get_key("nope")
    assert jwks_server.request_count == 1
