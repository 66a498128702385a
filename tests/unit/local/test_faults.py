"""The test-only fault hook: its state, its control endpoint, and where the edge and the Lambda runtime apply it."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from local.control import MAX_CONTROL_BODY_BYTES, ControlEndpoints, StackStatus
from local.edge import EdgeApp
from local.faults import FAULT_TIMEOUT_SECONDS, FaultError, Faults
from local.lambda_runtime import LambdaRuntime
from local.outbox import Outbox
from tests.unit.local.fixtures.runtime_support import ACCOUNT_ID, REGION, sample_function

SIGV4_SNS = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)
JWKS_PATH = "/us-east-1_LocalPool/.well-known/jwks.json"


class PassThroughApp:
    """A WSGI stand-in that counts the requests it served."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"passed"]


class StubCognito:
    def __init__(self) -> None:
        self.app = PassThroughApp()

    def handles(self, environ: dict[str, Any]) -> bool:
        return environ["PATH_INFO"].startswith("/us-east-1_LocalPool/.well-known/")

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return self.app(environ, start_response)


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def control(faults: Faults) -> Client:
    endpoints = ControlEndpoints(
        status=StackStatus(["edge"]), outputs=dict, outbox=Outbox(), signer=lambda: None, faults=faults
    )
    return Client(endpoints.wsgi_app)


@pytest.fixture
def moto() -> PassThroughApp:
    return PassThroughApp()


@pytest.fixture
def edge(faults: Faults, moto: PassThroughApp) -> EdgeApp:
    app = EdgeApp(control=PassThroughApp(), moto_app=moto, account_id=ACCOUNT_ID, faults=faults)
    app.cognito = StubCognito()
    return app


# --- state ---------------------------------------------------------------------


def test_faults_set_adds_to_existing(faults: Faults) -> None:
    faults.set({"lambda": {"survey-backend": "raise"}})
    snapshot = faults.set({"sns": "fail", "lambda": {"survey-frontend": "timeout"}})
    assert snapshot == {"lambda": {"survey-backend": "raise", "survey-frontend": "timeout"}, "sns": "fail"}
    assert faults.lambda_fault("survey-backend") == "raise"
    assert faults.sns_fails()
    assert not faults.jwks_unavailable()


def test_faults_clear_removes_every_fault(faults: Faults) -> None:
    faults.set({"lambda": {"survey-backend": "garbage"}, "sns": "fail", "jwks": "unavailable"})
    faults.clear()
    assert faults.snapshot() == {}
    assert faults.lambda_fault("survey-backend") is None
    assert not faults.sns_fails()
    assert not faults.jwks_unavailable()


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"disk": "full"},
        {"lambda": "raise"},
        {"lambda": {"survey-backend": "explode"}},
        {"sns": "slow"},
        {"jwks": "down"},
    ],
)
def test_faults_invalid_document_changes_nothing(faults: Faults, document: Any) -> None:
    faults.set({"sns": "fail"})
    with pytest.raises(FaultError):
        faults.set(document)
    assert faults.snapshot() == {"sns": "fail"}


def test_faults_set_logs_warning(faults: Faults, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="local.faults")
    faults.set({"lambda": {"survey-backend": "raise"}})
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "survey-backend" in caplog.records[0].getMessage()


# --- control endpoint --------------------------------------------------------------


def test_control_faults_round_trip(control: Client) -> None:
    posted = control.post("/_local/faults", json={"jwks": "unavailable"})
    assert posted.status_code == 200
    assert posted.json == {"faults": {"jwks": "unavailable"}}
    assert control.get("/_local/faults").json == {"faults": {"jwks": "unavailable"}}
    cleared = control.delete("/_local/faults")
    assert cleared.status_code == 200
    assert control.get("/_local/faults").json == {"faults": {}}


