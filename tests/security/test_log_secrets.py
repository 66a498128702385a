"""No password or token reaches the stack's log or its data folder, even at DEBUG.

The test starts an offline stack of its own with `--log-level DEBUG` and a data
folder, and runs every kind of call that carries a secret. Then it searches the log
file and every file of the data folder for each secret it used.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import ANSWERS, SURVEY, skip_on_deployed_stack
from tests.security.support import own_offline_stack, token_segments
from tests.support.stack import StackUnderTest

pytestmark = pytest.mark.integration

USERS = 3


@pytest.fixture(scope="module")
def logged_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackUnderTest, Path]]:
    skip_on_deployed_stack()
    data_dir = tmp_path_factory.mktemp("log-secrets") / "data"
    with own_offline_stack("security-log-secrets", data_dir, "--log-level", "DEBUG") as stack:
        yield stack, data_dir


def unique_password() -> str:
    return f"Pw-{uuid.uuid4().hex[:16]}-Z9"


def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), response.text
    return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else response.text


def run_user_session(stack: StackUnderTest, index: int) -> dict[str, str]:
    """Sign up, log in, refresh and call every kind of route as a new user; return the secrets used, by name."""
    email = stack.new_email(f"secrets-{index}")
    secrets = {"password": unique_password(), "wrong password": unique_password()}
    secrets["unknown refresh token"] = f"bogus-refresh-{uuid.uuid4().hex}"

    ok(stack.post("/auth/signup", json={"email": email, "password": secrets["password"]}), 201)
    ok(stack.post("/auth/login", json={"email": email, "password": secrets["wrong password"]}), 401)
    tokens = ok(stack.post("/auth/login", json={"email": email, "password": secrets["password"]}))
    refreshed = ok(stack.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    ok(stack.post("/auth/refresh", json={"refresh_token": secrets["unknown refresh token"]}), 401)
    for kind in ("id_token", "access_token", "refresh_token"):
        secrets[f"{kind} of the login"] = tokens[kind]
    for kind in ("id_token", "access_token"):
        secrets[f"{kind} of the refresh"] = refreshed[kind]

    for token in (tokens["id_token"], refreshed["access_token"]):
        headers = {"Authorization": f"Bearer {token}"}
        ok(stack.get("/auth/me", headers=headers))
        survey_id = ok(stack.post("/survey/create", json=SURVEY, headers=headers), 201)["survey_id"]
        ok(stack.get("/surveys", headers=headers))
        ok(stack.patch("/survey", params={"survey_id": survey_id}, json={"title": "Renamed"}, headers=headers))
        ok(stack.post("/survey/respond", json={"survey_id": survey_id, "answers": ANSWERS}), 201)
        for path in ("/survey", "/survey/responses", "/survey/results"):
            ok(stack.get(path, params={"survey_id": survey_id}, headers=headers))
        ok(stack.get("/survey/export", params={"survey_id": survey_id, "format": "csv"}, headers=headers))
        templates = ok(stack.get("/templates", headers=headers))["templates"]
        ok(stack.get("/template", params={"name": templates[0]["name"]}, headers=headers))
        ok(stack.delete("/survey", params={"survey_id": survey_id}, headers=headers))
    # A bare token, without the Bearer prefix.
    ok(stack.get("/auth/me", headers={"Authorization": tokens["id_token"]}))
    return secrets


def searchable_forms(secret: str) -> list[str]:
    """Return the strings to search for: a token's unique segments, or the whole secret."""
    segments = token_segments(secret) if secret.count(".") == 2 else []
    return segments or [secret]


def test_log_and_data_contain_no_secrets(logged_stack: tuple[StackUnderTest, Path]) -> None:
    stack, data_dir = logged_stack
    secrets = {
        f"user {index}, {name}": secret
        for index in range(USERS)
        for name, secret in run_user_session(stack, index).items()
    }

    assert stack.log_path is not None
    files = [stack.log_path, *sorted(path for path in data_dir.rglob("*") if path.is_file())]
    assert len(files) > 1, "the data folder has no files to search"
    # The leaks are listed by name, so that a failure does not print the secrets themselves.
    leaks = []
    for path in files:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for name, secret in secrets.items():
            if any(form in content for form in searchable_forms(secret)):
                leaks.append(f"{path.name} contains the {name}")
    assert leaks == []


def test_log_records_the_session(logged_stack: tuple[StackUnderTest, Path]) -> None:
    # The control case of the search: the log is the one the calls wrote, and it is verbose.
    stack, _ = logged_stack
    run_user_session(stack, USERS)
    assert stack.log_path is not None
    text = stack.log_path.read_text(errors="replace")
    assert "/auth/login" in text
    assert "InitiateAuth" in text
    assert " DEBUG " in text
