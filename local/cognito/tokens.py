"""Cognito-shaped ID and access tokens: RS256 JWTs with Cognito's claims, signed by the pool's active key."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from local.cognito.exceptions import NotAuthorizedException
from local.cognito.keys import ALGORITHM, KeyRing, SigningKey

# The only scope of tokens from InitiateAuth; it lets the token call GetUser and other self-service actions.
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
ACCESS_CLAIMS = ("sub", "iss", "client_id", "token_use", "exp", "iat", "jti")


@dataclass(frozen=True)
class AuthEvent:
    """One sign-in; the tokens of that sign-in and of every refresh after it share these values."""

    origin_jti: str
    event_id: str
    auth_time: int

    @classmethod
    def new(cls, now: datetime) -> AuthEvent:
        return cls(origin_jti=str(uuid.uuid4()), event_id=str(uuid.uuid4()), auth_time=int(now.timestamp()))


@dataclass(frozen=True)
class TokenSet:
    """Tokens of one sign-in or refresh; `sub` names their user for logs and is not sent."""

    sub: str
    id_token: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None

    def authentication_result(self) -> dict[str, Any]:
        """Return the AuthenticationResult object of InitiateAuth."""
        result: dict[str, Any] = {
            "AccessToken": self.access_token,
            "ExpiresIn": self.expires_in,
            "TokenType": "Bearer",
            "IdToken": self.id_token,
        }
        if self.refresh_token is not None:
            result["RefreshToken"] = self.refresh_token
        return result


class TokenSigner:
    """Sign and verify the pool's tokens for one issuer and one app client."""

    def __init__(self, *, issuer: str, client_id: str, ttl_seconds: int) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.ttl_seconds = ttl_seconds

    def issue(self, key: SigningKey, *, sub: str, email: str, email_verified: bool, event: AuthEvent, now: datetime) -> TokenSet:
        """Sign an ID token and an access token, both valid for `ttl_seconds` from `now`."""
        # NOTE: Cognito signs ID and access tokens with two different keys; the offline stack uses one key for both.
        iat = int(now.timestamp())
        exp = iat + self.ttl_seconds
        id_claims = {
            "sub": sub,
            "email_verified": email_verified,
            "iss": self.issuer,
            # A pool with email as the username gives each user a UUID username, the same value as sub.
            "cognito:username": sub,
            "origin_jti": event.origin_jti,
            "aud": self.client_id,
            "event_id": event.event_id,
            "token_use": "id",
            "auth_time": event.auth_time,
            "exp": exp,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "email": email,
        }
        access_claims = {
            "sub": sub,
            "iss": self.issuer,
            "client_id": self.client_id,
            "origin_jti": event.origin_jti,
            "event_id": event.event_id,
            "token_use": "access",
            "scope": ADMIN_SCOPE,
            "auth_time": event.auth_time,
            "exp": exp,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "username": sub,
        }
        return TokenSet(
            sub=sub,
            id_token=_sign(key, id_claims),
            access_token=_sign(key, access_claims),
            expires_in=self.ttl_seconds,
        )

    def verify_access_token(self, token: str, keys: KeyRing, now: datetime) -> dict[str, Any]:
        """Return the claims of a valid access token of this client; raise NotAuthorizedException otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise NotAuthorizedException("Invalid Access Token") from exc
        kid = header.get("kid")
        public_key = keys.public_key(kid) if isinstance(kid, str) else None
        if header.get("alg") != ALGORITHM or public_key is None:
            raise NotAuthorizedException("Invalid Access Token")

        try:
            # Expiry is checked below against the injected clock, not the system clock.
            claims = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={"verify_exp": False, "verify_iat": False, "verify_aud": False, "require": list(ACCESS_CLAIMS)},
            )
        except jwt.InvalidTokenError as exc:
            raise NotAuthorizedException("Invalid Access Token") from exc

        if claims.get("token_use") != "access" or claims.get("client_id") != self.client_id:
            raise NotAuthorizedException("Invalid Access Token")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
            raise NotAuthorizedException("Access Token has expired")
        return claims


def _sign(key: SigningKey, claims: dict[str, Any]) -> str:
    # Cognito's header has only kid and alg, so PyJWT's default "typ" is removed.
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": None})
