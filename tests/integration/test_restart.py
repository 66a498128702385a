"""The offline stack keeps its state across restarts, also after SIGKILL, and --reset empties it.

Each test starts its own stacks on a temporary data folder, so these tests run
only against the offline stack.
"""
from __future__ import annotations

import copy
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import SAMPLE_ANSWERS, SAMPLE_SURVEY
from tests.support.offline import ARTIFACTS, start_offline_stack, stop_process
from tests.support.stack import TEST_PASSWORD, StackUnderTest, User

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(os.environ.get("SURVEY_API_URL")), reason="restarts need the offline stack"),
]

# Acknowledged submissions to wait for before the SIGKILL, so the kill lands mid-stream.
ACKNOWLEDGED_BEFORE_KILL = 40
SUBMITTING_THREADS = 3
SUBMIT_TIMEOUT_SECONDS = 10


@contextmanager
def running_stack(
    name: str, data_dir: Path, *extra_args: str, port: int | None = None
) -> Iterator[tuple[StackUnderTest, subprocess.Popen]]:
    process, edge_url, log_path = start_offline_stack(name, list(extra_args), data_dir=data_dir, port=port)
    try:
        yield StackUnderTest.from_edge(edge_url, log_path=log_path), process
    finally:
        stop_process(process)


def create_survey(stack: StackUnderTest, user: User) -> dict[str, Any]:
    response = stack.post("/survey/create", json=copy.deepcopy(SAMPLE_SURVEY), headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def submit(stack: StackUnderTest, survey_id: str, key: str | None = None, timeout: float | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    kwargs: dict[str, Any] = {"timeout": timeout} if timeout else {}
    return stack.post("/survey/respond", json={"survey_id": survey_id, "answers": SAMPLE_ANSWERS}, headers=headers, **kwargs)


def all_responses(stack: StackUnderTest, user: User, survey_id: str) -> list[dict[str, Any]]:
    responses: list[dict[str, Any]] = []
    next_token = None
    while True:
        params: dict[str, Any] = {"survey_id": survey_id, "limit": 100}
        if next_token:
            params["next_token"] = next_token
        page = stack.get("/survey/responses", params=params, headers=user.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        responses.extend(body["responses"])
        next_token = body["next_token"]
        if next_token is None:
            return responses


def get_json(stack: StackUnderTest, path: str, user: User, **params: Any) -> Any:
    response = stack.get(path, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def login(stack: StackUnderTest, email: str, password: str = TEST_PASSWORD) -> requests.Response:
    return stack.post("/auth/login", json={"email": email, "password": password})


def edge_port(stack: StackUnderTest) -> int:
    assert stack.edge_url is not None
    return int(stack.edge_url.rsplit(":", 1)[1])


def log_text(stack: StackUnderTest) -> str:
    assert stack.log_path is not None
    return stack.log_path.read_text(errors="replace")


def test_restart_keeps_users_surveys_and_outbox(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_stack("restart-first", data_dir) as (stack, _):
        port = edge_port(stack)
        owner = stack.create_user("restart")
        survey = create_survey(stack, owner)
        survey_id = survey["survey_id"]
        first_id = submit(stack, survey_id, key="restart-key-1").json()["response_id"]
        for _ in range(2):
            assert submit(stack, survey_id).status_code == 201
        deleted = create_survey(stack, owner)
        assert stack.delete("/survey", params={"survey_id": deleted["survey_id"]}, headers=owner.headers).status_code == 200

        token_before_rotation = owner.id_token
        rotation = requests.post(f"{stack.edge_url}/_local/signer/rotate", timeout=30)
        assert rotation.status_code == 200, rotation.text
        token_after_rotation = login(stack, owner.email).json()["id_token"]

        surveys_before = get_json(stack, "/surveys", owner)
        responses_before = all_responses(stack, owner, survey_id)
        results_before = get_json(stack, "/survey/results", owner, survey_id=survey_id)
        outbox_before = stack.outbox()

    with running_stack("restart-second", data_dir, port=port) as (stack, _):
        assert "State           restored" in log_text(stack)
        assert login(stack, owner.email).status_code == 200
        assert login(stack, owner.email, "Wrong-password-1").status_code == 401
        for token in (token_before_rotation, token_after_rotation):
            response = stack.get("/surveys", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
        refreshed = stack.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert refreshed.status_code == 200, refreshed.text

        assert get_json(stack, "/surveys", owner) == surveys_before
        assert all_responses(stack, owner, survey_id) == responses_before
        assert get_json(stack, "/survey/results", owner, survey_id=survey_id) == results_before
        assert stack.outbox() == outbox_before
        notifications = [message for message in outbox_before if deleted["survey_id"] in message["body"]]
        assert len(notifications) == 1

        repeated = submit(stack, survey_id, key="restart-key-1")
        assert repeated.json()["response_id"] == first_id
        assert submit(stack, survey_id).status_code == 201
        assert get_json(stack, "/survey", owner, survey_id=survey_id)["response_count"] == 4


def _submit_until_stopped(
    stack: StackUnderTest, survey_id: str, stop: threading.Event, acknowledged: list[str], lock: threading.Lock
) -> None:
    # Its own session: requests.Session is not safe to share between threads.
    session = requests.Session()
    url = f"{stack.api_url}/survey/respond"
    while not stop.is_set():
        try:
            response = session.post(url, json={"survey_id": survey_id, "answers": SAMPLE_ANSWERS}, timeout=SUBMIT_TIMEOUT_SECONDS)
        except requests.RequestException:
            # The stack is gone: this submission was never acknowledged.
            continue
        if response.status_code == 201:
            with lock:
                acknowledged.append(response.json()["response_id"])


def test_restart_after_sigkill_keeps_acknowledged_responses(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with running_stack("restart-killed", data_dir) as (stack, process):
        port = edge_port(stack)
        owner = stack.create_user("killed")
        survey_id = create_survey(stack, owner)["survey_id"]
        threads = [
            threading.Thread(target=_submit_until_stopped, args=(stack, survey_id, stop, acknowledged, lock), daemon=True)
            for _ in range(SUBMITTING_THREADS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=SUBMIT_TIMEOUT_SECONDS + 5)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    with running_stack("restart-after-kill", data_dir, port=port) as (stack, _):
        # The owner's token from before the kill still verifies: the signing key was saved.
        listed = all_responses(stack, owner, survey_id)
        listed_ids = {response["response_id"] for response in listed}
        assert set(acknowledged) <= listed_ids
        assert len(listed_ids) == len(listed)

        survey = get_json(stack, "/survey", owner, survey_id=survey_id)
        assert survey["response_count"] == len(listed)
        results = get_json(stack, "/survey/results", owner, survey_id=survey_id)
        assert results["response_count"] == len(listed)
        required_question = results["questions"][0]
        assert required_question["answered"] == len(listed)
        assert sum(required_question["counts"].values()) == len(listed)


def test_reset_starts_empty(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_stack("reset-first", data_dir) as (stack, _):
        port = edge_port(stack)
        owner = stack.create_user("reset")
        create_survey(stack, owner)
        with pytest.raises(RuntimeError, match="exited with code 1"):
            stop_process(start_offline_stack("reset-locked", data_dir=data_dir)[0])
        assert "is in use by process" in (ARTIFACTS / "reset-locked.log").read_text()

    with running_stack("reset-second", data_dir, "--reset", port=port) as (stack, _):
        assert f"--reset deleted the saved state in {data_dir}" in log_text(stack)
        assert login(stack, owner.email).status_code == 401
        assert stack.get("/surveys", headers=owner.headers).status_code == 401
        assert stack.outbox() == []
        fresh = stack.create_user("reset")
        assert get_json(stack, "/surveys", fresh)["surveys"] == []
