"""The data folder: where the offline stack keeps its state between runs, and how it restores it.

Files in the folder:

- `moto-snapshot.pickle`: moto's whole state at the last compaction (see moto_snapshot);
- `moto-journal.log`: every successful mutating moto request since that snapshot (see moto_journal);
- `cognito.json`: the local user pool, replaced atomically after each change;
- `outbox.log`: the outbox messages, one record each, fsynced before the sender continues;
- `stack.json`: the prefix, region and account id the state belongs to;
- `.lock`: held by the running stack, so a second stack cannot use the folder.

Compaction writes a snapshot that covers the journal's generation, then replaces the
journal with an empty one of the next generation. A crash between the two steps
leaves a journal whose generation the snapshot covers already; start-up skips it
instead of applying its writes twice.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.persistence.cognito_state import CognitoPool, PersistentCognito
from local.persistence.files import DataDirLock, stale_temp_files, write_atomic
from local.persistence.moto_journal import JournalingMotoApp, WsgiApp, replay_journal
from local.persistence.moto_snapshot import SnapshotError, load_snapshot, save_snapshot
from local.persistence.records import CorruptRecordFileError, Record, RecordFile

logger = logging.getLogger(__name__)

SNAPSHOT_FILE = "moto-snapshot.pickle"
JOURNAL_FILE = "moto-journal.log"
COGNITO_FILE = "cognito.json"
OUTBOX_FILE = "outbox.log"
IDENTITY_FILE = "stack.json"
# The files --reset deletes. It deletes nothing else, so a mistyped --data-dir loses no other files.
STATE_FILES = (SNAPSHOT_FILE, JOURNAL_FILE, COGNITO_FILE, OUTBOX_FILE, IDENTITY_FILE)


class StateStoreError(RuntimeError):
    """Raised when the saved state cannot be used. The message names the file and the fix."""


@dataclass
class RestoreSummary:
    """Counts of the state that start-up restored from the data folder, for the stack's output."""

    folder: Path
    from_snapshot: bool = False
    journal_writes: int = 0
    rejected_writes: int = 0
    users: int = 0
    outbox_messages: int = 0
    seconds: float = 0.0
    deleted_by_reset: list[Path] = field(default_factory=list)

    @property
    def found_state(self) -> bool:
        return self.from_snapshot or bool(self.journal_writes or self.users or self.outbox_messages)


class OutboxFile:
    """The outbox's MessageLog: one record a message, fsynced before `append` returns."""

    def __init__(self, path: Path) -> None:
        self._file = RecordFile(path)

    def load(self) -> list[dict[str, str]]:
        return [json.loads(record.payload) for record in self._file.read(new_generation=1)]

    def append(self, message: dict[str, str]) -> None:
        self._file.sync(self._file.append(json.dumps(message, separators=(",", ":")).encode()))

    def close(self) -> None:
        self._file.close()


