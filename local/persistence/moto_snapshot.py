"""Snapshots of moto's whole in-memory state, which let the journal start empty again.

moto keeps each service's state in a module-level BackendDict (account id -> region ->
backend object). A snapshot pickles those of every service in use. Pickle is what
makes the snapshot complete, whatever resources a client created, but it ties the file
to the moto version that wrote it, so loading checks the version first.

NOTE: unpickling runs code named in the file. The data folder must be as trusted as
the repository itself: load only folders this project wrote.
"""
from __future__ import annotations

import logging
import pickle
import sys
from pathlib import Path
from typing import Any

from local.persistence.files import write_atomic

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1


class SnapshotError(RuntimeError):
    """Raised when a snapshot cannot be written or loaded. The message gives the cause and the fix."""


def _python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _moto_version() -> str:
    import moto

    return moto.__version__


def capture_backends() -> dict[str, dict[str, Any]]:
    """Return every service's backends that moto has created, by service name and account id."""
    from moto.backends import get_backend
    from moto.core.base_backend import BackendDict

    captured: dict[str, dict[str, Any]] = {}
    for backend_dict in list(BackendDict._instances):
        name = backend_dict.service_name
        try:
            registered = get_backend(name)  # type: ignore[call-overload]
        except (KeyError, ValueError, ModuleNotFoundError):
            registered = None
        if registered is not backend_dict:
            # load_snapshot finds a service's backends by get_backend(name); one it cannot find
            # that way could not be restored, so the snapshot must not replace the journal.
            raise SnapshotError(f"moto service {name!r} cannot be looked up by name, so it cannot be snapshotted")
        captured[name] = dict(backend_dict)
    return captured


def save_snapshot(path: Path, generation: int) -> int:
    """Write moto's state atomically, marked as covering journal generations up to `generation`; return its size in bytes."""
    state = {
        "format": SNAPSHOT_FORMAT,
        "moto_version": _moto_version(),
        "python_version": _python_version(),
        "generation": generation,
        "backends": capture_backends(),
    }
    try:
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RuntimeError) as error:
        # RuntimeError: a dict changed size while pickle walked it, under a concurrent request.
        raise SnapshotError(f"moto's state could not be pickled: {error}") from error
    write_atomic(path, data)
    return len(data)


def load_snapshot(path: Path) -> int:
    """Replace moto's state with the snapshot's and return the journal generation it covers."""
    try:
        state = pickle.loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError, ImportError, TypeError) as error:
        raise SnapshotError(
            f"The snapshot {path} could not be loaded ({type(error).__name__}: {error}). "
            "Start with --reset to discard the saved state."
        ) from error
    if not isinstance(state, dict) or state.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"The snapshot {path} has an unknown format; start with --reset to discard the saved state.")
    if state["moto_version"] != _moto_version():
        raise SnapshotError(
            f"The snapshot {path} was written by moto {state['moto_version']}, but this environment has moto "
            f"{_moto_version()}. Install moto {state['moto_version']} to keep the data, or start with --reset."
        )
    if state["python_version"] != _python_version():
        logger.warning(
            "The snapshot %s was written by Python %s and is loaded by Python %s",
            path, state["python_version"], _python_version(),
        )
    install_backends(state["backends"])
    return int(state["generation"])


def install_backends(captured: dict[str, dict[str, Any]]) -> None:
    """Put captured backends in place of moto's live ones, service by service."""
    from moto.backends import get_backend
    from moto.core.base_backend import BackendDict, backend_lock

    for name, accounts in captured.items():
        live = get_backend(name)  # type: ignore[call-overload]
        with backend_lock:
            live.clear()
            for account_id, account_backends in accounts.items():
                live[account_id] = account_backends
            if live not in BackendDict._instances:
                BackendDict._instances.append(live)
