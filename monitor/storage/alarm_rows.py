"""Alarm transitions as session log statements: every transition is an event, and each
alarm keeps one summary row from onset to end (what the review, the report and the debrief
read). Plain SQL text and parameters; the session log queues and runs them."""

from __future__ import annotations

import json
from typing import Any

from monitor.model import AlarmPhase, AlarmTransition

Statement = tuple[str, tuple[Any, ...]]

# The summary row of an alarm still running, for the transitions after its onset.
_OPEN_ALARM = (
    "(SELECT id FROM alarms WHERE bed = ? AND name = ? AND end_t IS NULL"
    " ORDER BY onset_t DESC LIMIT 1)"
)


def transition_statements(session_id: int | None, tr: AlarmTransition) -> list[Statement]:
    """The event row of one transition, then its change to the alarm's summary row."""
    detail = {
        "alarm": tr.name,
        "signal": tr.signal,
        "priority": tr.priority.name,
        "value": tr.value,
        "worst": tr.worst,
        "limit": tr.limit,
        "op": tr.op,
        "delay_s": tr.delay_s,
        "technical": tr.technical,
    }
    out: list[Statement] = [
        (
            "INSERT INTO events (session_id, bed, t, kind, user, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                session_id,
                tr.bed,
                tr.t,
                f"alarm_{tr.state}",
                tr.user or "system",
                json.dumps(detail, sort_keys=True),
            ),
        )
    ]
    if tr.state is AlarmPhase.ACTIVE:
        out.append(
            (
                "INSERT OR IGNORE INTO alarms (session_id, bed, name, signal, priority, onset_t,"
                " onset_value, worst_value, op, limit_value, delay_s, technical, priority_now)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    tr.bed,
                    tr.name,
                    tr.signal,
                    tr.priority.name,
                    tr.t,
                    tr.value,
                    tr.worst,
                    tr.op,
                    tr.limit,
                    tr.delay_s,
                    int(tr.technical),
                    tr.priority.name,
                ),
            )
        )
    elif tr.state is AlarmPhase.ACKNOWLEDGED:
        out.append(
            (
                "UPDATE alarms SET acked_at = coalesce(acked_at, ?),"
                f" acked_by = coalesce(acked_by, ?) WHERE id = {_OPEN_ALARM}",
                (tr.t, tr.user, tr.bed, tr.name),
            )
        )
    elif tr.state is AlarmPhase.ESCALATED:
        out.append(
            (
                f"UPDATE alarms SET escalated_at = ?, priority_now = ? WHERE id = {_OPEN_ALARM}",
                (tr.t, tr.priority.name, tr.bed, tr.name),
            )
        )
    elif tr.state in (AlarmPhase.CLEARED, AlarmPhase.RESET):
        out.append(
            (
                "UPDATE alarms SET end_t = ?, worst_value = ?, ended_by = ?"
                f" WHERE id = {_OPEN_ALARM}",
                (tr.t, tr.worst, tr.user, tr.bed, tr.name),
            )
        )
    return out


# What a restart folds: the bed's alarm transitions and audio pauses since its oldest alarm
# still open, and its last audio pause (monitor.alarms.restore).
OLDEST_OPEN = "SELECT min(onset_t) FROM alarms WHERE bed = ? AND end_t IS NULL"
LAST_PAUSE = "SELECT max(t) FROM events WHERE bed = ? AND kind = 'audio_pause'"
ALARM_LOG = (
    "SELECT t, kind, user, payload FROM events WHERE bed = ? AND t >= ?"
    " AND (kind LIKE 'alarm^_%' ESCAPE '^' OR kind = 'audio_pause') ORDER BY id"
)
