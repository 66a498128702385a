"""`python -m local up` as a subprocess, with the real runtime, API proxy and local Cognito.

One stack starts on free loopback ports for the module and stops with SIGINT, as Ctrl-C
would stop it. The signal tests start stacks of their own.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from local.names import REPO_ROOT

START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningStack:
    process: subprocess.Popen
    edge_url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _start(tmp_path: Path, *extra: str) -> RunningStack:
    port, web_port = free_port(), free_port()
    log_path = tmp_path / f"stack-{port}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "up", "--port", str(port), "--web-port", str(web_port), *extra],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return RunningStack(process, f"http://127.0.0.1:{port}", port, log_path)


def _wait_ready(stack: RunningStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"the stack exited with code {stack.process.returncode}:\n{stack.log()}")
        try:
            if requests.get(f"{stack.edge_url}/_local/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the stack was not ready after {START_TIMEOUT_SECONDS} s:\n{stack.log()}")


def _stop(stack: RunningStack, signal_number: int = signal.SIGINT) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal_number)
        try:
            stack.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait(timeout=5)
    return stack.process.returncode


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = _start(tmp_path_factory.mktemp("up"), "--notification-email", "ops@example.com")
    try:
        _wait_ready(running)
        yield running
    finally:
        _stop(running)


@pytest.fixture(scope="module")
def outputs(stack: RunningStack) -> dict[str, str]:
    return requests.get(f"{stack.edge_url}/_local/outputs", timeout=10).json()


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def test_up_outputs_complete(outputs: dict[str, str], stack: RunningStack) -> None:
    expected = {
        "api_url", "website_url", "user_pool_id", "user_pool_client_id", "jwks_url", "token_issuer",
        "surveys_table", "responses_table", "notifications_topic_arn", "public_bucket", "private_bucket",
        "aws_endpoint_url", "region", "frontend_function_name", "backend_function_name",
    }
    assert expected <= set(outputs)
    assert outputs["aws_endpoint_url"] == stack.edge_url


def test_up_prints_ready_line(stack: RunningStack) -> None:
    assert "Ready in " in stack.log()


def test_up_website_serves_index(outputs: dict[str, str]) -> None:
    response = requests.get(f"{outputs['website_url']}/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_up_dynamodb_tables(outputs: dict[str, str], session: boto3.Session) -> None:
    tables = session.client("dynamodb", endpoint_url=outputs["aws_endpoint_url"]).list_tables()["TableNames"]
    assert outputs["surveys_table"] in tables
    assert outputs["responses_table"] in tables


def test_up_s3_templates(outputs: dict[str, str], session: boto3.Session) -> None:
    s3 = session.client("s3", endpoint_url=outputs["aws_endpoint_url"])
    listing = s3.list_objects_v2(Bucket=outputs["private_bucket"], Prefix="templates/")
    expected = sorted(f"templates/{path.name}" for path in (REPO_ROOT / "infra" / "templates").glob("*.json"))
    assert sorted(item["Key"] for item in listing.get("Contents", [])) == expected


def test_up_sns_publish_reaches_outbox(outputs: dict[str, str], session: boto3.Session, stack: RunningStack) -> None:
    sns = session.client("sns", endpoint_url=outputs["aws_endpoint_url"])
    sns.publish(TopicArn=outputs["notifications_topic_arn"], Message="check", Subject="Edge test")
    messages = requests.get(f"{stack.edge_url}/_local/outbox", timeout=10).json()["messages"]
    delivered = [message for message in messages if message["subject"] == "Edge test"]
    assert [message["to"] for message in delivered] == ["ops@example.com"]


def test_up_lambda_invoke(outputs: dict[str, str], session: boto3.Session) -> None:
    client = session.client("lambda", endpoint_url=outputs["aws_endpoint_url"])
    result = client.invoke(FunctionName=outputs["backend_function_name"], Payload=b'{"action": "no_such_action", "caller": null, "args": {}}')
    assert result["StatusCode"] == 200


def test_up_cognito_sign_up_and_jwks(outputs: dict[str, str], session: boto3.Session) -> None:
    client = session.client("cognito-idp", endpoint_url=outputs["aws_endpoint_url"])
    result = client.sign_up(ClientId=outputs["user_pool_client_id"], Username="edge@example.com", Password="Edge-test-9x")
    assert result["UserConfirmed"] is True
    jwks = requests.get(outputs["jwks_url"], timeout=10).json()
    assert jwks["keys"]


def test_up_sts_identity(outputs: dict[str, str], session: boto3.Session) -> None:
    identity = session.client("sts", endpoint_url=outputs["aws_endpoint_url"]).get_caller_identity()
    assert identity["Account"] == "123456789012"


def test_up_busy_port_exits_1(stack: RunningStack, tmp_path: Path) -> None:
    log_path = tmp_path / "second.log"
    with log_path.open("w") as log_file:
        result = subprocess.run(
            [sys.executable, "-m", "local", "up", "--port", str(stack.port), "--web-port", str(free_port())],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {stack.port} (edge) is already in use" in log_path.read_text()


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_up_signal_stops_cleanly(tmp_path: Path, signal_number: int) -> None:
    running = _start(tmp_path)
    try:
        _wait_ready(running)
    finally:
        code = _stop(running, signal_number)
    assert code == 0
    assert running.log().rstrip().endswith("Stopped")
