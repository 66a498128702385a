"""`python -m local token`, `seed` and `logs` against a real stack started on free ports."""
from __future__ import annotations

import io
import json
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local import devtools
from local.cli import build_parser, main
from tests.support.offline import start_offline_stack, stop_process


@pytest.fixture(scope="module")
def edge() -> Iterator[dict[str, Any]]:
    process, edge_url, _log_path = start_offline_stack("devtools-cli")
    try:
        outputs = requests.get(f"{edge_url}/_local/outputs", timeout=10).json()
        yield {"port": edge_url.rsplit(":", 1)[1], "api_url": outputs["api_url"], "website_url": outputs["website_url"]}
    finally:
        stop_process(process)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def me(api_url: str, token: str) -> requests.Response:
    return requests.get(f"{api_url}/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def new_email() -> str:
    return f"dev-{uuid.uuid4().hex[:10]}@example.com"


def unused_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


# --- token --------------------------------------------------------------------------------


def test_token_create_prints_valid_token(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    code, out, err = run(capsys, "token", email, "--create", "--port", edge["port"])
    assert code == 0
    assert f"Created user {email} with password " in err
    response = me(edge["api_url"], out.strip())
    assert response.status_code == 200
    assert response.json()["email"] == email


def test_token_existing_user_without_password(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    run(capsys, "token", email, "--create", "--port", edge["port"])
    code, out, _err = run(capsys, "token", email, "--port", edge["port"])
    assert code == 0
    assert me(edge["api_url"], out.strip()).json()["email"] == email


def test_token_create_twice_reports_existing(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    run(capsys, "token", email, "--create", "--port", edge["port"])
    code, _out, err = run(capsys, "token", email, "--create", "--port", edge["port"])
    assert code == 0
    assert f"User {email} exists already." in err


def test_token_with_password_and_json(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    code, out, err = run(capsys, "token", email, "--create", "--password", "Given-password-1", "--json", "--port", edge["port"])
    assert code == 0
    assert "with the given password" in err
    tokens = json.loads(out)
    assert set(tokens) >= {"id_token", "access_token", "refresh_token", "expires_in"}
    assert me(edge["api_url"], tokens["id_token"]).status_code == 200


def test_token_wrong_password_fails(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    run(capsys, "token", email, "--create", "--password", "Given-password-1", "--port", edge["port"])
    code, out, err = run(capsys, "token", email, "--password", "Other-password-2", "--port", edge["port"])
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: Wrong email or password for {email}")


def test_token_unknown_user_fails(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "token", "nobody-here@example.com", "--port", edge["port"])
    assert code == 1
    assert out == ""
    assert "--create" in err


# --- seed ---------------------------------------------------------------------------------


def test_seed_creates_surveys_with_responses(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    code, out, _err = run(
        capsys, "seed", "--surveys", "2", "--responses", "6", "--email", email, "--random-seed", "4", "--port", edge["port"],
    )
    assert code == 0
    assert f"Demo user  {email}" in out
    assert "Password   Demo-password-1" in out
    survey_ids = re.findall(r"survey\.html\?id=([0-9a-f-]{36})", out)
    assert len(survey_ids) == 2
    assert out.count("respond.html?id=") == 2
    assert out.count(": 6 responses") == 2

    login = requests.post(f"{edge['api_url']}/auth/login", json={"email": email, "password": "Demo-password-1"}, timeout=30)
    token = login.json()["id_token"]
    for survey_id in survey_ids:
        results = requests.get(
            f"{edge['api_url']}/survey/results", params={"survey_id": survey_id},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )
        assert results.json()["response_count"] == 6


def test_seed_existing_user_other_password_fails(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email()
    run(capsys, "token", email, "--create", "--password", "Given-password-1", "--port", edge["port"])
    code, _out, err = run(capsys, "seed", "--surveys", "0", "--email", email, "--port", edge["port"])
    assert code == 1
    assert "--password" in err


def test_seed_rejects_negative_count(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "seed", "--responses", "-1", "--port", unused_port())
    assert code == 2
    assert "--responses" in err


# --- logs ---------------------------------------------------------------------------------


def test_logs_prints_recent_lines(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    requests.get(f"{edge['api_url']}/survey/public", params={"survey_id": str(uuid.uuid4())}, timeout=30)
    code, out, _err = run(capsys, "logs", "backend", "-n", "2", "--port", edge["port"])
    lines = out.splitlines()
    assert code == 0
    assert 1 <= len(lines) <= 2
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} [A-Z]+ +\[", lines[-1])


def test_logs_unknown_function_fails(edge: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "logs", "nope", "--port", edge["port"])
    assert code == 1
    assert "survey-frontend" in err


def test_logs_follow_prints_new_lines(edge: dict[str, Any]) -> None:
    marker = str(uuid.uuid4())
    calls = {"count": 0}
    out = io.StringIO()

    def stop() -> bool:
        calls["count"] += 1
        if calls["count"] == 1:
            requests.get(f"{edge['api_url']}/survey/public", params={"survey_id": marker}, timeout=30)
            return False
        return marker in out.getvalue() or calls["count"] > 60

    args = build_parser().parse_args(["logs", "backend", "-n", "1", "--follow", "--port", edge["port"]])
    assert devtools.run_logs(args, out=out, stop=stop) == 0
    assert marker in out.getvalue()


# --- no stack -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["token", "ana@example.com"], ["seed"], ["logs", "frontend"]])
def test_commands_without_stack_fail_clearly(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    port = unused_port()
    code, out, err = run(capsys, *command, "--port", port)
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: No offline stack is running at http://127.0.0.1:{port}")
    assert "make up" in err
