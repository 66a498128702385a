"""Frames exchanged by the runtime and its worker processes over a private pipe.

A frame is an 8-byte prefix (two big-endian unsigned 32-bit lengths), a JSON header
and a body of raw bytes. The body carries the event or the function's response
payload unchanged, so the payload is never parsed or re-encoded on the way.
"""
from __future__ import annotations

import json
import struct
from typing import BinaryIO

_PREFIX = struct.Struct(">II")


class ProtocolError(Exception):
    """The pipe carried bytes that are not a complete frame."""


def write_frame(stream: BinaryIO, header: dict[str, object], body: bytes = b"") -> None:
    header_bytes = json.dumps(header).encode()
    stream.write(_PREFIX.pack(len(header_bytes), len(body)) + header_bytes + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[dict[str, object], bytes] | None:
    """Read one frame, or return None when the pipe was closed between frames."""
    prefix = _read_exactly(stream, _PREFIX.size, allow_eof=True)
    if prefix is None:
        return None
    header_length, body_length = _PREFIX.unpack(prefix)
    header = json.loads(_read_exactly(stream, header_length))
    body = _read_exactly(stream, body_length)
    return header, body


def _read_exactly(stream: BinaryIO, size: int, *, allow_eof: bool = False) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            if allow_eof and remaining == size:
                return None
            raise ProtocolError(f"The pipe closed after {size - remaining} of {size} bytes of a frame.")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
