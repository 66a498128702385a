"""The offline stack's control endpoints."""
from __future__ import annotations

import boto3
import pytest
import requests

from tests.support.stack import StackUnderTest

OUTPUT_NAMES = {
    "api_url", "website_url", "user_pool_id", "user_pool_client_id", "jwks_url", "token_issuer",
    "surveys_table", "responses_table", "notifications_topic_arn", "public_bucket", "private_bucket",
    "aws_endpoint_url",
}


@pytest.fixture
def edge_url(stack: StackUnderTest) -> str:
    if not stack.is_offline:
        pytest.skip("control endpoints exist only on the offline stack")
    return stack.edge_url


def test_health_is_ready(edge_url: str) -> None:
    response = requests.get(f"{edge_url}/_local/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["services"]


def test_outputs_are_flat_strings(edge_url: str) -> None:
    outputs = requests.get(f"{edge_url}/_local/outputs", timeout=10).json()
    assert OUTPUT_NAMES <= set(outputs)
    for name, value in outputs.items():
        assert isinstance(value, str), name


def test_outbox_lists_messages(edge_url: str) -> None:
    body = requests.get(f"{edge_url}/_local/outbox", timeout=10).json()
    assert isinstance(body["messages"], list)


def test_outputs_name_real_resources(stack: StackUnderTest, edge_url: str) -> None:
    outputs = stack.outputs
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=outputs.get("region", "us-east-1"))
    dynamodb = session.client("dynamodb", endpoint_url=edge_url)
    tables = dynamodb.list_tables()["TableNames"]
    assert outputs["surveys_table"] in tables
    assert outputs["responses_table"] in tables
    s3 = session.client("s3", endpoint_url=edge_url)
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert {outputs["public_bucket"], outputs["private_bucket"]} <= buckets
    sns = session.client("sns", endpoint_url=edge_url)
    topics = {topic["TopicArn"] for topic in sns.list_topics()["Topics"]}
    assert outputs["notifications_topic_arn"] in topics


def test_jwks_is_served(stack: StackUnderTest, edge_url: str) -> None:
    jwks = requests.get(stack.outputs["jwks_url"], timeout=10).json()
    assert jwks["keys"]
    assert all(key["alg"] == "RS256" for key in jwks["keys"])


def test_website_serves_config(stack: StackUnderTest, edge_url: str) -> None:
    website = stack.outputs["website_url"].rstrip("/")
    index = requests.get(f"{website}/", timeout=10)
    assert index.status_code == 200
    assert "text/html" in index.headers["Content-Type"]
    config = requests.get(f"{website}/config.json", timeout=10).json()
    assert config["api_url"].rstrip("/") == stack.api_url


def test_backend_invocable_only_through_lambda_api(stack: StackUnderTest, edge_url: str) -> None:
    # The backend has no HTTP route; the Lambda Invoke API (signed, on the edge) is the only way in.
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    lambda_client = session.client("lambda", endpoint_url=edge_url)
    result = lambda_client.invoke(
        FunctionName=stack.outputs["backend_function_name"],
        Payload=b'{"action": "no_such_action", "caller": null, "args": {}}',
    )
    body = result["Payload"].read()
    assert result["StatusCode"] == 200
    assert b"bad_request" in body or result.get("FunctionError")
