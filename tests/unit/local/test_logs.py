"""Terminal log lines of the offline stack."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from local.logs import TerminalFormatter, compact_function_log_line, component_name, configure_logging, printable

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (?P<level>\S+)\s+(?P<component>\S+) \[(?P<request_id>[^\]]+)\] (?P<message>.*)$", re.S)


def _record(message: str, name: str = "local.edge", level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_formatter_line_shape() -> None:
    line = TerminalFormatter().format(_record("hello", request_id="abc-1"))
    match = LINE.match(line)
    assert match is not None
    assert match["level"] == "INFO"
    assert match["component"] == "edge"
    assert match["request_id"] == "abc-1"
    assert match["message"] == "hello"


def test_formatter_without_request_id_shows_dash() -> None:
    match = LINE.match(TerminalFormatter().format(_record("hello")))
    assert match is not None
    assert match["request_id"] == "-"


def test_formatter_colour_only_when_enabled() -> None:
    plain = TerminalFormatter(colour=False).format(_record("hello"))
    coloured = TerminalFormatter(colour=True).format(_record("hello"))
    assert "\033[" not in plain
    assert "\033[" in coloured


def test_formatter_appends_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = TerminalFormatter().format(record)
    assert "ValueError: boom" in line


def test_component_name_strips_package() -> None:
    assert component_name("local.lambda_runtime.worker") == "lambda_runtime.worker"
    assert component_name("moto") == "moto"


def test_compact_powertools_line() -> None:
    entry = {
        "level": "INFO",
        "location": "handler:12",
        "message": "survey created",
        "timestamp": "2026-01-01 00:00:00,000+0000",
        "service": "survey-backend",
        "function_request_id": "req-7",
        "survey_id": "s-1",
    }
    compact = compact_function_log_line(json.dumps(entry))
    assert compact == ('INFO survey-backend handler:12 survey created {"survey_id":"s-1"}', "req-7")


def test_compact_omits_level_and_service_shown_already() -> None:
    entry = {"level": "INFO", "message": "done", "service": "survey-backend", "location": "handler:3"}
    compact = compact_function_log_line(
        json.dumps(entry), record_level="INFO", logger_name="local.lambda_runtime.functions.survey-backend"
    )
    assert compact == ("handler:3 done", None)


def test_compact_ignores_plain_text() -> None:
    assert compact_function_log_line("plain text") is None


def test_compact_ignores_other_json() -> None:
    assert compact_function_log_line('{"a": 1}') is None


def test_formatter_uses_function_request_id() -> None:
    entry = {"level": "ERROR", "message": "failed", "function_request_id": "req-9", "exception": "Traceback ..."}
    match = LINE.match(TerminalFormatter().format(_record(json.dumps(entry), name="local.lambda_runtime")))
    assert match is not None
    assert match["request_id"] == "req-9"
    assert match["message"] == "ERROR failed\nTraceback ..."


def test_formatter_drops_level_equal_to_record() -> None:
    entry = {"level": "ERROR", "message": "failed"}
    record = _record(json.dumps(entry), name="local.lambda_runtime", level=logging.ERROR)
    match = LINE.match(TerminalFormatter().format(record))
    assert match is not None
    assert match["message"] == "failed"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("werkzeug", "moto")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def test_configure_logging_quiets_werkzeug_and_moto(restore_logging: None) -> None:
    configure_logging("DEBUG", io.StringIO())
    assert logging.getLogger("werkzeug").level == logging.WARNING
    assert logging.getLogger("moto").level == logging.WARNING


def test_configure_logging_writes_lines_at_level(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("WARNING", stream)
    logging.getLogger("local.test").info("hidden")
    logging.getLogger("local.test").warning("shown", extra={"request_id": "r-1"})
    assert "hidden" not in stream.getvalue()
    assert "test [r-1] shown" in stream.getvalue()


def test_configure_logging_no_colour_on_pipe(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    logging.getLogger("local.test").error("plain")
    assert "\033[" not in stream.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/surveys/abc", "/surveys/abc"),
        ("/surveys\nFAKE LINE", "/surveys\\x0aFAKE LINE"),
        ("/a\x00b", "/a\\x00b"),
        ("/a\rb\x1b[31m", "/a\\x0db\\x1b[31m"),
        ("/a\u2028b", "/a\\u2028b"),
        ("/a\\x0ab", "/a\\\\x0ab"),
        ("/caf\u00e9", "/caf\u00e9"),
    ],
)
def test_printable_escapes_control_characters(text: str, expected: str) -> None:
    assert printable(text) == expected
