"""Staff accounts and the audit trail, kept in the session log's file so one backup holds
the whole record of who did what."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from monitor.model import AUDITED_EVENTS, LoginRecord, UserRecord
from monitor.storage.database import Database, StoreError


def _user(row: sqlite3.Row) -> UserRecord:
    return UserRecord(
        row["name"], row["role"], row["pw_hash"], bool(row["disabled"]), row["created_at"]
    )


class UsersAndAudit(Database):
    """Accounts (name, role, password hash) and the audit of logins, exports and user
    changes. Alarm and session actions are events of their session, read back here too."""

    def add_user(self, name: str, role: str, pw_hash: str, t: float) -> None:
        with self._lock:
            if self._query("SELECT 1 FROM users WHERE name = ?", (name,)):
                raise StoreError(f"user {name!r} exists (use reset to change the password)")
            self._execute(
                "INSERT INTO users (name, role, pw_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, pw_hash, t),
            )

    def update_user(
        self, name: str, *, pw_hash: str | None = None, disabled: bool | None = None
    ) -> None:
        """A new password also re-enables the account."""
        with self._lock:
            if not self._query("SELECT 1 FROM users WHERE name = ?", (name,)):
                raise StoreError(f"no user {name!r}")
            if pw_hash is not None:
                self._execute(
                    "UPDATE users SET pw_hash = ?, disabled = 0 WHERE name = ?", (pw_hash, name)
                )
            if disabled is not None:
                self._execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))

    def user(self, name: str) -> UserRecord | None:
        rows = self._query("SELECT * FROM users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    def users(self) -> list[UserRecord]:
        return [_user(r) for r in self._query("SELECT * FROM users ORDER BY name")]

    # -- logins: kept here, so that ending one (or all of a user's) takes effect at once ----

    def open_login(self, login_id: str, user: str, t: float) -> None:
        self._execute(
            "INSERT INTO logins (id, username, started_at, last_active) VALUES (?, ?, ?, ?)",
            (login_id, user, t, t),
        )

    def login(self, login_id: str) -> LoginRecord | None:
        rows = self._query(
            "SELECT username, started_at, last_active, ended_at, end_reason FROM logins"
            " WHERE id = ?",
            (login_id,),
        )
        return LoginRecord(*rows[0]) if rows else None

    def touch_login(self, login_id: str, t: float) -> None:
        self._execute(
            "UPDATE logins SET last_active = ? WHERE id = ? AND ended_at IS NULL", (t, login_id)
        )

    def end_login(self, login_id: str, t: float, reason: str) -> None:
        self._execute(
            "UPDATE logins SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
            (t, reason, login_id),
        )

    def end_logins(self, user: str, t: float, reason: str) -> int:
        """End every open login of `user` (a password reset, disabling, "log out everywhere");
        returns how many were open."""
        with self._lock:
            rows = self._query(
                "SELECT id FROM logins WHERE username = ? AND ended_at IS NULL", (user,)
            )
            for row in rows:
                self.end_login(row[0], t, reason)
        return len(rows)

    def open_logins(self) -> dict[str, int]:
        """Open logins per user (the admin page)."""
        rows = self._query(
            "SELECT username, count(*) FROM logins WHERE ended_at IS NULL GROUP BY username"
        )
        return {r[0]: int(r[1]) for r in rows}

    def audit(self, t: float, user: str, action: str, detail: dict[str, Any]) -> None:
        """Logins, failed logins, exports and user changes (alarm and session actions are
        events of their session)."""
        self._execute(
            "INSERT INTO audit (t, user, action, detail) VALUES (?, ?, ?, ?)",
            (t, user, action, json.dumps(detail, sort_keys=True)),
        )

    def audit_log(self, limit: int = 500) -> list[tuple[float, str, str, str]]:
        """(t, user, action, detail JSON) of audit entries and of the inactivation, limit and
        override events, newest first."""
        rows = self._query(
            "SELECT t, user, action, detail FROM audit"
            " UNION ALL SELECT t, user, kind, payload FROM events"
            f" WHERE kind IN ({','.join('?' * len(AUDITED_EVENTS))})"
            " ORDER BY t DESC LIMIT ?",
            (*AUDITED_EVENTS, limit),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
