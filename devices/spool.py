"""The agent's spool: QoS-1 messages on disk until the broker has acknowledged them.

Every numerics and events message is written here first and deleted only after its PUBACK,
so a broker outage or an agent restart loses nothing; the rows go out again in the order
they were written. One thread uses it (the agent's publisher).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.files import private_file, private_folder


class Spool:
    def __init__(self, path: str | Path) -> None:
        private_folder(Path(path).parent)  # readings of a patient: owner-only
        private_file(Path(path))
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a killed agent
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " topic TEXT NOT NULL, payload BLOB NOT NULL)"
        )

    def add(self, topic: str, payload: bytes) -> None:
        self._db.execute("INSERT INTO spool (topic, payload) VALUES (?, ?)", (topic, payload))

    def after(self, row_id: int, limit: int) -> list[tuple[int, str, bytes]]:
        """The oldest `limit` rows after `row_id`, in the order they were spooled."""
        return self._db.execute(
            "SELECT id, topic, payload FROM spool WHERE id > ? ORDER BY id LIMIT ?",
            (row_id, limit),
        ).fetchall()

    def delete(self, row_ids: list[int]) -> None:
        self._db.executemany("DELETE FROM spool WHERE id = ?", [(i,) for i in row_ids])

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        self._db.close()
