"""Append-only record files that lose at most the record being written when the process dies.

Layout: a 16-byte file header (8-byte magic, 8-byte big-endian generation number),
then records. Each record is a 12-byte frame header (8-byte big-endian payload
length, 4-byte CRC-32 of the payload) followed by the payload.

A record is complete only when its length and CRC match. Records are only ever
appended, so a crash can leave an invalid record only at the end of the file. Its
frame then runs past the end of the file, fails its CRC as the last record, or is
followed by zeros only (a file that grew before its data reached the disk). Such a
torn tail was never acknowledged, so opening the file drops it with a WARNING and
truncates it. An invalid record with other data after it is real corruption and
raises CorruptRecordFileError, because skipping it would replay later writes without it.
"""
from __future__ import annotations

import errno
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from local.persistence.files import fsync_directory, write_atomic

logger = logging.getLogger(__name__)

MAGIC = b"SVYLOG1\n"
FILE_HEADER = struct.Struct(">8sQ")
FRAME_HEADER = struct.Struct(">QI")
_READ_CHUNK_BYTES = 1024 * 1024


class CorruptRecordFileError(RuntimeError):
    """Raised when a record file is damaged in a way a crash cannot explain. The message names the byte offset."""


@dataclass(frozen=True)
class Record:
    offset: int
    payload: bytes


def encode_file_header(generation: int) -> bytes:
    return FILE_HEADER.pack(MAGIC, generation)


def encode_record(payload: bytes) -> bytes:
    """Frame one payload: length, CRC-32, payload."""
    if not payload:
        # An empty payload would frame as 12 zero bytes, which the reader takes for a torn tail.
        raise ValueError("a record payload must not be empty")
    return FRAME_HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class RecordReader:
    """Read the records of one file in order; after iterating, `valid_end` and `torn_offset` describe the tail."""

    def __init__(self, stream: BinaryIO, size: int, name: str) -> None:
        self._stream = stream
        self._size = size
        self._name = name
        self.generation = self._read_file_header()
        self.valid_end = FILE_HEADER.size
        self.torn_offset: int | None = None

    def _read_file_header(self) -> int:
        raw = self._stream.read(FILE_HEADER.size)
        if len(raw) < FILE_HEADER.size:
            raise CorruptRecordFileError(f"{self._name} is shorter than its {FILE_HEADER.size}-byte header.")
        magic, generation = FILE_HEADER.unpack(raw)
        if magic != MAGIC:
            raise CorruptRecordFileError(f"{self._name} does not start with {MAGIC!r}; it is not a record file of this stack.")
        return generation

    def __iter__(self) -> Iterator[Record]:
        offset = FILE_HEADER.size
        while offset < self._size:
            record = self._read_record(offset)
            if record is None:
                return
            yield record
            offset += FRAME_HEADER.size + len(record.payload)
            self.valid_end = offset

    def _read_record(self, offset: int) -> Record | None:
        """Return the record at `offset`, None for a torn tail, or raise CorruptRecordFileError."""
        raw = self._stream.read(FRAME_HEADER.size)
        if len(raw) < FRAME_HEADER.size:
            return self._torn(offset)
        length, checksum = FRAME_HEADER.unpack(raw)
        end = offset + FRAME_HEADER.size + length
        if end > self._size:
            return self._torn(offset)
        payload = self._stream.read(length) if length else b""
        if length and zlib.crc32(payload) == checksum:
            return Record(offset=offset, payload=payload)
        if end == self._size or self._rest_is_zero(offset, raw + payload):
            return self._torn(offset)
        raise CorruptRecordFileError(
            f"{self._name} has an invalid record at byte {offset} followed by more data; "
            "it was damaged after it was written. Move the file away to keep it, or start with --reset."
        )

    def _rest_is_zero(self, offset: int, already_read: bytes) -> bool:
        if already_read.strip(b"\0"):
            return False
        while chunk := self._stream.read(_READ_CHUNK_BYTES):
            if chunk.strip(b"\0"):
                return False
        return True

    def _torn(self, offset: int) -> None:
        self.torn_offset = offset
        return None


