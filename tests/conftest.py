"""Shared fixtures: the stack under test, started once per session.

By default the session starts the offline stack (`python -m local up`) on free
ports and stops it at the end. Set `SURVEY_API_URL` to run the same tests
against a deployed stack instead (LocalStack or AWS); see README.md.
"""
from __future__ import annotations

import os

import pytest

from tests.support.offline import start_offline_stack, stop_process
from tests.support.stack import DeployedStack, StackUnderTest

# Every `python -m local up` that a test starts keeps its state in memory unless the test
# passes --data-dir: stacks sharing the repository's .local-data would collect state across
# runs, and the second one to start would find the folder locked.
os.environ.setdefault("SURVEY_LOCAL_PERSIST", "false")


@pytest.fixture(scope="session")
def stack() -> StackUnderTest:
    """The stack the integration tests talk to, started once per session."""
    api_url = os.environ.get("SURVEY_API_URL")
    if api_url:
        yield DeployedStack.from_environment(api_url)
        return

    process, edge_url, log_path = start_offline_stack("offline-stack")
    try:
        yield StackUnderTest.from_edge(edge_url, log_path=log_path)
    finally:
        stop_process(process)
