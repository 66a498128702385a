"""The `/_local/*` control endpoints."""
from __future__ import annotations

import pytest
from werkzeug.test import Client

from local.control import FAILED, RUNNING, ControlEndpoints, StackStatus
from local.outbox import Outbox


class StubSigner:
    def __init__(self) -> None:
        self.rotations = 0

    def rotate_keys(self) -> str:
        self.rotations += 1
        return f"kid-{self.rotations + 1}"

    def drop_retired_keys(self) -> list[str]:
        return ["kid-1"]


@pytest.fixture
def status() -> StackStatus:
    return StackStatus(["edge", "lambda"])


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def signer() -> StubSigner:
    return StubSigner()


@pytest.fixture
def client(status: StackStatus, outbox: Outbox, signer: StubSigner) -> Client:
    endpoints = ControlEndpoints(
        status=status, outputs=lambda: {"api_url": "http://127.0.0.1:4600/x"}, outbox=outbox, signer=lambda: signer
    )
    return Client(endpoints.wsgi_app)


def test_health_starting_is_503(client: Client, status: StackStatus) -> None:
    status.set("edge", RUNNING)
    response = client.get("/_local/health")
    assert response.status_code == 503
    assert response.json == {"status": "starting", "services": {"edge": "running", "lambda": "starting"}}


def test_health_ready_when_all_running(client: Client, status: StackStatus) -> None:
    status.set("edge", RUNNING)
    status.set("lambda", RUNNING)
    response = client.get("/_local/health")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "services": {"edge": "running", "lambda": "running"}}


def test_health_failed_part(client: Client, status: StackStatus) -> None:
    status.set("lambda", FAILED)
    assert client.get("/_local/health").json["status"] == "failed"


def test_outputs_returned(client: Client) -> None:
    response = client.get("/_local/outputs")
    assert response.status_code == 200
    assert response.json == {"api_url": "http://127.0.0.1:4600/x"}


def test_outbox_oldest_first(client: Client, outbox: Outbox) -> None:
    outbox.add("a@example.com", "first", "1", "sns")
    outbox.add("b@example.com", "second", "2", "cognito-idp")
    messages = client.get("/_local/outbox").json["messages"]
    assert [message["subject"] for message in messages] == ["first", "second"]


def test_signer_rotate(client: Client, signer: StubSigner) -> None:
    response = client.post("/_local/signer/rotate")
    assert response.json == {"kid": "kid-2"}
    assert signer.rotations == 1


def test_signer_drop_retired(client: Client) -> None:
    assert client.post("/_local/signer/drop-retired").json == {"dropped": ["kid-1"]}


def test_signer_missing_is_503(status: StackStatus, outbox: Outbox) -> None:
    endpoints = ControlEndpoints(status=status, outputs=dict, outbox=outbox, signer=lambda: None)
    response = Client(endpoints.wsgi_app).post("/_local/signer/rotate")
    assert response.status_code == 503
    assert response.json["error"] == "service_unavailable"


def test_unknown_endpoint_is_404_json(client: Client) -> None:
    response = client.get("/_local/nothing")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_wrong_method_is_405(client: Client) -> None:
    response = client.get("/_local/signer/rotate")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json["error"] == "method_not_allowed"


def test_trailing_slash_accepted(client: Client) -> None:
    assert client.get("/_local/outputs/").status_code == 200
