"""docker/signer/serve.py: settings from the environment and the WSGI routes, without a server."""
from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest
from werkzeug.test import Client

from local.cognito import LocalCognito
from local.outbox import Outbox
from tests.infra.terraform_config import REPO_ROOT

POOL_ID = "us-east-1_LocalPool"
CLIENT_ID = "localsignerwebclient000001"
ISSUER = f"http://signer:4571/{POOL_ID}"
VALID_ENVIRONMENT = {"SIGNER_ISSUER": ISSUER, "SIGNER_USER_POOL_ID": POOL_ID, "SIGNER_CLIENT_ID": CLIENT_ID}


@pytest.fixture(scope="module")
def serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("signer_serve", REPO_ROOT / "docker" / "signer" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is created.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(serve: ModuleType) -> Client:
    outbox = Outbox()
    cognito = LocalCognito(issuer=ISSUER, user_pool_id=POOL_ID, client_id=CLIENT_ID, outbox=outbox, require_confirmation=True)
    return Client(serve.create_app(cognito, outbox))


def test_settings_defaults(serve: ModuleType) -> None:
    settings = serve.SignerSettings.from_environment(VALID_ENVIRONMENT)
    assert settings.host == "127.0.0.1"
    assert settings.port == 4571
    assert settings.require_confirmation is False


def test_settings_missing_variables_named(serve: ModuleType) -> None:
    with pytest.raises(serve.SettingsError, match="SIGNER_CLIENT_ID"):
        serve.SignerSettings.from_environment({"SIGNER_ISSUER": ISSUER, "SIGNER_USER_POOL_ID": POOL_ID})


def test_settings_issuer_must_end_in_pool_id(serve: ModuleType) -> None:
    with pytest.raises(serve.SettingsError, match="SIGNER_ISSUER"):
        serve.SignerSettings.from_environment({**VALID_ENVIRONMENT, "SIGNER_ISSUER": "http://signer:4571/other"})


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_settings_invalid_port_rejected(serve: ModuleType, port: str) -> None:
    with pytest.raises(serve.SettingsError, match="SIGNER_PORT"):
        serve.SignerSettings.from_environment({**VALID_ENVIRONMENT, "SIGNER_PORT": port})


def test_settings_invalid_confirmation_flag_rejected(serve: ModuleType) -> None:
    with pytest.raises(serve.SettingsError, match="SIGNER_REQUIRE_CONFIRMATION"):
        serve.SignerSettings.from_environment({**VALID_ENVIRONMENT, "SIGNER_REQUIRE_CONFIRMATION": "yes"})


def test_health_ready(client: Client) -> None:
    response = client.get("/_local/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_jwks_served_at_issuer_path(client: Client) -> None:
    response = client.get(f"/{POOL_ID}/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.get_json()["keys"]


def test_sign_up_code_lands_in_outbox(client: Client) -> None:
    response = client.post(
        "/",
        data=json.dumps({"ClientId": CLIENT_ID, "Username": "owner@example.com", "Password": "Passw0rdX"}),
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert response.status_code == 200
    messages = client.get("/_local/outbox").get_json()["messages"]
    assert [message["to"] for message in messages] == ["owner@example.com"]


def test_unknown_path_not_found(client: Client) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
