"""Atomic file replacement and the data folder lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from local.names import REPO_ROOT
from local.persistence.files import DataDirLock, DataDirLockedError, stale_temp_files, write_atomic


def test_write_atomic_replaces_content(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"


def test_write_atomic_sets_owner_only_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, b"secret hashes")
    assert path.stat().st_mode & 0o777 == 0o600


def test_write_atomic_failed_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, b"old")

    def fail_replace(source: str, destination: str) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="rename failed"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert stale_temp_files(tmp_path, ("state.json",)) == []


def test_write_atomic_crash_before_rename_keeps_old_file(tmp_path: Path) -> None:
    # A child process writes the new file, then dies between the fsync and the rename.
    path = tmp_path / "state.json"
    write_atomic(path, b"old")
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from local.persistence.files import write_atomic
        os.replace = lambda source, destination: os._exit(9)
        write_atomic(Path({str(path)!r}), b"new")
        """
    )
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=60, check=False)
    assert child.returncode == 9
    assert path.read_bytes() == b"old"
    leftovers = stale_temp_files(tmp_path, ("state.json",))
    assert len(leftovers) == 1
    assert leftovers[0].read_bytes() == b"new"


def test_lock_second_holder_is_rejected(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(DataDirLockedError, match=f"in use by process {os.getpid()}"):
            DataDirLock(tmp_path).acquire()
    finally:
        first.release()


def test_lock_released_can_be_taken_again(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path)
    first.acquire()
    first.release()
    second = DataDirLock(tmp_path)
    second.acquire()
    second.release()
    assert (tmp_path / DataDirLock.FILE_NAME).exists()


def test_lock_of_killed_process_is_free(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from local.persistence.files import DataDirLock
        DataDirLock(Path({str(tmp_path)!r})).acquire()
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child = subprocess.run([sys.executable, "-c", "import signal\n" + script], cwd=REPO_ROOT, timeout=60, check=False)
    assert child.returncode == -signal.SIGKILL
    lock = DataDirLock(tmp_path)
    lock.acquire()
    lock.release()
