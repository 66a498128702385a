"""File primitives of the data folder: atomic replacement and the single-stack lock."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Suffix of the temporary files that write_atomic renames into place; a crash can leave one behind.
TEMP_SUFFIX = ".tmp"


class DataDirLockedError(RuntimeError):
    """Raised when another process holds the data folder's lock. The message names its PID when known."""


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename or a new file in it survives a power loss."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` so that a crash at any point leaves either the old or the new file.

    The data goes to a temporary file in the same folder, which is flushed and fsynced,
    renamed over `path` with os.replace, and then the folder is fsynced so the rename is durable.
    """
    folder = path.parent
    descriptor, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        # Only an error this process survives gets here. After a crash, StateStore.open
        # deletes the temporary file on the next start.
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_directory(folder)


def stale_temp_files(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """Return the temporary files that write_atomic left in `folder` for any of `names`."""
    found: list[Path] = []
    for name in names:
        found.extend(sorted(folder.glob(f".{name}.*{TEMP_SUFFIX}")))
    return found


class DataDirLock:
    """An exclusive lock on a data folder, so two stacks never append to the same journal.

    It is a `flock` on a file in the folder: the kernel releases it when the process
    exits, also after SIGKILL, so a crashed stack never leaves the folder locked.
    """

    FILE_NAME = ".lock"

    def __init__(self, folder: Path) -> None:
        self.path = folder / self.FILE_NAME
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DataDirLockedError at once; never wait."""
        import fcntl  # POSIX only; imported here so that a stack with --no-persist never needs it

        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            os.close(descriptor)
            holder = f"process {owner}" if owner.isdigit() else "another process"
            raise DataDirLockedError(
                f"The data folder {self.path.parent} is in use by {holder} (another offline stack?). "
                "Stop it, or start this stack with another --data-dir or with --no-persist."
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is None:
            return
        # Closing the descriptor releases the flock. The file stays: deleting it would let a
        # second stack lock a new file of the same name while this one still runs.
        os.close(self._descriptor)
        self._descriptor = None
