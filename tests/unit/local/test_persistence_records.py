"""Record files: framing, torn tails after a crash, corruption, and appends after recovery."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from local.persistence.records import (
    FILE_HEADER,
    FRAME_HEADER,
    CorruptRecordFileError,
    RecordFile,
    encode_file_header,
    encode_record,
)

PAYLOADS = [b"first", b"second record", b'{"json": true}', bytes(range(256))]


def write_file(path: Path, payloads: list[bytes], generation: int = 1) -> list[int]:
    """Write a record file and return the byte offset of each record."""
    data = bytearray(encode_file_header(generation))
    offsets = []
    for payload in payloads:
        offsets.append(len(data))
        data += encode_record(payload)
    path.write_bytes(bytes(data))
    return offsets


def read_all(path: Path) -> tuple[RecordFile, list[bytes]]:
    record_file = RecordFile(path)
    payloads = [record.payload for record in record_file.read(new_generation=1)]
    return record_file, payloads


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    record_file, payloads = read_all(path)
    tokens = [record_file.append(payload) for payload in PAYLOADS]
    record_file.sync(tokens[-1])
    record_file.close()

    reopened, payloads = read_all(path)
    reopened.close()
    assert payloads == PAYLOADS


def test_records_offsets_and_generation(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    offsets = write_file(path, PAYLOADS, generation=7)
    record_file = RecordFile(path)
    records = list(record_file.read(new_generation=1))
    record_file.close()
    assert record_file.generation == 7
    assert [record.offset for record in records] == offsets


def test_records_missing_file_is_created_with_generation(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    record_file, payloads = read_all(path)
    record_file.close()
    assert payloads == []
    assert path.read_bytes() == encode_file_header(1)


def test_records_torn_at_every_offset_of_last_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "records.log"
    offsets = write_file(path, PAYLOADS)
    complete = path.read_bytes()
    last = offsets[-1]
    for cut in range(last + 1, len(complete)):
        path.write_bytes(complete[:cut])
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            record_file, payloads = read_all(path)
        record_file.close()
        assert payloads == PAYLOADS[:-1], f"cut at byte {cut}"
        assert path.stat().st_size == last, f"cut at byte {cut}"
        assert f"at byte {last}" in caplog.text, f"cut at byte {cut}"


def test_records_cut_at_record_boundary_is_not_torn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "records.log"
    offsets = write_file(path, PAYLOADS)
    path.write_bytes(path.read_bytes()[:offsets[-1]])
    with caplog.at_level(logging.WARNING):
        record_file, payloads = read_all(path)
    record_file.close()
    assert payloads == PAYLOADS[:-1]
    assert caplog.text == ""


def test_records_damaged_last_record_is_torn(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    offsets = write_file(path, PAYLOADS)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    record_file, payloads = read_all(path)
    record_file.close()
    assert payloads == PAYLOADS[:-1]
    assert path.stat().st_size == offsets[-1]


def test_records_zero_filled_tail_is_torn(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    write_file(path, PAYLOADS)
    size = path.stat().st_size
    with path.open("ab") as stream:
        stream.write(b"\0" * 4096)
    record_file, payloads = read_all(path)
    record_file.close()
    assert payloads == PAYLOADS
    assert path.stat().st_size == size


def test_records_damaged_middle_record_raises(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    offsets = write_file(path, PAYLOADS)
    data = bytearray(path.read_bytes())
    data[offsets[1] + FRAME_HEADER.size] ^= 0xFF
    path.write_bytes(bytes(data))
    record_file = RecordFile(path)
    with pytest.raises(CorruptRecordFileError, match=f"at byte {offsets[1]}"):
        list(record_file.read(new_generation=1))


def test_records_wrong_magic_raises(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    path.write_bytes(b"NOTALOG\n" + bytes(8))
    with pytest.raises(CorruptRecordFileError, match="does not start with"):
        RecordFile(path).read(new_generation=1)


def test_records_short_header_raises(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    path.write_bytes(encode_file_header(1)[: FILE_HEADER.size - 1])
    with pytest.raises(CorruptRecordFileError, match="shorter than"):
        RecordFile(path).read(new_generation=1)


def test_records_append_after_torn_tail_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    write_file(path, PAYLOADS)
    path.write_bytes(path.read_bytes()[:-3])
    record_file, _ = read_all(path)
    record_file.sync(record_file.append(b"after the crash"))
    record_file.close()

    reopened, payloads = read_all(path)
    reopened.close()
    assert payloads == [*PAYLOADS[:-1], b"after the crash"]


def test_records_empty_payload_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        encode_record(b"")


def test_records_replace_starts_new_generation(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    write_file(path, PAYLOADS, generation=3)
    record_file, _ = read_all(path)
    stale_token = record_file.append(b"written before the replacement")
    record_file.replace(4)
    # A sync for the replaced file returns at once: the caller's snapshot already contains the write.
    record_file.sync(stale_token)
    record_file.close()
    assert RecordFile(path).stored_generation() == 4
    reopened, payloads = read_all(path)
    reopened.close()
    assert payloads == []


def test_records_failed_append_cuts_partial_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "records.log"
    record_file, _ = read_all(path)
    record_file.sync(record_file.append(b"kept"))
    size = path.stat().st_size

    import local.persistence.records as records_module

    real_write = records_module.os.write

    def write_half_then_fail(descriptor: int, data: bytes) -> int:
        if len(data) > 8:
            return real_write(descriptor, bytes(data[:8]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records_module.os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        record_file.append(b"lost when the disk is full")
    monkeypatch.undo()
    record_file.close()
    assert path.stat().st_size == size


def test_records_close_covers_pending_sync(tmp_path: Path) -> None:
    path = tmp_path / "records.log"
    record_file, _ = read_all(path)
    token = record_file.append(b"written, not yet fsynced")
    record_file.close()
    # The request thread that wrote the record syncs after the file was closed at shutdown.
    record_file.sync(token)
    reopened, payloads = read_all(path)
    reopened.close()
    assert payloads == [b"written, not yet fsynced"]
