"""The store: one async interface, SQLite (embedded default) and MongoDB implementations."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from siaran_shared.store.base import (
    Collection,
    Expiry,
    Store,
    StoreError,
    StoreUnavailable,
)
from siaran_shared.store.group import GroupWriter
from siaran_shared.store.query import Doc, Where, get_path, matches


def open_store(url: str, service: str) -> Store:
    """A store for `url`: sqlite:///path or mongodb(+srv)://… (database siaran_{service})."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        from siaran_shared.store.sqlite import SQLiteStore

        if not url.startswith("sqlite:///"):
            raise ValueError("SIARAN_STORE_URL: use sqlite:///relative/path or sqlite:////abs/path")
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if scheme in ("mongodb", "mongodb+srv"):
        from siaran_shared.store.mongo import MongoStore

        return MongoStore(url, f"siaran_{service}")
    raise ValueError(
        f"SIARAN_STORE_URL: unsupported scheme {scheme!r} (use sqlite:// or mongodb://)"
    )


__all__ = [
    "Collection",
    "Doc",
    "Expiry",
    "GroupWriter",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Where",
    "get_path",
    "matches",
    "open_store",
]
