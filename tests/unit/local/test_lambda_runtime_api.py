"""The Invoke API served over HTTP on 127.0.0.1, called with a real boto3 `lambda` client."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.lambda_runtime import LambdaRuntime
from tests.unit.local.fixtures.runtime_support import ACCOUNT_ID, REGION, sample_function, serve_wsgi

FUNCTIONS = [
    sample_function("echo", "handlers.echo"),
    sample_function("raise", "handlers.raise_error"),
    sample_function("sleep-forever", "handlers.sleep_forever"),
    sample_function("print-a-lot", "handlers.print_a_lot"),
]


@pytest.fixture(scope="module")
def lambda_client() -> Iterator[Any]:
    runtime = LambdaRuntime(FUNCTIONS, region=REGION, account_id=ACCOUNT_ID)
    try:
        with serve_wsgi(runtime.wsgi_app) as base_url:
            yield boto3.client(
                "lambda",
                endpoint_url=base_url,
                region_name=REGION,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
            )
    finally:
        runtime.stop()


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_api_invoke_request_response(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"answer": 42}))
    payload = json.loads(response["Payload"].read())

    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert payload == {"event": {"answer": 42}, "request_id": response["ResponseMetadata"]["RequestId"]}


def test_api_invoke_by_full_arn(lambda_client: Any) -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:echo"

    response = lambda_client.invoke(FunctionName=arn, Payload=b"{}")

    assert response["StatusCode"] == 200


def test_api_invoke_event_returns_202(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""


def test_api_invoke_dry_run_returns_204(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="echo", InvocationType="DryRun", Payload=b"{}")

    assert response["StatusCode"] == 204


def test_api_invoke_function_error(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="raise", Payload=b'{"value": 1}')
    error = json.loads(response["Payload"].read())

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: 1"


def test_api_invoke_timeout(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="sleep-forever", Payload=b"{}")
    error = json.loads(response["Payload"].read())

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")


def test_api_invoke_log_tail(lambda_client: Any) -> None:
    response = lambda_client.invoke(FunctionName="print-a-lot", Payload=b'{"lines": 2}', LogType="Tail")

    assert base64.b64decode(response["LogResult"]).decode() == "line 0\nline 1\nto stderr"


def test_api_unknown_function_not_found(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="nope", Payload=b"{}")

    assert error_of(raised) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:nope",
    )


def test_api_unknown_qualifier_not_found(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="echo", Qualifier="prod", Payload=b"{}")

    assert error_of(raised)[:2] == ("ResourceNotFoundException", 404)


def test_api_invalid_json_rejected(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="echo", Payload=b"{not json")

    assert error_of(raised)[:2] == ("InvalidRequestContentException", 400)


def test_api_payload_over_6_mb_rejected(lambda_client: Any) -> None:
    payload = json.dumps("x" * 6_291_456).encode()

    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="echo", Payload=payload)

    assert error_of(raised) == (
        "RequestTooLargeException",
        413,
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )


def test_api_other_operations_not_implemented(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lambda_client.list_functions()

    code, status, message = error_of(raised)
    assert (code, status) == ("NotImplemented", 501)
    assert "GET /2015-03-31/functions" in message


def test_api_serves_after_errors(lambda_client: Any) -> None:
    with pytest.raises(ClientError):
        lambda_client.invoke(FunctionName="echo", Payload=json.dumps("x" * 6_291_456).encode())

    response = lambda_client.invoke(FunctionName="echo", Payload=b'{"after": true}')

    assert json.loads(response["Payload"].read())["event"] == {"after": True}
