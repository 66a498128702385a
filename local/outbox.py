"""Emails the offline stack would have sent, kept so people and tests can read them."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Protocol


def utc_timestamp(now: datetime) -> str:
    """Format a time as the API does: ISO 8601, UTC, milliseconds, `Z` suffix."""
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class OutboxMessage:
    to: str
    subject: str
    body: str
    sent_at: str
    # Origin of the message: "sns" for topic deliveries, "cognito-idp" for confirmation codes.
    source: str


class MessageLog(Protocol):
    """Durable storage of outbox messages, such as the data folder's outbox file."""

    def append(self, message: dict[str, str]) -> None: ...


class Outbox:
    """Thread-safe list of sent emails, oldest first."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._messages: list[OutboxMessage] = []
        self._log: MessageLog | None = None

    def persist_to(self, log: MessageLog) -> None:
        """Write every message added from now on to `log` before `add` returns."""
        with self._lock:
            self._log = log

    def add(self, to: str, subject: str, body: str, source: str) -> OutboxMessage:
        """Store a message; with a log, raise OSError and keep nothing when the log write fails."""
        message = OutboxMessage(to=to, subject=subject, body=body, sent_at=utc_timestamp(self._clock()), source=source)
        with self._lock:
            # Under the lock, so the log's order is the list's order.
            if self._log is not None:
                self._log.append(asdict(message))
            self._messages.append(message)
        return message

    def messages(self) -> list[dict[str, str]]:
        with self._lock:
            return [asdict(message) for message in self._messages]

    def load(self, messages: list[dict[str, str]]) -> None:
        """Replace the contents, for restoring saved state."""
        with self._lock:
            self._messages = [OutboxMessage(**message) for message in messages]