class StateStore:
    """Open, restore, save and close one data folder; one stack uses it at a time.

    Call `open`, then `restore_moto` before the edge serves, `restore_outbox` and
    `attach_cognito` while starting, and `close` after the servers have stopped.
    """

    def __init__(self, folder: Path, identity: dict[str, str]) -> None:
        self.folder = folder
        self.identity = identity
        self.summary = RestoreSummary(folder=folder)
        self._lock = DataDirLock(folder)
        self._journal = RecordFile(folder / JOURNAL_FILE)
        self._outbox_file: OutboxFile | None = None
        self._journaling_app: JournalingMotoApp | None = None
        # Compaction replaces the journal only after the saved state was fully restored;
        # after a failed start it would overwrite good data with a partial state.
        self._moto_restored = False
        self._opened = False

    # --- start --------------------------------------------------------------

    def open(self, *, reset: bool = False) -> None:
        """Create and lock the folder, delete its state when `reset` is set, and check whose state it is."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock.acquire()
        self._opened = True
        if reset:
            self.summary.deleted_by_reset = self._delete_state()
        for stale in stale_temp_files(self.folder, STATE_FILES):
            logger.debug("Removing %s, left by a crash during an atomic write", stale)
            stale.unlink(missing_ok=True)
        self._check_identity()

    def _delete_state(self) -> list[Path]:
        deleted = []
        for name in STATE_FILES:
            path = self.folder / name
            if path.exists():
                path.unlink()
                deleted.append(path)
        return deleted

    def _check_identity(self) -> None:
        path = self.folder / IDENTITY_FILE
        if not path.exists():
            write_atomic(path, json.dumps(self.identity, indent=2).encode() + b"\n", mode=0o644)
            return
        saved = json.loads(path.read_text())
        if saved != self.identity:
            differences = ", ".join(
                f"{key} {saved.get(key)!r} (this stack: {value!r})" for key, value in self.identity.items() if saved.get(key) != value
            )
            raise StateStoreError(
                f"The data folder {self.folder} contains the state of a stack with {differences}. Start with the "
                "same settings, choose another --data-dir, or add --reset to discard that state."
            )

    def restore_moto(self, moto_app: WsgiApp) -> JournalingMotoApp:
        """Load the snapshot, replay the journal into `moto_app`, and return the journaling app to serve."""
        started = time.monotonic()
        snapshot_path = self.folder / SNAPSHOT_FILE
        covered_generation = 0
        try:
            if snapshot_path.exists():
                covered_generation = load_snapshot(snapshot_path)
                self.summary.from_snapshot = True
            journal_generation = self._journal.stored_generation()
            if journal_generation is not None and journal_generation > covered_generation + 1:
                raise StateStoreError(self._missing_snapshot_message(journal_generation, covered_generation))
            if journal_generation is not None and journal_generation <= covered_generation:
                # A crash came between writing the snapshot and replacing the journal.
                logger.info("Skipped %s: the snapshot already contains its writes", self._journal.path)
                self._journal.replace(covered_generation + 1)
                records: Iterable[Record] = ()
            else:
                records = self._journal.read(new_generation=covered_generation + 1)
            replayed, rejected = replay_journal(moto_app, records)
        except (SnapshotError, CorruptRecordFileError) as error:
            raise StateStoreError(str(error)) from error

        self.summary.journal_writes = replayed
        self.summary.rejected_writes = rejected
        self._moto_restored = True
        if replayed:
            # Compact now, so a stack that is killed again and again does not replay an ever longer journal.
            self._compact()
        self.summary.seconds += time.monotonic() - started
        self._journaling_app = JournalingMotoApp(moto_app, self._journal)
        return self._journaling_app

    def _missing_snapshot_message(self, journal_generation: int, covered_generation: int) -> str:
        # Generation n of the journal starts where the snapshot of generation n - 1 ends.
        found = "is missing" if covered_generation == 0 else f"covers generation {covered_generation}"
        return (
            f"The journal {self._journal.path} continues the snapshot of generation {journal_generation - 1}, but "
            f"{self.folder / SNAPSHOT_FILE} {found}, so the writes between them are lost. "
            "Put the right snapshot back, or start with --reset."
        )

    def restore_outbox(self, outbox: Any) -> None:
        """Load the saved messages into `outbox` and make it save every new one."""
        started = time.monotonic()
        self._outbox_file = OutboxFile(self.folder / OUTBOX_FILE)
        try:
            messages = self._outbox_file.load()
        except CorruptRecordFileError as error:
            raise StateStoreError(str(error)) from error
        outbox.load(messages)
        outbox.persist_to(self._outbox_file)
        self.summary.outbox_messages = len(messages)
        self.summary.seconds += time.monotonic() - started

    def attach_cognito(self, cognito: CognitoPool) -> PersistentCognito:
        """Load the saved user pool into `cognito` and return it wrapped, so every change is saved."""
        started = time.monotonic()
        persistent = PersistentCognito(cognito, self.folder / COGNITO_FILE)
        try:
            self.summary.users = persistent.restore()
        except (ValueError, KeyError, TypeError) as error:
            raise StateStoreError(
                f"The saved user pool {persistent.path} could not be loaded ({error}). "
                "Start with the same settings, or add --reset to discard the saved state."
            ) from error
        if not persistent.path.exists():
            # Save the new pool's signing key at once, so tokens it signs stay valid after a restart.
            persistent.save()
        self.summary.seconds += time.monotonic() - started
        return persistent

    # --- stop ---------------------------------------------------------------

    def close(self) -> int | None:
        """Compact when the journal has records, then release the folder; return the snapshot's size in bytes, if written."""
        if not self._opened:
            return None
        size = None
        try:
            if self._moto_restored and self._journal.has_records():
                size = self._compact()
        except StateStoreError as error:
            logger.error("%s", error)
        finally:
            self._journal.close()
            if self._outbox_file is not None:
                self._outbox_file.close()
            self._lock.release()
            self._opened = False
        return size

    def _compact(self) -> int | None:
        """Fold the journal into a new snapshot and return its size in bytes.

        When the snapshot cannot be written, the journal stays in place, still correct,
        and this returns None. Raise StateStoreError when the snapshot was written but
        the journal could not be replaced, because no write can be journaled after that.
        """
        lock = self._journaling_app.lock if self._journaling_app is not None else contextlib.nullcontext()
        with lock:
            started = time.monotonic()
            try:
                size = save_snapshot(self.folder / SNAPSHOT_FILE, self._journal.generation)
            except (SnapshotError, OSError) as error:
                logger.warning("Compacting the journal failed; it stays in place and is replayed on the next start: %s", error)
                return None
            try:
                self._journal.replace(self._journal.generation + 1)
            except OSError as error:
                raise StateStoreError(
                    f"Replacing the journal {self._journal.path} after writing a snapshot failed ({error}). The next "
                    "start skips the old journal, because the snapshot contains its writes."
                ) from error
            logger.info(
                "Compacted the journal into %s (%.1f MB) in %.2f s",
                self.folder / SNAPSHOT_FILE, size / 1e6, time.monotonic() - started,
            )
            return size
