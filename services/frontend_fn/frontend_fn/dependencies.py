"""The clients and caches a warm container reuses across invocations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from frontend_fn.backend import BackendClient
from frontend_fn.config import Settings
from frontend_fn.templates import TemplateStore
from frontend_fn.tokens import JwksCache, TokenVerifier

# The read timeout exceeds the backend's own timeout by this much, so the
# backend's response (or its timeout error) arrives before the client gives up.
BACKEND_READ_TIMEOUT_MARGIN_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass
class Dependencies:
    settings: Settings
    verifier: TokenVerifier
    # boto3 clients; tests pass clients wrapped in botocore Stubbers or fakes.
    cognito: Any
    templates: TemplateStore
    backend: BackendClient


def backend_client_config(settings: Settings) -> Config:
    """Return the Lambda client settings: one attempt, because a retried submission could be stored twice."""
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=settings.backend_timeout_seconds + BACKEND_READ_TIMEOUT_MARGIN_SECONDS,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def build_dependencies(settings: Settings) -> Dependencies:
    """Create the AWS clients; boto3 reads the region and AWS_ENDPOINT_URL from the environment."""
    jwks = JwksCache(settings.jwks_url)
    return Dependencies(
        settings=settings,
        verifier=TokenVerifier(jwks, issuer=settings.token_issuer, client_id=settings.user_pool_client_id),
        cognito=boto3.client("cognito-idp"),
        templates=TemplateStore(boto3.client("s3"), settings.templates_bucket, settings.templates_prefix),
        backend=BackendClient(boto3.client("lambda", config=backend_client_config(settings)), settings.backend_function_name),
    )
