"""Kill -9 a bed with alarms standing and start it again: its alarms are as they were."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow
T0 = 1_767_225_600.0


def _child(phase: str, db: Path, t: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_bed", phase, str(db), repr(t)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_alarm_state_survives_a_kill(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    first = _child("before", db, T0)
    assert first.stdout is not None
    before = json.loads(first.stdout.readline())
    first.send_signal(signal.SIGKILL)
    assert first.wait(15) == -signal.SIGKILL
    shown = {a["name"]: a for a in before["alarms"]}
    assert shown["SPO2_DESAT"]["display"] == "acknowledged"
    assert shown["SPO2_DESAT"]["acked_by"] == "nurse-a"
    assert shown["HR_VERY_HIGH"]["display"] == "latched"
    assert shown["HR_VERY_HIGH"]["acked_by"] is None
    assert before["pause"] == pytest.approx(110.0)
    acks = "SELECT user FROM events WHERE kind = 'alarm_acknowledged' ORDER BY id"
    audit_before = _rows(db, "SELECT t, kind, user FROM events ORDER BY id")

    restarted_at = before["now"] + 5  # five seconds later, by the bed's clock
    second = _child("after", db, restarted_at)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    after, final = (json.loads(line) for line in out.splitlines())

    # the same alarms, in the same states, with the same onsets and who acknowledged them
    assert after["alarms"] == before["alarms"]
    assert after["pause"] == pytest.approx(105.0)
    # the audit is intact: nothing lost, nothing acknowledged twice
    audit_after = _rows(db, "SELECT t, kind, user FROM events ORDER BY id")
    assert audit_after[: len(audit_before)] == audit_before
    assert _rows(db, acks) == [("nurse-a",)]
    # one row per alarm (no second onset after the restart), and none left open
    counts = dict(_rows(db, "SELECT name, COUNT(*) FROM alarms GROUP BY name"))
    assert counts["SPO2_DESAT"] == 1 and counts["HR_VERY_HIGH"] == 1
    assert _rows(db, "SELECT name FROM alarms WHERE end_t IS NULL") == []
    assert final["alarms"] == []
