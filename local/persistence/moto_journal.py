"""The write-ahead journal of moto: record each successful mutating request, replay them on start.

moto 5.2.5 keeps its state in memory only. JournalingMotoApp wraps moto's WSGI
app: it runs each mutating request in moto and, when moto returns 2xx, appends
the request to the journal and fsyncs it before the client gets the response.
One lock spans execute-and-append, so the journal order is the execution order.
On start, replay_journal sends the records to moto again in that order.

A record contains what moto reads from a request: method, path, query, headers and
body, minus credentials. It also contains the seed of moto's random generator for
that request, because moto draws identifiers (S3 version ids, SNS subscription
ARNs) from it: replaying with the same seed gives the same identifiers, so later
records that name them still match. Timestamps are not replayed: a replayed write
gets the replay time (S3 LastModified, IAM CreateDate), while a snapshot keeps the
original times.
"""
from __future__ import annotations

import io
import json
import logging
import re
import secrets
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from local.persistence.records import Record, RecordFile

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Actions that change nothing, by the naming convention AWS APIs follow. Every other action is
# journaled: replaying a request that changed nothing costs time but loses no data.
READ_ACTION_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet", "Head")
# Actions whose effect is outside moto: SNS delivers email to the outbox, which keeps its own file.
# Replaying them would send every notification again.
# NOTE: so a message that moto delivered into its own SQS queues is not restored after a restart.
UNJOURNALED_ACTIONS = frozenset({"Publish", "PublishBatch"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

RECORD_VERSION = 1
_META_LENGTH = struct.Struct(">I")
# WSGI environ keys a record keeps besides the HTTP_* headers.
_ENVIRON_KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                 "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "wsgi.url_scheme")
# moto.core.request.PRESERVED_HEADER_NAMES_ENVIRON_KEY: original spelling of headers with underscores (S3 metadata).
_PRESERVED_HEADER_NAMES_KEY = "moto.preserved_header_names"
# Headers a record drops: credentials, and hop-by-hop headers that the server already applied.
_DROPPED_HEADERS = frozenset({
    "HTTP_X_AMZ_SECURITY_TOKEN", "HTTP_COOKIE", "HTTP_PROXY_AUTHORIZATION",
    "HTTP_TRANSFER_ENCODING", "HTTP_CONNECTION", "HTTP_KEEP_ALIVE",
})
# Query parameters of presigned URLs that carry a signature or a session token.
_DROPPED_QUERY_PARAMETERS = frozenset({"x-amz-signature", "x-amz-security-token", "signature"})
_SIGV4_CREDENTIAL = re.compile(r"^(AWS4-HMAC-SHA256)\s+Credential=([^,\s]+)")
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


# --- which requests are journaled ---------------------------------------------


def is_write_action(action: str) -> bool:
    """Tell whether an AWS action may change state and so belongs in the journal."""
    if action in UNJOURNALED_ACTIONS:
        return False
    return not action.startswith(READ_ACTION_PREFIXES)


def query_action(environ: dict[str, Any], body: bytes | None) -> str:
    """Return the `Action` of a query-protocol request (SNS, IAM, STS), from the query string or a form body."""
    values = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if values:
        return values[0]
    if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if values:
            return values[0]
    return ""


def needs_body_to_classify(environ: dict[str, Any]) -> bool:
    """Tell whether `is_journaled` needs the body: only a form POST names its action there."""
    if environ.get("HTTP_X_AMZ_TARGET") or environ.get("REQUEST_METHOD", "GET").upper() in READ_METHODS:
        return False
    return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")


def is_journaled(environ: dict[str, Any], body: bytes | None) -> bool:
    """Tell whether a moto request may change state: JSON-protocol and query-protocol writes, and REST PUT, POST, DELETE."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return is_write_action(target.rsplit(".", 1)[-1])
    action = query_action(environ, body)
    if action:
        return is_write_action(action)
    return environ.get("REQUEST_METHOD", "GET").upper() not in READ_METHODS


# --- records ------------------------------------------------------------------


@dataclass(frozen=True)
class JournalEntry:
    """One journaled request: the WSGI environ values moto reads, the body and the random seed."""

    environ: dict[str, Any]
    body: bytes
    seed: int
    # The UploadId a CreateMultipartUpload returned. moto draws it from os.urandom, not from the
    # seeded generator, so replay maps it to the new id for the parts that follow.
    upload_id: str | None = None

    def to_payload(self) -> bytes:
        meta: dict[str, Any] = {"version": RECORD_VERSION, "seed": self.seed, "environ": self.environ}
        if self.upload_id is not None:
            meta["upload_id"] = self.upload_id
        encoded = json.dumps(meta, separators=(",", ":")).encode()
        return _META_LENGTH.pack(len(encoded)) + encoded + self.body

    @classmethod
    def from_payload(cls, payload: bytes) -> JournalEntry:
        (meta_length,) = _META_LENGTH.unpack_from(payload)
        start = _META_LENGTH.size
        meta = json.loads(payload[start:start + meta_length])
        if meta.get("version") != RECORD_VERSION:
            raise ValueError(f"journal record version {meta.get('version')!r} is not {RECORD_VERSION}")
        return cls(
            environ=meta["environ"],
            body=payload[start + meta_length:],
            seed=meta["seed"],
            upload_id=meta.get("upload_id"),
        )

    def wsgi_environ(self, upload_ids: dict[str, str]) -> dict[str, Any]:
        """Build a WSGI environ that makes moto run this request again."""
        environ = dict(self.environ)
        environ["QUERY_STRING"] = _map_upload_id(environ.get("QUERY_STRING", ""), upload_ids)
        environ.update({
            "CONTENT_LENGTH": str(len(self.body)),
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        })
        environ.setdefault("wsgi.url_scheme", "http")
        return environ


def capture_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """Copy what moto reads from a request, without the signature, tokens or cookies."""
    captured: dict[str, Any] = {key: environ[key] for key in _ENVIRON_KEYS if key in environ}
    captured["QUERY_STRING"] = _redact_query(environ.get("QUERY_STRING", ""))
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in _DROPPED_HEADERS and isinstance(value, str):
            captured[key] = value
    authorization = _redact_authorization(environ.get("HTTP_AUTHORIZATION", ""))
    if authorization:
        captured["HTTP_AUTHORIZATION"] = authorization
    else:
        captured.pop("HTTP_AUTHORIZATION", None)
    preserved = environ.get(_PRESERVED_HEADER_NAMES_KEY)
    if isinstance(preserved, dict):
        captured[_PRESERVED_HEADER_NAMES_KEY] = {
            key: name for key, name in preserved.items() if key in captured
        }
    return captured


def _redact_authorization(value: str) -> str:
    """Keep a SigV4 header's credential scope, which moto reads for the service, region and
    access key id, and drop the signature. Other schemes are dropped whole."""
    match = _SIGV4_CREDENTIAL.match(value)
    if match is None:
        return ""
    return f"{match.group(1)} Credential={match.group(2)}, SignedHeaders=host, Signature=redacted"


def _redact_query(query: str) -> str:
    if not query:
        return query
    kept = [part for part in query.split("&") if unquote(part.split("=", 1)[0]).lower() not in _DROPPED_QUERY_PARAMETERS]
    return "&".join(kept)


def _map_upload_id(query: str, upload_ids: dict[str, str]) -> str:
    if "uploadId=" not in query or not upload_ids:
        return query
    parts = []
    for part in query.split("&"):
        name, separator, value = part.partition("=")
        if name == "uploadId" and unquote(value) in upload_ids:
            part = f"{name}{separator}{quote(upload_ids[unquote(value)], safe='')}"
        parts.append(part)
    return "&".join(parts)


def _is_create_multipart_upload(environ: dict[str, Any]) -> bool:
    if environ.get("REQUEST_METHOD", "").upper() != "POST":
        return False
    return any(part.split("=", 1)[0] == "uploads" for part in environ.get("QUERY_STRING", "").split("&"))


def _upload_id_in(body: bytes) -> str | None:
    match = _UPLOAD_ID.search(body)
    return match.group(1).decode() if match else None


# --- moto's random generator, seeded per request ------------------------------

_seeded = threading.local()
_random_install_lock = threading.Lock()
_random_installed = False


def _install_thread_seeding() -> None:
    """Route moto's random generator through a per-thread generator while one is set.

    moto draws every identifier from one `MotoRandom` instance (a random.Random), shared by
    all threads. Instance attributes for getrandbits and random, the two primitives every
    other Random method builds on, let the thread running a journaled request use a
    generator of its own while concurrent requests keep using the shared one.
    """
    global _random_installed
    with _random_install_lock:
        if _random_installed:
            return
        from moto.moto_api._internal import mock_random

        shared_getrandbits = mock_random.getrandbits
        shared_random = mock_random.random

        def getrandbits(bits: int) -> int:
            generator = getattr(_seeded, "generator", None)
            return generator.getrandbits(bits) if generator is not None else shared_getrandbits(bits)

        def random() -> float:
            generator = getattr(_seeded, "generator", None)
            return generator.random() if generator is not None else shared_random()

        mock_random.getrandbits = getrandbits  # type: ignore[method-assign]
        mock_random.random = random  # type: ignore[method-assign]
        _random_installed = True


@contextmanager
def seeded_moto_random(seed: int) -> Iterator[None]:
    """Make moto's identifiers drawn in this thread a function of `seed` until the block ends."""
    import random as random_module

    _install_thread_seeding()
    _seeded.generator = random_module.Random(seed)
    try:
        yield
    finally:
        _seeded.generator = None


# --- running requests ---------------------------------------------------------


def call_buffered(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion and return its status, headers and whole body."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"] = status
        captured["headers"] = list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], b"".join(chunks)


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and put it back as a seekable stream with a Content-Length."""
    stream = environ.get("wsgi.input")
    body = b""
    if stream is not None:
        length_header = environ.get("CONTENT_LENGTH") or ""
        if length_header.isdigit():
            remaining = int(length_header)
            parts = []
            while remaining > 0:
                chunk = stream.read(remaining)
                if not chunk:
                    break
                parts.append(chunk)
                remaining -= len(chunk)
            body = b"".join(parts)
        elif environ.get("wsgi.input_terminated"):
            # werkzeug's server has de-chunked a Transfer-Encoding: chunked body.
            body = stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    # The body is plain now; moto itself drops Transfer-Encoding once a body is de-chunked.
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


class JournalingMotoApp:
    """moto's WSGI app with a write-ahead journal of its successful mutating requests.

    A response to a journaled request is sent only after its record is on disk. If the
    journal cannot be written, that request gets 500 and every later write gets 503:
    moto has already applied the write in memory, and the journal must not skip it
    and record later writes that may depend on it.

    NOTE: the fsync runs after the lock is released (group commit), so a concurrent
    read can see a write whose record is written but not yet fsynced. A killed process
    loses no such write, because the kernel has its data, but a power loss can.
    """

    def __init__(self, moto_app: WsgiApp, journal: RecordFile) -> None:
        self.moto_app = moto_app
        self.journal = journal
        self.lock = threading.Lock()
        self.failure: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = read_body(environ) if needs_body_to_classify(environ) else None
        if not is_journaled(environ, body):
            return self.moto_app(environ, start_response)
        if body is None:
            body = read_body(environ)
        if self.failure is not None:
            return _error(start_response, 503, "ServiceUnavailableException",
                          f"The offline stack stopped accepting writes because its journal failed ({self.failure}); restart it.")
        entry_environ = capture_environ(environ)
        seed = secrets.randbits(63)
        with self.lock:
            with seeded_moto_random(seed):
                status, headers, response_body = call_buffered(self.moto_app, environ)
            token = None
            if status.startswith("2"):
                upload_id = _upload_id_in(response_body) if _is_create_multipart_upload(environ) else None
                entry = JournalEntry(environ=entry_environ, body=body, seed=seed, upload_id=upload_id)
                try:
                    token = self.journal.append(entry.to_payload())
                except OSError as error:
                    return self._journal_failed(error, start_response)
        if token is not None:
            try:
                self.journal.sync(token)
            except OSError as error:
                return self._journal_failed(error, start_response)
        start_response(status, headers)
        return [response_body]

    def _journal_failed(self, error: OSError, start_response: Callable[..., Any]) -> list[bytes]:
        self.failure = f"{type(error).__name__}: {error}"
        logger.error("Writing the journal %s failed; refusing every write from now on", self.journal.path, exc_info=error)
        return _error(start_response, 500, "InternalFailure",
                      f"The offline stack applied this write but could not save it ({self.failure}); restart the stack.")


def _error(start_response: Callable[..., Any], status: int, error_type: str, message: str) -> list[bytes]:
    payload = json.dumps({"__type": error_type, "message": message}).encode()
    reason = "Service Unavailable" if status == 503 else "Internal Server Error"
    start_response(f"{status} {reason}", [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Content-Length", str(len(payload))),
        ("x-amzn-ErrorType", error_type),
    ])
    return [payload]


# --- replay -------------------------------------------------------------------

# Replay failures logged one by one before the rest are only counted.
_MAX_LOGGED_REPLAY_FAILURES = 10


def replay_journal(moto_app: WsgiApp, records: Iterable[Record]) -> tuple[int, int]:
    """Run every journaled request in moto again, in order; return (records replayed, records moto rejected).

    Nothing is logged per record at INFO. A rejected record means the restored state
    differs from the saved one, so each gets a WARNING with its byte offset.
    """
    replayed = 0
    rejected = 0
    upload_ids: dict[str, str] = {}
    for record in records:
        entry = JournalEntry.from_payload(record.payload)
        environ = entry.wsgi_environ(upload_ids)
        with seeded_moto_random(entry.seed):
            status, _, body = call_buffered(moto_app, environ)
        replayed += 1
        if not status.startswith("2"):
            rejected += 1
            if rejected <= _MAX_LOGGED_REPLAY_FAILURES:
                logger.warning(
                    "Replaying the journal record at byte %d (%s %s) returned %s; the restored state lacks that write.",
                    record.offset, environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), status,
                )
            continue
        if entry.upload_id is not None:
            new_upload_id = _upload_id_in(body)
            if new_upload_id is not None:
                upload_ids[entry.upload_id] = new_upload_id
        logger.debug("Replayed the journal record at byte %d", record.offset)
    if rejected > _MAX_LOGGED_REPLAY_FAILURES:
        logger.warning("%d more journal records were rejected on replay", rejected - _MAX_LOGGED_REPLAY_FAILURES)
    return replayed, rejected
