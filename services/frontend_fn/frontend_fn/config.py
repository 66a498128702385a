"""Settings of the frontend function, read from its environment variables."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# The backend's timeout in infra/stack.json (functions.backend.timeout_seconds).
DEFAULT_BACKEND_TIMEOUT_SECONDS = 15.0


class ConfigurationError(Exception):
    """A required environment variable is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    backend_function_name: str
    templates_bucket: str
    templates_prefix: str
    user_pool_id: str
    user_pool_client_id: str
    token_issuer: str
    jwks_url: str
    # Value of Access-Control-Allow-Origin on every response.
    cors_allow_origin: str
    backend_timeout_seconds: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raise ConfigurationError naming every missing variable."""
        env = os.environ if environ is None else environ
        required = (
            "BACKEND_FUNCTION_NAME",
            "TEMPLATES_BUCKET",
            "USER_POOL_CLIENT_ID",
            "TOKEN_ISSUER",
            "JWKS_URL",
        )
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            raise ConfigurationError(f"Missing environment variables: {', '.join(missing)}.")

        jwks_url = env["JWKS_URL"].strip()
        if urlsplit(jwks_url).scheme not in ("http", "https"):
            raise ConfigurationError(f"JWKS_URL must be an http or https URL, got scheme of {jwks_url!r}.")

        timeout_text = env.get("BACKEND_TIMEOUT_SECONDS", "").strip()
        try:
            backend_timeout = float(timeout_text) if timeout_text else DEFAULT_BACKEND_TIMEOUT_SECONDS
        except ValueError as exc:
            raise ConfigurationError(f"BACKEND_TIMEOUT_SECONDS must be a number of seconds, got {timeout_text!r}.") from exc
        if not 0 < backend_timeout <= 900:
            raise ConfigurationError(f"BACKEND_TIMEOUT_SECONDS must be in 0..900 (Lambda's limit), got {timeout_text!r}.")

        return cls(
            backend_function_name=env["BACKEND_FUNCTION_NAME"].strip(),
            templates_bucket=env["TEMPLATES_BUCKET"].strip(),
            templates_prefix=env.get("TEMPLATES_PREFIX", "").strip() or "templates/",
            user_pool_id=env.get("USER_POOL_ID", "").strip(),
            user_pool_client_id=env["USER_POOL_CLIENT_ID"].strip(),
            token_issuer=env["TOKEN_ISSUER"].strip(),
            jwks_url=jwks_url,
            cors_allow_origin=env.get("CORS_ALLOW_ORIGIN", "").strip() or "*",
            backend_timeout_seconds=backend_timeout,
        )
