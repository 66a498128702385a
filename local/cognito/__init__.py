"""The offline stack's Cognito: one user pool that signs RS256 tokens and publishes its JWKS.

It serves the subset of the Cognito Identity Provider API that the frontend
function, the CLI and the tests call (see `CognitoResponses` for the list), on
the edge endpoint, and fails loudly on any other action.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from local.cognito.models import UserPool, new_confirmation_code, utc_now
from local.cognito.responses import CognitoResponses
from local.cognito.throttling import RequestRateLimiter
from local.outbox import Outbox

__all__ = ["LocalCognito"]

logger = logging.getLogger(__name__)


class LocalCognito:
    """The local user pool with its wire protocol, as the edge and the control endpoints use it.

    `id_token_ttl_seconds` sets the lifetime of both ID and access tokens, as this
    project's app client gives both 60 minutes. `max_requests_per_second`, when
    set, makes each action return TooManyRequestsException above that rate.
    """

    def __init__(
        self,
        *,
        issuer: str,
        user_pool_id: str,
        client_id: str,
        outbox: Outbox,
        require_confirmation: bool = False,
        clock: Callable[[], datetime] = utc_now,
        id_token_ttl_seconds: int = 3600,
        code_generator: Callable[[], str] = new_confirmation_code,
        max_requests_per_second: float | None = None,
    ) -> None:
        self.pool = UserPool(
            issuer=issuer,
            user_pool_id=user_pool_id,
            client_id=client_id,
            outbox=outbox,
            require_confirmation=require_confirmation,
            clock=clock,
            token_ttl_seconds=id_token_ttl_seconds,
            code_generator=code_generator,
        )
        limiter = RequestRateLimiter(max_requests_per_second, clock) if max_requests_per_second is not None else None
        self._responses = CognitoResponses(self.pool, limiter=limiter)
        logger.info(
            "Local Cognito user pool %s started: issuer %s, JWKS %s, sign-up %s",
            user_pool_id,
            issuer,
            self.jwks_url,
            "requires a confirmation code" if require_confirmation else "confirms at once",
        )

    @property
    def issuer(self) -> str:
        return self.pool.issuer

    @property
    def jwks_url(self) -> str:
        return f"{self.pool.issuer}/.well-known/jwks.json"

    def handles(self, environ: dict[str, Any]) -> bool:
        """Tell whether a request is for this pool: a Cognito X-Amz-Target or `/<pool id>/.well-known/*`."""
        return self._responses.handles(environ)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._responses.wsgi_app(environ, start_response)

    def rotate_keys(self) -> str:
        """Make a new key sign from now on and return its kid; the old key stays in the JWKS."""
        kid = self.pool.rotate_keys()
        logger.info("Signing key rotated: kid %s signs new tokens", kid)
        return kid

    def drop_retired_keys(self) -> list[str]:
        """Remove every key but the active one from the JWKS and return their kids."""
        dropped = self.pool.drop_retired_keys()
        logger.info("Dropped %d retired signing keys from the JWKS: %s", len(dropped), ", ".join(dropped) or "-")
        return dropped

    def issue_tokens(self, email: str) -> dict[str, Any]:
        """Return an AuthenticationResult (with a refresh token) for a confirmed user, without a password."""
        tokens = self.pool.issue_tokens(email)
        logger.info("Issued tokens without a password for user %s", tokens.sub)
        return tokens.authentication_result()

    def export_state(self) -> dict[str, Any]:
        """Return every user, password hash, pending code, refresh token hash and key (PEM) as JSON-able data."""
        return self.pool.export_state()

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the pool's state with one from `export_state`."""
        self.pool.import_state(state)
        logger.info(
            "Imported Cognito state: %d users, signing kid %s", len(state.get("users", [])), self.pool.active_kid()
        )
