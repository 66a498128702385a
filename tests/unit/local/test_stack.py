"""The whole offline stack in-process, with stand-ins for the runtime, API proxy and signer.

The edge, moto, provisioning and the website are real, and boto3 and HTTP clients talk
to them over loopback sockets on free ports.
"""
from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from local.config import StackConfig
from local.outbox import Outbox
from local.stack import OfflineStack, StackStartError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_port_free(port: int) -> None:
    """Fail unless a new server could listen on the port (SO_REUSEADDR, as servers set it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen(1)


class StubCognito:
    def __init__(self, config: StackConfig, outbox: Outbox) -> None:
        self.pool_path = f"/{config.user_pool_id}/.well-known/"

    def handles(self, environ: dict[str, Any]) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        return target.startswith("AWSCognitoIdentityProviderService.") or environ["PATH_INFO"].startswith(self.pool_path)

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"keys": []}']

    def rotate_keys(self) -> str:
        return "kid-2"

    def drop_retired_keys(self) -> list[str]:
        return ["kid-1"]


class StubRuntime:
    instances: list[StubRuntime] = []

    def __init__(self, config: StackConfig, names: Any) -> None:
        self.started = False
        self.stopped = False
        StubRuntime.instances.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"from": "runtime"}']


class StubApiProxy:
    def __init__(self, runtime: StubRuntime, config: StackConfig, names: Any) -> None:
        self.runtime = runtime

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"from": "api"}']


@pytest.fixture(scope="module")
def repo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "web" / "docs").mkdir(parents=True)
    (root / "web" / "index.html").write_text("<!doctype html><title>Fixture site</title>")
    (root / "web" / "docs" / "index.html").write_text("<!doctype html><title>Docs</title>")
    (root / "infra" / "templates").mkdir(parents=True)
    (root / "infra" / "templates" / "quick-poll.json").write_text('{"title": "Quick poll"}')
    return root


def _make_stack(repo_root: Path, out: io.StringIO, **overrides: Any) -> OfflineStack:
    config = StackConfig(port=free_port(), web_port=free_port(), repo_root=repo_root, **overrides)
    return OfflineStack(
        config,
        out=out,
        cognito_factory=StubCognito,
        runtime_factory=StubRuntime,
        api_proxy_factory=StubApiProxy,
    )


@pytest.fixture(scope="module")
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def stack(repo_root: Path, output: io.StringIO) -> Iterator[OfflineStack]:
    with _make_stack(repo_root, output, notification_email="ops@example.com") as running:
        yield running


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def _client(session: boto3.Session, stack: OfflineStack, service: str, **config: Any) -> Any:
    return session.client(service, endpoint_url=stack.config.edge_url, config=Config(**config) if config else None)


def test_stack_health_ready(stack: OfflineStack) -> None:
    response = requests.get(f"{stack.config.edge_url}/_local/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["services"].values()) == {"running"}


def test_stack_prints_urls_and_ready_line(stack: OfflineStack, output: io.StringIO) -> None:
    lines = output.getvalue().splitlines()
    assert f"API        {stack.outputs()['api_url']}" in lines
    assert f"Website    {stack.config.website_url}/" in lines
    assert lines[-1].startswith("Ready in ")


def test_stack_outputs_are_flat_strings(stack: OfflineStack) -> None:
    outputs = requests.get(f"{stack.config.edge_url}/_local/outputs", timeout=10).json()
    assert outputs["surveys_table"] == "survey-surveys"
    assert outputs["aws_endpoint_url"] == stack.config.edge_url
    assert all(isinstance(value, str) for value in outputs.values())


def test_stack_dynamodb_list_tables(stack: OfflineStack, session: boto3.Session) -> None:
    tables = _client(session, stack, "dynamodb").list_tables()["TableNames"]
    assert set(tables) == {"survey-surveys", "survey-responses"}


def test_stack_s3_path_style(stack: OfflineStack, session: boto3.Session) -> None:
    s3 = _client(session, stack, "s3", s3={"addressing_style": "path"})
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=stack.names.private_bucket)["Contents"]]
    assert keys == ["templates/quick-poll.json"]


def test_stack_s3_virtual_host_style(stack: OfflineStack) -> None:
    # Sent to 127.0.0.1 with the virtual host in the Host header, so no name needs resolving.
    response = requests.get(
        f"{stack.config.edge_url}/index.html",
        headers={"Host": f"{stack.names.public_bucket}.localhost:{stack.config.port}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert b"Fixture site" in response.content


def test_stack_s3_put_and_get_object(stack: OfflineStack, session: boto3.Session) -> None:
    s3 = _client(session, stack, "s3")
    s3.put_object(Bucket=stack.names.private_bucket, Key="exports/a.csv", Body=b"a,b\r\n", Metadata={"run_id": "7"})
    stored = s3.get_object(Bucket=stack.names.private_bucket, Key="exports/a.csv")
    assert stored["Body"].read() == b"a,b\r\n"
    assert stored["Metadata"] == {"run_id": "7"}


def test_stack_sns_publish_lands_in_outbox(stack: OfflineStack, session: boto3.Session) -> None:
    _client(session, stack, "sns").publish(TopicArn=stack.names.topic_arn, Message='{"event": "survey.deleted"}', Subject="Survey deleted: Lunch")
    messages = requests.get(f"{stack.config.edge_url}/_local/outbox", timeout=10).json()["messages"]
    assert messages[-1]["to"] == "ops@example.com"
    assert messages[-1]["subject"] == "Survey deleted: Lunch"
    assert messages[-1]["body"] == '{"event": "survey.deleted"}'


def test_stack_sts_account(stack: OfflineStack, session: boto3.Session) -> None:
    assert _client(session, stack, "sts").get_caller_identity()["Account"] == "123456789012"


def test_stack_iam_roles(stack: OfflineStack, session: boto3.Session) -> None:
    role = _client(session, stack, "iam").get_role(RoleName="survey-frontend-role")["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/survey-frontend-role"


def test_stack_lambda_path_goes_to_runtime(stack: OfflineStack) -> None:
    response = requests.post(f"{stack.config.edge_url}/2015-03-31/functions/survey-backend/invocations", data=b"{}", timeout=10)
    assert response.json() == {"from": "runtime"}


def test_stack_api_path_goes_to_proxy(stack: OfflineStack) -> None:
    response = requests.get(f"{stack.outputs()['api_url']}/surveys", timeout=10)
    assert response.json() == {"from": "api"}


def test_stack_jwks_goes_to_signer(stack: OfflineStack) -> None:
    assert requests.get(stack.outputs()["jwks_url"], timeout=10).json() == {"keys": []}


def test_stack_signer_rotate(stack: OfflineStack) -> None:
    assert requests.post(f"{stack.config.edge_url}/_local/signer/rotate", timeout=10).json() == {"kid": "kid-2"}


def test_stack_website_index_and_config(stack: OfflineStack) -> None:
    index = requests.get(f"{stack.config.website_url}/", timeout=10)
    assert index.status_code == 200
    assert index.headers["Content-Security-Policy"].startswith("default-src 'self'")
    config = requests.get(f"{stack.config.website_url}/config.json", timeout=10).json()
    assert config == {
        "api_url": stack.outputs()["api_url"],
        "user_pool_client_id": stack.config.user_pool_client_id,
        "signup_requires_code": False,
    }


def test_stack_website_folder(stack: OfflineStack) -> None:
    assert b"Docs" in requests.get(f"{stack.config.website_url}/docs/", timeout=10).content


def test_stack_busy_port_fails_fast(repo_root: Path, stack: OfflineStack) -> None:
    config = StackConfig(port=stack.config.port, web_port=free_port(), repo_root=repo_root)
    second = OfflineStack(config, out=io.StringIO(), cognito_factory=StubCognito, runtime_factory=StubRuntime, api_proxy_factory=StubApiProxy)
    with pytest.raises(StackStartError, match=f"Port {stack.config.port} \\(edge\\) is already in use"):
        second.start()


def test_stack_busy_web_port_releases_edge_port(repo_root: Path, stack: OfflineStack) -> None:
    edge_port = free_port()
    config = StackConfig(port=edge_port, web_port=stack.config.web_port, repo_root=repo_root)
    second = OfflineStack(config, out=io.StringIO(), cognito_factory=StubCognito, runtime_factory=StubRuntime, api_proxy_factory=StubApiProxy)
    with pytest.raises(StackStartError, match="--web-port"):
        second.start()
    assert_port_free(edge_port)


def test_stack_stop_closes_ports_and_runtime(repo_root: Path) -> None:
    stack = _make_stack(repo_root, io.StringIO())
    stack.start()
    runtime = StubRuntime.instances[-1]
    stack.stop()
    stack.stop()
    assert runtime.stopped is True
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.config.edge_url}/_local/health", timeout=5)


def test_stack_failed_part_stops_everything(repo_root: Path) -> None:
    def broken_runtime(config: StackConfig, names: Any) -> StubRuntime:
        raise RuntimeError("worker could not start")

    config = StackConfig(port=free_port(), web_port=free_port(), repo_root=repo_root)
    stack = OfflineStack(config, out=io.StringIO(), cognito_factory=StubCognito, runtime_factory=broken_runtime, api_proxy_factory=StubApiProxy)
    with pytest.raises(StackStartError, match="worker could not start"):
        stack.start()
    assert_port_free(config.port)
    assert stack.status.snapshot()["lambda"] == "failed"


def test_stack_other_account_id(repo_root: Path, session: boto3.Session) -> None:
    with _make_stack(repo_root, io.StringIO(), account_id="000000000042", prefix="other") as other:
        sts = _client(session, other, "sts")
        assert sts.get_caller_identity()["Account"] == "000000000042"
        topics = [topic["TopicArn"] for topic in _client(session, other, "sns").list_topics()["Topics"]]
        assert topics == ["arn:aws:sns:us-east-1:000000000042:other-notifications"]
        buckets = {bucket["Name"] for bucket in _client(session, other, "s3").list_buckets()["Buckets"]}
        assert buckets == {"other-web-000000000042", "other-private-000000000042"}


def test_stack_unusable_data_dir_is_one_line(repo_root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = StackConfig(port=free_port(), web_port=free_port(), repo_root=repo_root, data_dir=blocker / "state")
    stack = OfflineStack(config, out=io.StringIO(), cognito_factory=StubCognito, runtime_factory=StubRuntime, api_proxy_factory=StubApiProxy)
    with pytest.raises(StackStartError, match="Cannot use the data folder") as raised:
        stack.start()
    assert "--data-dir" in str(raised.value)
    assert_port_free(config.port)
