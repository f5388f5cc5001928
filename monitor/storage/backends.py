"""Which session log a station opens: SQLite by default, PostgreSQL when given a URL."""

from __future__ import annotations

from pathlib import Path

from monitor.storage.sqlite import SessionStore


def open_session_log(path: Path | str, url: str | None, flush_interval_s: float) -> SessionStore:
    """The session log at `url` (postgresql://) if given, else the SQLite file at `path`.
    Raises StoreError in one line when it cannot be opened."""
    if url:
        from monitor.storage.postgres import PostgresStore  # psycopg only where it is used

        return PostgresStore(url, flush_interval_s)
    return SessionStore(path, flush_interval_s)


def store_key(url: str | None) -> str:
    """The config key an error about the session log is about."""
    return "store.url" if url else "store.path"
