"""Persistence of the offline stack's state in a data folder, so `make up` restarts where it stopped.

See `store` for the folder's files and the start-up sequence.
"""
from __future__ import annotations

from local.persistence.files import DataDirLockedError
from local.persistence.store import RestoreSummary, StateStore, StateStoreError

__all__ = ["DataDirLockedError", "RestoreSummary", "StateStore", "StateStoreError"]
