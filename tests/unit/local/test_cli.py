"""The `python -m local` command line, against stand-in control endpoints on a loopback port."""
from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from local.cli import build_parser, format_message, main, run_outbox, run_outputs
from local.control import RUNNING, ControlEndpoints, StackStatus
from local.outbox import Outbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def control_port(outbox: Outbox) -> Iterator[int]:
    status = StackStatus(["edge"])
    status.set("edge", RUNNING)
    endpoints = ControlEndpoints(
        status=status, outputs=lambda: {"api_url": "http://127.0.0.1:1/x"}, outbox=outbox, signer=lambda: None
    )
    server = make_server("127.0.0.1", 0, endpoints.wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_cli_up_options_parse() -> None:
    args = build_parser().parse_args(
        ["up", "--port", "4600", "--web-port", "4700", "--prefix", "demo", "--require-confirmation", "--log-level", "debug"]
    )
    assert args.port == 4600
    assert args.web_port == 4700
    assert args.prefix == "demo"
    assert args.require_confirmation is True
    assert args.log_level == "DEBUG"


def test_cli_unset_options_are_none() -> None:
    args = build_parser().parse_args(["up"])
    assert args.port is None
    assert args.require_confirmation is None
    assert args.notification_email is None


def test_cli_no_require_confirmation() -> None:
    assert build_parser().parse_args(["up", "--no-require-confirmation"]).require_confirmation is False


def test_cli_up_help_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["up", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ["--host", "--port", "--web-port", "--prefix", "--require-confirmation", "--notification-email", "--log-level"]:
        assert option in text
    assert "SURVEY_LOCAL_PORT" in text


def test_cli_command_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([])
    assert exit_info.value.code == 2


def test_cli_outputs_prints_json(control_port: int) -> None:
    out = io.StringIO()
    args = build_parser().parse_args(["outputs", "--port", str(control_port)])
    assert run_outputs(args, out) == 0
    assert json.loads(out.getvalue()) == {"api_url": "http://127.0.0.1:1/x"}


def test_cli_outbox_readable(control_port: int, outbox: Outbox) -> None:
    outbox.add("ops@example.com", "Survey deleted: Lunch", '{"event": "survey.deleted"}', "sns")
    out = io.StringIO()
    args = build_parser().parse_args(["outbox", "--port", str(control_port)])
    assert run_outbox(args, out) == 0
    text = out.getvalue()
    assert "To:      ops@example.com" in text
    assert "Subject: Survey deleted: Lunch" in text


def test_cli_outbox_json(control_port: int, outbox: Outbox) -> None:
    outbox.add("ops@example.com", "Hi", "hello", "sns")
    out = io.StringIO()
    args = build_parser().parse_args(["outbox", "--port", str(control_port), "--json"])
    assert run_outbox(args, out) == 0
    messages = json.loads(out.getvalue())
    assert [message["body"] for message in messages] == ["hello"]


def test_cli_outbox_empty(control_port: int) -> None:
    out = io.StringIO()
    assert run_outbox(build_parser().parse_args(["outbox", "--port", str(control_port)]), out) == 0
    assert out.getvalue() == "The outbox is empty.\n"


def test_cli_outputs_without_stack_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["outputs", "--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert f"No offline stack is running at http://127.0.0.1:{port}" in error
    assert "--port" in error


def test_cli_invalid_environment_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SURVEY_LOCAL_PORT", "not-a-port")
    assert main(["outputs"]) == 2
    assert "SURVEY_LOCAL_PORT" in capsys.readouterr().err


def test_format_message_block() -> None:
    text = format_message(
        {"to": "a@example.com", "subject": "Code", "body": "Your code is 123456", "sent_at": "2026-01-01T00:00:00.000Z", "source": "cognito-idp"}
    )
    assert text.splitlines() == [
        "--- 2026-01-01T00:00:00.000Z  cognito-idp",
        "To:      a@example.com",
        "Subject: Code",
        "",
        "Your code is 123456",
    ]
