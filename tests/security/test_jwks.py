"""The frontend's JWKS cache under a flood of unknown kids and while the JWKS is down.

Each test starts an offline stack of its own, because both leave the frontend
container's cache unwilling to fetch the JWKS again for a minute, which would
change what later tests see.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.security.conftest import assert_contract_error, skip_on_deployed_stack
from tests.security.support import (
    control_url,
    faults_set,
    fresh_times,
    log_text,
    new_rsa_key,
    own_offline_stack,
    request_id,
    sign_rs256,
    unverified_parts,
    wait_for_log_line,
)
from tests.support.stack import StackUnderTest

pytestmark = pytest.mark.integration

FLOOD_SIZE = 50


@pytest.fixture
def own_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StackUnderTest]:
    skip_on_deployed_stack()
    # DEBUG logs the edge's access line of every JWKS request.
    with own_offline_stack(f"security-{request.node.name}", tmp_path / "data", "--log-level", "DEBUG") as stack:
        yield stack


def jwks_requests(stack: StackUnderTest) -> int:
    """Count the JWKS requests that reached the stack, from the edge's access lines."""
    pattern = re.compile(rf"GET /{re.escape(stack.outputs['user_pool_id'])}/\.well-known/jwks\.json -> \d{{3}}")
    return len(pattern.findall(log_text(stack)))


def _me(stack: StackUnderTest, token: str) -> requests.Response:
    return stack.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_unknown_kid_flood_fetches_jwks_once(own_stack: StackUnderTest) -> None:
    # The flood runs one request at a time, so one warm frontend container serves it.
    user = own_stack.create_user("flood")
    assert _me(own_stack, user.id_token).status_code == 200
    before = jwks_requests(own_stack)
    assert before >= 1

    attacker_key = new_rsa_key()
    claims = unverified_parts(user.id_token)[1]
    for index in range(FLOOD_SIZE):
        response = _me(own_stack, sign_rs256(fresh_times(claims), attacker_key, f"flood-kid-{index}"))
        assert_contract_error(response, 401, "unauthorized")
    assert wait_for_log_line(own_stack, request_id(response), "token rejected: unknown kid") is not None
    assert _me(own_stack, user.id_token).status_code == 200

    refetches = jwks_requests(own_stack) - before
    assert refetches <= 1, f"{FLOOD_SIZE} unknown kids caused {refetches} JWKS requests"


def test_jwks_outage_rejects_only_uncached_keys(own_stack: StackUnderTest) -> None:
    early = own_stack.create_user("outage-early")
    assert _me(own_stack, early.id_token).status_code == 200

    with faults_set(own_stack, {"jwks": "unavailable"}):
        rotated = requests.post(control_url(own_stack, "signer/rotate"), timeout=30)
        assert rotated.status_code == 200, rotated.text
        late = own_stack.create_user("outage-late")
        before = jwks_requests(own_stack)

        for _ in range(3):
            response = _me(own_stack, late.id_token)
            assert_contract_error(response, 503, "service_unavailable")
        line = wait_for_log_line(own_stack, request_id(response), "signing keys unavailable")
        assert line is not None
        # A JWKS that is down is requested once, not on every request.
        assert jwks_requests(own_stack) - before == 1

        # Keys fetched before the outage keep working, on routes with and without the backend.
        assert _me(own_stack, early.id_token).status_code == 200
        surveys = own_stack.get("/surveys", headers=early.headers)
        assert surveys.status_code == 200, surveys.text
