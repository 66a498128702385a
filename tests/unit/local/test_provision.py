"""Provisioning of the stack's resources, against moto's in-process mock."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.names import StackNames
from local.provision import WebsiteSettings, content_type_for, provision

WEBSITE = WebsiteSettings(api_url="http://127.0.0.1:4600/restapis/abc/v1/_user_request_", user_pool_client_id="client", signup_requires_code=True)


@pytest.fixture
def clients() -> Iterator[object]:
    with mock_aws():
        cache: dict[str, object] = {}

        def client(service: str) -> object:
            if service not in cache:
                cache[service] = boto3.client(
                    service, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
                )
            return cache[service]

        yield client


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    (web / "js").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>Surveys</title>")
    (web / "js" / "app.js").write_text("console.log('hi');")
    (web / "config.json").write_text('{"api_url": "stale"}')
    (web / ".DS_Store").write_text("junk")
    return web


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "event-feedback.json").write_text('{"title": "Event feedback"}')
    (templates / "notes.txt").write_text("not a template")
    return templates


def _provision(clients, names: StackNames, web_dir: Path, templates_dir: Path, lines: list[str] | None = None):
    return provision(
        clients,
        names,
        website=WEBSITE,
        notification_email="ops@example.com",
        web_dir=web_dir,
        templates_dir=templates_dir,
        progress=(lines.append if lines is not None else lambda line: None),
    )


def test_provision_creates_tables_with_keys(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    _provision(clients, names, web_dir, templates_dir)
    table = clients("dynamodb").describe_table(TableName="survey-surveys")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "survey_id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "owner-created-index"
    responses = clients("dynamodb").describe_table(TableName="survey-responses")["Table"]
    assert [key["AttributeName"] for key in responses["KeySchema"]] == ["survey_id", "item_key"]


def test_provision_is_idempotent(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    first = _provision(clients, names, web_dir, templates_dir)
    second = _provision(clients, names, web_dir, templates_dir)
    assert first.tables_created == ["survey-surveys", "survey-responses"]
    assert second.tables_created == []
    assert second.buckets_created == []
    assert second.roles_created == []
    subscriptions = clients("sns").list_subscriptions()["Subscriptions"]
    assert len(subscriptions) == 1


def test_provision_public_bucket_is_website(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    _provision(clients, names, web_dir, templates_dir)
    s3 = clients("s3")
    assert s3.get_bucket_website(Bucket=names.public_bucket)["IndexDocument"] == {"Suffix": "index.html"}
    policy = json.loads(s3.get_bucket_policy(Bucket=names.public_bucket)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == f"arn:aws:s3:::{names.public_bucket}/*"


def test_provision_private_bucket_is_locked(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    _provision(clients, names, web_dir, templates_dir)
    s3 = clients("s3")
    block = s3.get_public_access_block(Bucket=names.private_bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=names.private_bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=names.private_bucket)["Status"] == "Enabled"


def test_provision_uploads_templates(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    result = _provision(clients, names, web_dir, templates_dir)
    assert result.templates_uploaded == ["templates/event-feedback.json"]
    body = clients("s3").get_object(Bucket=names.private_bucket, Key="templates/event-feedback.json")["Body"].read()
    assert json.loads(body) == {"title": "Event feedback"}


def test_provision_empty_templates_folder(clients, web_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-templates"
    empty.mkdir()
    result = _provision(clients, StackNames(), web_dir, empty)
    assert result.templates_uploaded == []


def test_provision_missing_templates_folder(clients, web_dir: Path, tmp_path: Path) -> None:
    result = _provision(clients, StackNames(), web_dir, tmp_path / "absent")
    assert result.templates_uploaded == []


def test_provision_uploads_web_files_with_types(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    result = _provision(clients, names, web_dir, templates_dir)
    assert result.web_files_uploaded == ["index.html", "js/app.js", "config.json"]
    s3 = clients("s3")
    assert s3.head_object(Bucket=names.public_bucket, Key="index.html")["ContentType"] == "text/html; charset=utf-8"
    assert s3.head_object(Bucket=names.public_bucket, Key="js/app.js")["ContentType"] == "text/javascript; charset=utf-8"


def test_provision_generates_config_json(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    _provision(clients, names, web_dir, templates_dir)
    stored = clients("s3").get_object(Bucket=names.public_bucket, Key="config.json")
    assert stored["ContentType"] == "application/json"
    assert json.loads(stored["Body"].read()) == {
        "api_url": WEBSITE.api_url,
        "user_pool_client_id": "client",
        "signup_requires_code": True,
    }


def test_provision_subscribes_notification_email(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames()
    _provision(clients, names, web_dir, templates_dir)
    subscriptions = clients("sns").list_subscriptions_by_topic(TopicArn=names.topic_arn)["Subscriptions"]
    assert [(item["Protocol"], item["Endpoint"]) for item in subscriptions] == [("email", "ops@example.com")]


def test_provision_creates_function_roles(clients, web_dir: Path, templates_dir: Path) -> None:
    _provision(clients, StackNames(), web_dir, templates_dir)
    role = clients("iam").get_role(RoleName="survey-backend-role")["Role"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "lambda.amazonaws.com"}


def test_provision_other_region_and_prefix(clients, web_dir: Path, templates_dir: Path) -> None:
    names = StackNames(prefix="demo", region="eu-west-1")
    eu_clients_cache: dict[str, object] = {}

    def eu_clients(service: str) -> object:
        if service not in eu_clients_cache:
            eu_clients_cache[service] = boto3.client(
                service, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
            )
        return eu_clients_cache[service]

    _provision(eu_clients, names, web_dir, templates_dir)
    location = eu_clients("s3").get_bucket_location(Bucket="demo-web-123456789012")["LocationConstraint"]
    assert location == "eu-west-1"


def test_provision_prints_progress(clients, web_dir: Path, templates_dir: Path) -> None:
    lines: list[str] = []
    _provision(clients, StackNames(), web_dir, templates_dir, lines)
    assert lines[0] == "DynamoDB tables: survey-surveys, survey-responses"
    assert len(lines) == 5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("app.JS", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("photo.png", "image/png"),
        ("blob.unknownext", "application/octet-stream"),
    ],
)
def test_content_type_for(name: str, expected: str) -> None:
    assert content_type_for(Path(name)) == expected