@pytest.mark.parametrize("body", [b"{", b"", json.dumps({"sns": "maybe"}).encode()])
def test_control_faults_invalid_body_is_bad_request(control: Client, body: bytes) -> None:
    response = control.post("/_local/faults", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"


def test_control_faults_large_body_is_rejected(control: Client) -> None:
    body = json.dumps({"lambda": {f"f{index}": "raise" for index in range(MAX_CONTROL_BODY_BYTES // 10)}})
    response = control.post("/_local/faults", data=body, content_type="application/json")
    assert response.status_code == 413
    assert control.get("/_local/faults").json == {"faults": {}}


def test_control_faults_wrong_method_lists_allowed(control: Client) -> None:
    response = control.put("/_local/faults")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, POST"


# --- edge ------------------------------------------------------------------------


def _publish(edge: EdgeApp) -> Any:
    return Client(edge).post(
        "/",
        data="Action=Publish&TopicArn=arn&Message=hello",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": SIGV4_SNS},
    )


def test_edge_sns_fault_fails_publish(edge: EdgeApp, faults: Faults, moto: PassThroughApp) -> None:
    faults.set({"sns": "fail"})
    response = _publish(edge)
    assert response.status_code == 500
    assert b"<Code>InternalError</Code>" in response.data
    assert moto.calls == 0


def test_edge_sns_fault_leaves_other_actions(edge: EdgeApp, faults: Faults, moto: PassThroughApp) -> None:
    faults.set({"sns": "fail"})
    response = Client(edge).post(
        "/", data="Action=ListTopics", content_type="application/x-www-form-urlencoded", headers={"Authorization": SIGV4_SNS}
    )
    assert response.status_code == 200
    assert moto.calls == 1


def test_edge_publish_passes_without_fault(edge: EdgeApp, moto: PassThroughApp) -> None:
    assert _publish(edge).status_code == 200
    assert moto.calls == 1


def test_edge_jwks_fault_is_503(edge: EdgeApp, faults: Faults) -> None:
    faults.set({"jwks": "unavailable"})
    assert Client(edge).get(JWKS_PATH).status_code == 503
    faults.clear()
    assert Client(edge).get(JWKS_PATH).status_code == 200


# --- Lambda runtime ------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime_faults() -> Faults:
    return Faults()


@pytest.fixture(scope="module")
def module_runtime(runtime_faults: Faults) -> Iterator[LambdaRuntime]:
    functions = [sample_function("echo", "handlers.echo", timeout_seconds=5.0)]
    lambda_runtime = LambdaRuntime(functions, region=REGION, account_id=ACCOUNT_ID, faults=runtime_faults)
    yield lambda_runtime
    lambda_runtime.stop()


@pytest.fixture
def runtime(module_runtime: LambdaRuntime, runtime_faults: Faults) -> Iterator[LambdaRuntime]:
    yield module_runtime
    runtime_faults.clear()


def _error_type(payload: bytes) -> str:
    return json.loads(payload)["errorType"]


def test_runtime_raise_fault_fails_invocation(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"echo": "raise"}})
    result = runtime.invoke("echo", b'{"a": 1}')
    assert result.function_error == "Unhandled"
    assert _error_type(result.payload) == "InjectedFault"


def test_runtime_garbage_fault_returns_non_json(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"echo": "garbage"}})
    result = runtime.invoke("echo", b"{}")
    assert result.function_error is None
    with pytest.raises(ValueError):
        json.loads(result.payload)


def test_runtime_timeout_fault_times_out_early(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"echo": "timeout"}})
    result = runtime.invoke("echo", b"{}")
    assert result.function_error == "Unhandled"
    assert _error_type(result.payload) == "Sandbox.Timedout"
    # The configured timeout is 5 s, and the fault's replaces it.
    assert f"after {FAULT_TIMEOUT_SECONDS:.2f} seconds" in json.loads(result.payload)["errorMessage"]


def test_runtime_crash_fault_loses_result(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"echo": "crash-after-handler"}})
    result = runtime.invoke("echo", b"{}")
    assert result.function_error == "Unhandled"
    assert _error_type(result.payload) == "Runtime.ExitError"


def test_runtime_recovers_after_clear(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"echo": "timeout"}})
    runtime.invoke("echo", b"{}")
    runtime_faults.clear()
    result = runtime.invoke("echo", b'{"a": 1}')
    assert result.function_error is None
    assert json.loads(result.payload)["event"] == {"a": 1}


def test_runtime_fault_of_other_function_ignored(runtime: LambdaRuntime, runtime_faults: Faults) -> None:
    runtime_faults.set({"lambda": {"survey-backend": "raise"}})
    result = runtime.invoke("echo", b"{}")
    assert result.function_error is None
