"""Serve the offline stack's local Cognito (the JWKS signer) on its own.

docker-compose runs this beside LocalStack's free edition, which has no
Cognito: the frontend function sends its cognito-idp calls here and fetches
the JWKS from here. Settings come from environment variables:

  SIGNER_ISSUER                 iss claim of the tokens; must end in /<SIGNER_USER_POOL_ID>
  SIGNER_USER_POOL_ID           user pool id, <region>_<id>
  SIGNER_CLIENT_ID              app client id the pool accepts
  SIGNER_HOST                   address to listen on (default 127.0.0.1)
  SIGNER_PORT                   port to listen on (default 4571)
  SIGNER_REQUIRE_CONFIRMATION   "true" to send a confirmation code at sign-up (default false)

Besides the Cognito API and `/<pool id>/.well-known/*`, it serves
`GET /_local/health` and `GET /_local/outbox` (the confirmation codes it "sent").
"""
from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import run_simple

from local.cognito import LocalCognito
from local.outbox import Outbox

logger = logging.getLogger("signer")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4571


class SettingsError(ValueError):
    """Missing or invalid environment variable. The message names it."""


@dataclass(frozen=True)
class SignerSettings:
    issuer: str
    user_pool_id: str
    client_id: str
    host: str
    port: int
    require_confirmation: bool

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SignerSettings:
        missing = [name for name in ("SIGNER_ISSUER", "SIGNER_USER_POOL_ID", "SIGNER_CLIENT_ID") if not environ.get(name)]
        if missing:
            raise SettingsError(f"Missing environment variables: {', '.join(missing)}.")
        issuer = environ["SIGNER_ISSUER"].rstrip("/")
        user_pool_id = environ["SIGNER_USER_POOL_ID"]
        # The pool serves its JWKS at /<pool id>/.well-known/jwks.json, which is <issuer>/.well-known/jwks.json
        # only when the issuer's path is /<pool id>.
        if not issuer.startswith(("http://", "https://")) or not issuer.endswith(f"/{user_pool_id}"):
            raise SettingsError(f"SIGNER_ISSUER must be an http(s) URL ending in /{user_pool_id}, got {issuer!r}.")
        port_text = environ.get("SIGNER_PORT", str(DEFAULT_PORT))
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise SettingsError(f"SIGNER_PORT must be a port number 1..65535, got {port_text!r}.")
        confirmation_text = environ.get("SIGNER_REQUIRE_CONFIRMATION", "false").lower()
        if confirmation_text not in ("true", "false"):
            raise SettingsError(f"SIGNER_REQUIRE_CONFIRMATION must be true or false, got {confirmation_text!r}.")
        return cls(
            issuer=issuer,
            user_pool_id=user_pool_id,
            client_id=environ["SIGNER_CLIENT_ID"],
            host=environ.get("SIGNER_HOST", DEFAULT_HOST),
            port=int(port_text),
            require_confirmation=confirmation_text == "true",
        )


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _json_response(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def create_app(cognito: LocalCognito, outbox: Outbox) -> WsgiApp:
    """Route Cognito requests to the pool and serve the two /_local/ endpoints."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if cognito.handles(environ):
            return cognito.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if method == "GET" and path == "/_local/health":
            return _json_response(start_response, "200 OK", {"status": "ready", "services": {"cognito-idp": "running"}})
        if method == "GET" and path == "/_local/outbox":
            return _json_response(start_response, "200 OK", {"messages": outbox.messages()})
        return _json_response(start_response, "404 Not Found", {"error": "not_found", "message": f"No route for {method} {path}."})

    return app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = SignerSettings.from_environment(os.environ)
    except SettingsError as exc:
        logger.error("%s", exc)
        return 2
    outbox = Outbox()
    cognito = LocalCognito(
        issuer=settings.issuer,
        user_pool_id=settings.user_pool_id,
        client_id=settings.client_id,
        outbox=outbox,
        require_confirmation=settings.require_confirmation,
    )
    logger.info("Serving the local signer on %s:%d", settings.host, settings.port)
    run_simple(settings.host, settings.port, create_app(cognito, outbox), threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
