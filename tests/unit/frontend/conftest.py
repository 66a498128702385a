"""Fixtures for the frontend unit tests: signing keys, a JWKS server on 127.0.0.1, stubbed AWS clients."""
from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import boto3
import jwt
import pytest
from botocore.stub import Stubber

from frontend_fn import app
from frontend_fn.backend import BackendClient
from frontend_fn.config import Settings
from frontend_fn.dependencies import Dependencies
from frontend_fn.templates import TemplateStore
from frontend_fn.tokens import JwksCache, TokenVerifier

from .helpers import BACKEND_FUNCTION, BUCKET, CLIENT_ID, REGION, USER_EMAIL, USER_POOL_ID, USER_SUB, FakeClock, JwksServer, SigningKey


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture(scope="session")
def second_key() -> SigningKey:
    return SigningKey("key-2")


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer()
    server.keys = [signing_key.jwk()]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_cache(jwks_server: JwksServer, clock: FakeClock) -> JwksCache:
    return JwksCache(jwks_server.url, clock=clock)


@pytest.fixture
def verifier(jwks_cache: JwksCache, jwks_server: JwksServer) -> TokenVerifier:
    return TokenVerifier(jwks_cache, issuer=jwks_server.issuer, client_id=CLIENT_ID)


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(signing_key: SigningKey, jwks_server: JwksServer) -> TokenFactory:
    """Sign a Cognito-shaped token; keyword arguments override claims (None removes one)."""

    def factory(
        token_use: str = "id",
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        algorithm: str = "RS256",
        signing_secret: Any = None,
        **claim_overrides: Any,
    ) -> str:
        key = key or signing_key
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": USER_SUB,
            "iss": jwks_server.issuer,
            "token_use": token_use,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        if token_use == "id":
            claims.update({"aud": CLIENT_ID, "email": USER_EMAIL, "email_verified": True, "cognito:username": USER_SUB})
        else:
            claims.update({"client_id": CLIENT_ID, "scope": "aws.cognito.signin.user.admin", "username": USER_SUB})
        for name, value in claim_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        secret = signing_secret if signing_secret is not None else key.private_key
        return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": key.kid, **(headers or {})})

    return factory


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no endpoint override, so no test can reach a real AWS account."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def settings(jwks_server: JwksServer) -> Settings:
    return Settings(
        backend_function_name=BACKEND_FUNCTION,
        templates_bucket=BUCKET,
        templates_prefix="templates/",
        user_pool_id=USER_POOL_ID,
        user_pool_client_id=CLIENT_ID,
        token_issuer=jwks_server.issuer,
        jwks_url=jwks_server.url,
        cors_allow_origin="https://surveys.example.com",
        backend_timeout_seconds=15.0,
    )


@pytest.fixture
def cognito() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cognito-idp", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture(scope="session")
def client_specs() -> dict[str, Any]:
    """Real boto3 clients, created once, that the fakes copy their attributes from."""
    return {name: boto3.client(name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
            for name in ("lambda", "s3")}


@pytest.fixture
def lambda_client(client_specs: dict[str, Any]) -> mock.Mock:
    """A fake Lambda client with the real client's attributes; each test sets `invoke`."""
    return mock.Mock(spec=client_specs["lambda"])


@pytest.fixture
def s3_client(client_specs: dict[str, Any]) -> mock.Mock:
    return mock.Mock(spec=client_specs["s3"])


@pytest.fixture
def deps(settings: Settings, verifier: TokenVerifier, cognito: tuple[Any, Stubber],
         lambda_client: mock.Mock, s3_client: mock.Mock, clock: FakeClock) -> Dependencies:
    return Dependencies(
        settings=settings,
        verifier=verifier,
        cognito=cognito[0],
        templates=TemplateStore(s3_client, BUCKET, "templates/", clock=clock),
        backend=BackendClient(lambda_client, BACKEND_FUNCTION),
    )


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Collect the function's JSON log lines, child loggers included."""
    stream = io.StringIO()
    handler = app.logger.logger_handler
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
