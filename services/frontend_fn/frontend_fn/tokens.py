"""Verification of Cognito ID and access tokens (RS256 JWTs) against the user pool's JWKS."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aws_lambda_powertools import Logger
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

logger = Logger(child=True)

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30
# A minimum gap between JWKS fetches triggered by unknown kids, so a flood of
# made-up kids costs the issuer at most one request a minute per container.
MIN_REFETCH_INTERVAL_SECONDS = 60.0
# Keys are refreshed this long after the last fetch, so a key removed from the
# JWKS stops verifying in a warm container too.
JWKS_MAX_AGE_SECONDS = 300.0
JWKS_FETCH_TIMEOUT_SECONDS = 3.0
MAX_JWKS_BYTES = 65_536
# A Cognito token is about 1 KB; the header alone is about 100 bytes.
MAX_TOKEN_CHARS = 16_384
MAX_HEADER_SEGMENT_CHARS = 2_048
TOKEN_USES = ("id", "access")


class TokenRejected(Exception):
    """The token is missing or invalid; `reason` is for the log and never contains the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(Exception):
    """The JWKS could not be fetched and the token's kid is not cached."""


@dataclass(frozen=True)
class Caller:
    sub: str
    email: str | None
    token_use: str

    def to_payload(self) -> dict[str, str | None]:
        """Return the identity the backend receives as `caller`."""
        return {"sub": self.sub, "email": self.email}


class _RejectRedirects(urllib.request.HTTPRedirectHandler):
    # A JWKS URL that redirects elsewhere is a misconfiguration, not something to follow.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


_opener = urllib.request.build_opener(_RejectRedirects())


def fetch_url(url: str) -> bytes:
    """GET `url` over http(s) and return the body; raise OSError on any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with _opener.open(request, timeout=JWKS_FETCH_TIMEOUT_SECONDS) as response:
        if response.status != 200:
            raise OSError(f"JWKS request returned HTTP {response.status}")
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise OSError(f"JWKS response is larger than {MAX_JWKS_BYTES} bytes")
    return body


def parse_jwks(document: bytes) -> dict[str, RSAPublicKey]:
    """Return the RS256 signing keys of a JWKS document by kid; skip keys of other types."""
    data = json.loads(document)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, RSAPublicKey] = {}
    for entry in data["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            key = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            logger.warning("JWKS key skipped: invalid RSA key", extra={"kid": entry["kid"], "error": str(exc)})
            continue
        keys[entry["kid"]] = key
    return keys


class JwksCache:
    """Public keys by kid, fetched from the JWKS URL and kept for the life of the container.

    A cache miss refetches the JWKS at most once per MIN_REFETCH_INTERVAL_SECONDS,
    except that a successful first fetch or age refresh does not start that
    interval. A failed fetch starts it too, so an issuer that is down is not
    retried on every request. When a fetch fails, the keys already cached keep working.
    """

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], bytes] = fetch_url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at: float | None = None
        self._blocked_until: float | None = None
        self._last_fetch_failed = False

    def get_key(self, kid: str) -> RSAPublicKey:
        """Return the key for `kid`; raise TokenRejected or JwksUnavailable."""
        with self._lock:
            now = self._clock()
            fresh = self._fetched_at is not None and now - self._fetched_at < JWKS_MAX_AGE_SECONDS
            if kid in self._keys and fresh:
                return self._keys[kid]

            blocked = self._blocked_until is not None and now < self._blocked_until
            if not blocked:
                self._refresh(now, cache_miss=kid not in self._keys and bool(self._keys))

            key = self._keys.get(kid)
            if key is not None:
                return key
            if self._last_fetch_failed:
                raise JwksUnavailable(f"JWKS at {self._url} could not be fetched and kid {kid!r} is not cached")
            raise TokenRejected("unknown kid")

    def _refresh(self, now: float, cache_miss: bool) -> None:
        try:
            keys = parse_jwks(self._fetch(self._url))
        except (OSError, ValueError) as exc:
            # urllib.error.URLError and socket timeouts are OSErrors; bad JSON is a ValueError.
            self._last_fetch_failed = True
            self._blocked_until = now + MIN_REFETCH_INTERVAL_SECONDS
            logger.warning(
                "JWKS fetch failed; cached keys stay in use",
                extra={"jwks_url": self._url, "cached_kids": sorted(self._keys), "error": str(exc)},
            )
            return

        self._last_fetch_failed = False
        self._fetched_at = now
        if cache_miss:
            self._blocked_until = now + MIN_REFETCH_INTERVAL_SECONDS
        removed = sorted(set(self._keys) - set(keys))
        self._keys = keys
        logger.info("JWKS fetched", extra={"jwks_url": self._url, "kids": sorted(keys), "removed_kids": removed})


def strip_bearer(authorization: str | None) -> str | None:
    """Return the token of an Authorization header: `Bearer <token>` or a bare token."""
    if authorization is None:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


class TokenVerifier:
    """Check a Cognito token's signature and claims for one user pool client."""

    def __init__(self, jwks: JwksCache, issuer: str, client_id: str) -> None:
        self._jwks = jwks
        self._issuer = issuer
        self._client_id = client_id

    def verify(self, token: str) -> tuple[Caller, dict[str, Any]]:
        """Return the caller and the token's claims; raise TokenRejected or JwksUnavailable."""
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("token too long")
        if not token.isascii():
            # A JWT is base64url text. PyJWT raises UnicodeEncodeError, not InvalidTokenError, on a lone surrogate.
            raise TokenRejected("malformed: not ASCII")
        segments = token.split(".")
        if len(segments) != 3:
            raise TokenRejected("malformed: not three segments")
        if len(segments[0]) > MAX_HEADER_SEGMENT_CHARS:
            raise TokenRejected("malformed: header too long")

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("malformed header") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenRejected(f"algorithm not allowed: {str(header.get('alg'))[:20]}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("missing kid")

        key = self._jwks.get_key(kid)
        claims = self._decode(token, key)
        return self._check_claims(claims), claims

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "exp", "iat", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("issued in the future") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("wrong issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"missing claim {exc.claim}") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("bad signature") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"invalid: {type(exc).__name__}") from exc

    def _check_claims(self, claims: dict[str, Any]) -> Caller:
        token_use = claims.get("token_use")
        if token_use not in TOKEN_USES:
            raise TokenRejected("wrong token_use")
        if token_use == "id":
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if self._client_id not in audiences:
                raise TokenRejected("wrong audience")
        elif claims.get("client_id") != self._client_id:
            raise TokenRejected("wrong client_id")

        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise TokenRejected("invalid sub")
        email = claims.get("email") if token_use == "id" else None
        return Caller(sub=sub, email=email if isinstance(email, str) else None, token_use=token_use)
