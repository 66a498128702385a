"""Readable terminal log lines for the offline stack.

Each line reads `HH:MM:SS.mmm LEVEL component [request-id] message`. Loggers pass
the request id as `extra={"request_id": rid}`. Lines without one show `-`.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import IO, Any

# Loggers that log every request or HTTP call on their own. The edge's access lines replace them.
_CHATTY_LOGGERS = ("werkzeug", "moto", "flask_cors", "botocore", "boto3", "urllib3")

_LEVEL_COLOURS = {
    "DEBUG": "\033[2m",
    "INFO": "\033[36m",
    "WARNING": "\033[33m",
    "ERROR": "\033[31m",
    "CRITICAL": "\033[1;31m",
}
_RESET = "\033[0m"
_DIM = "\033[2m"

# Keys of a Powertools JSON log line that the compact form shows in other places or drops.
_POWERTOOLS_SHOWN_KEYS = {
    "level", "location", "message", "timestamp", "service", "cold_start", "function_name",
    "function_memory_size", "function_arn", "function_request_id", "xray_trace_id", "sampling_rate",
    "exception", "exception_name", "stack_trace",
}


class TerminalFormatter(logging.Formatter):
    """Format records as one readable line each, coloured by level when `colour` is set."""

    def __init__(self, *, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        timestamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + f"{int(record.msecs):03d}"
        request_id = getattr(record, "request_id", None) or "-"
        message = record.getMessage()
        compact = compact_function_log_line(message, record_level=record.levelname, logger_name=record.name)
        if compact is not None:
            message, function_request_id = compact
            if request_id == "-" and function_request_id:
                request_id = function_request_id
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        level = f"{record.levelname:<7}"
        component = component_name(record.name)
        if self.colour:
            level = f"{_LEVEL_COLOURS.get(record.levelname, '')}{level}{_RESET}"
            timestamp = f"{_DIM}{timestamp}{_RESET}"
        return f"{timestamp} {level} {component} [{request_id}] {message}"


def printable(text: str) -> str:
    """Escape characters that could forge or corrupt a log line: non-printables as `\\xNN`, `\\uNNNN`.

    Request paths and methods come from the client, and a decoded `%0a` or `%00` in them
    would otherwise start a fake line or write a raw NUL. Backslashes are doubled so that
    an escape sequence in the output always stands for one escaped character.
    """
    if text.isprintable() and "\\" not in text:
        return text
    parts = []
    for character in text:
        if character == "\\":
            parts.append("\\\\")
        elif character.isprintable():
            parts.append(character)
        else:
            parts.append(repr(character)[1:-1] if ord(character) > 0xFF else f"\\x{ord(character):02x}")
    return "".join(parts)


def component_name(logger_name: str) -> str:
    """Shorten a logger name for the terminal: `local.lambda_runtime.worker` becomes `lambda_runtime.worker`."""
    return logger_name.removeprefix("local.") if logger_name != "local" else logger_name


def compact_function_log_line(
    message: str, *, record_level: str = "", logger_name: str = ""
) -> tuple[str, str | None] | None:
    """Shorten a Lambda function's Powertools JSON log line, or return None for any other message.

    Returns the compact text and the function's request id from the line, if any. The text
    leaves out the level when it equals `record_level`, and the service when the logger
    name ends with it, because the line shows both already.
    """
    text = message.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        entry: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict) or "message" not in entry or "level" not in entry:
        return None
    parts = []
    if str(entry["level"]).upper() != record_level.upper():
        parts.append(str(entry["level"]))
    service = str(entry.get("service") or "")
    if service and not logger_name.endswith(service):
        parts.append(service)
    if entry.get("location"):
        parts.append(str(entry["location"]))
    body = entry["message"] if isinstance(entry["message"], str) else json.dumps(entry["message"])
    parts.append(body)
    extra = {key: value for key, value in entry.items() if key not in _POWERTOOLS_SHOWN_KEYS}
    if extra:
        parts.append(json.dumps(extra, separators=(",", ":"), default=str))
    compact = " ".join(parts)
    if entry.get("exception"):
        compact = f"{compact}\n{entry['exception']}"
    request_id = entry.get("function_request_id")
    return compact, str(request_id) if request_id else None


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record at `level` or above to `stream` (stderr) as terminal lines.

    Colour is used only when the stream is a terminal. Returns the installed handler.
    """
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TerminalFormatter(colour=_is_terminal(stream)))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing.formatter, TerminalFormatter):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
