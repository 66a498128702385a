"""Hot reload: restart a function's workers when a file of its package changes.

`SourceWatcher` polls the modification times of the files under each function's package
folder with the standard library, every POLL_SECONDS. On a change, `HotReloader` checks
the changed Python files for syntax errors (and logs them at once), recycles the
function's workers so that the next invocation imports the new code, and starts one
fresh worker in the background, so the next request does not wait for the cold start.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Seconds between two scans. A change is picked up within this time plus one scan.
POLL_SECONDS = 0.3
# Folder names never scanned: bytecode caches and version control or tool folders.
IGNORED_DIRECTORIES = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
# File name endings of bytecode and of editors' backup and swap files.
IGNORED_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".swx", ".swo", ".tmp")

# (st_mtime_ns, st_size) of each file, by path relative to the folder shown in messages.
Snapshot = dict[str, tuple[int, int]]


class ReloadableRuntime(Protocol):
    """The part of LambdaRuntime that hot reload calls."""

    def recycle(self, function_name: str) -> None: ...

    def prewarm(self, function_name: str) -> None: ...


@dataclass(frozen=True)
class WatchedFunction:
    name: str
    # The folder whose files are watched: the function's package folder.
    package_dir: Path
    # Changed paths are shown relative to this folder, e.g. frontend_fn/app.py.
    display_root: Path


def is_ignored(name: str) -> bool:
    return name.startswith((".", "#")) or name.endswith(IGNORED_SUFFIXES)


def scan(folder: Path, display_root: Path) -> Snapshot:
    """Return the modification time and size of every watched file under `folder`.

    A file that disappears during the scan is left out. A missing folder gives an empty snapshot.
    """
    snapshot: Snapshot = {}
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(name for name in subdirectories if name not in IGNORED_DIRECTORIES and not is_ignored(name))
        for name in files:
            if is_ignored(name):
                continue
            path = Path(directory, name)
            try:
                status = path.stat()
            except OSError:
                continue
            snapshot[path.relative_to(display_root).as_posix()] = (status.st_mtime_ns, status.st_size)
    return snapshot


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    """Return the paths added, removed or modified between two snapshots, sorted."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def syntax_error(path: Path) -> str | None:
    """Return a one-line description of the syntax error in a Python file, or None when it compiles."""
    try:
        source = path.read_bytes()
    except OSError:
        return None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except ValueError as error:
        # compile() raises ValueError for source bytes that contain a null byte.
        return str(error)
    return None


class SourceWatcher:
    """Poll the package folder of each function and report its changed files to `on_change`."""

    def __init__(
        self,
        functions: Sequence[WatchedFunction],
        on_change: Callable[[WatchedFunction, list[str]], None],
        *,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.functions = list(functions)
        self._on_change = on_change
        self._interval = interval
        self._snapshots = {function.name: scan(function.package_dir, function.display_root) for function in self.functions}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hot-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def poll(self) -> dict[str, list[str]]:
        """Scan every folder once, call `on_change` for each function with changes, and return the changes."""
        changes: dict[str, list[str]] = {}
        for function in self.functions:
            current = scan(function.package_dir, function.display_root)
            changed = changed_paths(self._snapshots[function.name], current)
            self._snapshots[function.name] = current
            if changed:
                changes[function.name] = changed
                self._on_change(function, changed)
        return changes

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except Exception:
                # The watcher must outlive one failed reload, or later edits would go unnoticed.
                logger.exception("Hot reload failed; it keeps watching for the next change")


class HotReloader:
    """Recycle a function's workers after its files change, and start a fresh worker in the background."""

    def __init__(self, runtime: ReloadableRuntime, functions: Sequence[WatchedFunction]) -> None:
        self._runtime = runtime
        self.watcher = SourceWatcher(functions, self.reload)

    def start(self) -> None:
        self.watcher.start()
        folders = ", ".join(str(function.package_dir) for function in self.watcher.functions)
        logger.info("Hot reload is watching %s", folders)

    def stop(self) -> None:
        self.watcher.stop()

    def reload(self, function: WatchedFunction, changed: list[str]) -> None:
        for path in changed:
            if not path.endswith(".py"):
                continue
            error = syntax_error(function.display_root / path)
            if error is not None:
                logger.error(
                    "Syntax error in %s, %s. Requests to %s fail with 502 until the file is fixed.",
                    path, error, function.name,
                )
        self._runtime.recycle(function.name)
        logger.info("Reloaded %s (changed: %s)", function.name, ", ".join(changed))
        threading.Thread(target=self._prewarm, args=(function.name,), name=f"prewarm-{function.name}", daemon=True).start()

    def _prewarm(self, function_name: str) -> None:
        try:
            self._runtime.prewarm(function_name)
        except Exception:
            logger.exception("Starting a fresh worker of %s after a reload failed", function_name)


def watched_functions(functions: Iterable[Any]) -> list[WatchedFunction]:
    """Build the watch list from the runtime's FunctionConfig objects (name, source_dir, package)."""
    return [
        WatchedFunction(name=function.name, package_dir=function.source_dir / function.package, display_root=function.source_dir)
        for function in functions
    ]


def start_hot_reload(runtime: Any) -> HotReloader | None:
    """Start watching the packages of the runtime's functions, or return None when it cannot recycle workers."""
    needed = ("recycle", "prewarm", "function_names", "resolve")
    if not all(hasattr(runtime, name) for name in needed):
        logger.debug("Hot reload is off: the Lambda runtime %s cannot recycle workers", type(runtime).__name__)
        return None
    functions = [runtime.resolve(name) for name in runtime.function_names()]
    reloader = HotReloader(runtime, watched_functions(functions))
    reloader.start()
    return reloader
