"""Helpers of the security tests: forged tokens, the stack's log, faults and AWS clients on the edge."""
from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.offline import start_offline_stack, stop_process
from tests.support.stack import StackUnderTest

# How long to wait for a log line of a request that has already returned, in seconds.
LOG_WAIT_SECONDS = 5.0
# The dummy credentials that the offline stack gives its functions; moto accepts any.
EDGE_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


# --- tokens ------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a token's header and claims without checking anything."""
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_rs256(claims: dict[str, Any], private_key: Any, kid: str) -> str:
    """Sign claims as the user pool does: RS256, a header with only kid and alg."""
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid, "typ": None})


def fresh_times(claims: dict[str, Any], lifetime_seconds: int = 3600) -> dict[str, Any]:
    now = int(time.time())
    return {**claims, "iat": now, "auth_time": now, "exp": now + lifetime_seconds, "jti": str(uuid.uuid4())}


def token_segments(token: str) -> list[str]:
    """Return the parts of a token long enough to be unique to it, to search a log for."""
    return [segment for segment in token.split(".") if len(segment) >= 20]


# --- the stack's log ---------------------------------------------------------------


def log_text(stack: StackUnderTest) -> str:
    assert stack.log_path is not None, "the stack under test has no log file"
    return stack.log_path.read_text(errors="replace")


def wait_for_log_line(stack: StackUnderTest, *fragments: str) -> str | None:
    """Return the first log line that contains every fragment, waiting briefly for it to be written."""
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:
        for line in log_text(stack).splitlines():
            if all(fragment in line for fragment in fragments):
                return line
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def request_id(response: requests.Response) -> str:
    """Return the API Gateway request id, which the frontend logs as its correlation_id."""
    value = response.headers.get("x-amzn-RequestId")
    assert value, f"no x-amzn-RequestId header on the {response.status_code} response"
    return value


# --- control endpoints -------------------------------------------------------------


def control_url(stack: StackUnderTest, path: str) -> str:
    assert stack.edge_url is not None, "control endpoints exist on the offline stack only"
    return f"{stack.edge_url}/_local/{path}"


def set_faults(stack: StackUnderTest, document: dict[str, Any]) -> None:
    response = requests.post(control_url(stack, "faults"), json=document, timeout=10)
    assert response.status_code == 200, response.text


def clear_faults(stack: StackUnderTest) -> None:
    response = requests.delete(control_url(stack, "faults"), timeout=10)
    assert response.status_code == 200, response.text


@contextmanager
def faults_set(stack: StackUnderTest, document: dict[str, Any]) -> Iterator[None]:
    """Set faults for the block, and clear every fault when it ends, also on failure."""
    set_faults(stack, document)
    try:
        yield
    finally:
        clear_faults(stack)


def edge_resource(stack: StackUnderTest, service: str) -> Any:
    """Return a boto3 resource of the offline stack's edge endpoint, such as "dynamodb"."""
    import boto3

    return boto3.session.Session().resource(
        service, endpoint_url=stack.edge_url, region_name=stack.outputs["region"], **EDGE_CREDENTIALS
    )


# --- stacks of their own -----------------------------------------------------------


@contextmanager
def own_offline_stack(name: str, data_dir: Path, *extra_args: str) -> Iterator[StackUnderTest]:
    """Start an offline stack that keeps its state in `data_dir`, for tests that change the signer or need its files."""
    process, edge_url, log_path = start_offline_stack(name, list(extra_args), data_dir=data_dir)
    try:
        yield StackUnderTest.from_edge(edge_url, log_path=log_path)
    finally:
        stop_process(process)


def active_signing_key(data_dir: Path) -> tuple[str, Any]:
    """Return the kid and private key that the stack's user pool signs with, read from its saved state."""
    from cryptography.hazmat.primitives import serialization

    state = json.loads((data_dir / "cognito.json").read_text())
    keys = state["keys"]
    entry = next(key for key in keys["keys"] if key["kid"] == keys["active_kid"])
    return entry["kid"], serialization.load_pem_private_key(entry["private_key_pem"].encode("ascii"), password=None)