class RecordFile:
    """An open record file for appending, with group commit: one fsync covers every record written before it.

    Callers serialise `append` (the journal holds its lock around execute-and-append),
    and call `sync` with the token `append` returned before acknowledging the record.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.generation = 0
        self._descriptor: int | None = None
        self._written_end = 0
        self._synced_end = 0
        # Bumped whenever the file is replaced, so a sync for a replaced file is a no-op:
        # the snapshot that replaced it was fsynced before the replacement.
        self._epoch = 0
        self._sync_lock = threading.Lock()

    def stored_generation(self) -> int | None:
        """Return the generation in the file's header, or None when the file does not exist."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as stream:
            return RecordReader(stream, self.path.stat().st_size, str(self.path)).generation

    def read(self, *, new_generation: int) -> Iterator[Record]:
        """Return an iterator over every complete record; create the file with `new_generation` when it is missing.

        The file header is read at once, so `generation` is set on return. Once the
        iterator is exhausted, a torn tail has been dropped with a WARNING, the file is cut
        at the last complete record, and the file is open for `append`.
        """
        if not self.path.exists():
            self.replace(new_generation)
            return iter(())
        size = self.path.stat().st_size
        stream = self.path.open("rb")
        try:
            reader = RecordReader(stream, size, str(self.path))
        except BaseException:
            stream.close()
            raise
        self.generation = reader.generation
        return self._read_records(stream, reader, size)

    def _read_records(self, stream: BinaryIO, reader: RecordReader, size: int) -> Iterator[Record]:
        with stream:
            yield from reader
        if reader.torn_offset is not None:
            logger.warning(
                "Dropped the incomplete last record of %s at byte %d (%d bytes): the stack stopped while "
                "writing it, before it acknowledged the write.",
                self.path, reader.torn_offset, size - reader.torn_offset,
            )
            os.truncate(self.path, reader.valid_end)
        self._open_for_append(reader.valid_end)

    def replace(self, generation: int) -> None:
        """Atomically replace the file with an empty one of `generation`, and open it for `append`."""
        self.close()
        write_atomic(self.path, encode_file_header(generation))
        self.generation = generation
        self._open_for_append(FILE_HEADER.size)

    def _open_for_append(self, end: int) -> None:
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        # The truncation in read() must be on disk before records are appended after it.
        os.fsync(descriptor)
        fsync_directory(self.path.parent)
        with self._sync_lock:
            self._descriptor = descriptor
            self._epoch += 1
            self._written_end = end
            self._synced_end = end

    @property
    def size(self) -> int:
        return self._written_end

    def has_records(self) -> bool:
        return self._written_end > FILE_HEADER.size

    def append(self, payload: bytes) -> tuple[int, int]:
        """Write one record (not yet fsynced) and return the token to pass to `sync`.

        On an OSError the file is cut back to its last complete record before the error is
        raised, so a half-written record never sits in front of later ones.
        """
        if self._descriptor is None:
            raise RuntimeError(f"{self.path} is not open")
        frame = encode_record(payload)
        start = self._written_end
        try:
            view = memoryview(frame)
            while view:
                written = os.write(self._descriptor, view)
                view = view[written:]
        except OSError:
            os.ftruncate(self._descriptor, start)
            raise
        self._written_end = start + len(frame)
        return self._epoch, self._written_end

    def sync(self, token: tuple[int, int]) -> None:
        """Return once the record of `token` is on disk, fsyncing unless another call already covered it."""
        epoch, end = token
        with self._sync_lock:
            if epoch != self._epoch or self._synced_end >= end:
                return
            if self._descriptor is None:
                raise OSError(errno.EBADF, f"{self.path} was closed before this record was fsynced")
            target = self._written_end
            os.fsync(self._descriptor)
            self._synced_end = target

    def close(self) -> None:
        """Fsync and close the file; a `sync` still waiting for its record then returns at once."""
        with self._sync_lock:
            if self._descriptor is None:
                return
            try:
                os.fsync(self._descriptor)
                self._synced_end = self._written_end
            finally:
                os.close(self._descriptor)
                self._descriptor = None
