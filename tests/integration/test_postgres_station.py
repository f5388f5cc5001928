"""A station whose session log is PostgreSQL: it records a session, a restarted station
resumes it with its alarms, review and exports read the same rows as on SQLite, and a bad
`store.url` is one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import yaml

from dashboard import build_station
from monitor.clock import ManualClock
from monitor.config import ConfigError, parse_config
from monitor.exports import export_session
from monitor.model import AlarmPhase, AlarmTransition, Priority, Reading, Waveform
from monitor.review import load_record, summarize
from monitor.runtime.bed import BedRuntime
from monitor.storage.backends import open_session_log
from tests.helpers import PLAN, REPO, config_dict
from tests.postgres import _free_port

T0 = 1_767_225_600.0


def _config(tmp_path: Path, url: str | None) -> dict[str, Any]:
    raw = config_dict(tmp_path / "sessions.db")
    if url is not None:
        raw["store"]["url"] = url
    return raw


def _feed(bed: BedRuntime, clock: ManualClock, seconds: int, spo2: float) -> None:
    for _ in range(seconds):
        t = clock.advance(1.0)
        bed.ingest(Reading(bed.info.id, t, "SPO2", spo2, "%"))
        bed.ingest(Reading(bed.info.id, t, "HR", 80, "/min"))
        bed.check_feed()


def _alarms(bed: BedRuntime) -> list[tuple[str, str, str | None, float]]:
    return [(a.name, str(a.display), a.acked_by, a.onset_t) for a in bed.snapshot().alarms]


def test_a_restarted_station_resumes_its_session_and_alarms(
    tmp_path: Path, pg_database: str
) -> None:
    config = parse_config(_config(tmp_path, pg_database))
    clock = ManualClock(T0)
    station = build_station(config, clock)
    bed = station.ward.runtime("chair-1")
    session = bed.create_session(PLAN, "nurse-a")
    _feed(bed, clock, 8, spo2=80)  # SPO2_DESAT (HIGH, 2 s) sounds
    bed.acknowledge("nurse-a")
    before = _alarms(bed)
    assert [(n, d, by) for n, d, by, _ in before] == [("SPO2_DESAT", "acknowledged", "nurse-a")]
    station.stop()  # flushes the log, as a SIGTERM would
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM readings").fetchone() == (16,)
        assert conn.execute("SELECT bed, ended_at FROM sessions").fetchall() == [("chair-1", None)]

    clock = ManualClock(clock.now() + 5)
    again = build_station(config, clock)  # a second store instance on the same database
    bed = again.ward.runtime("chair-1")
    resumed = bed.session
    assert resumed is not None and (resumed.id, resumed.uid) == (session.id, session.uid)
    assert _alarms(bed) == before
    assert [t for t, _, _ in again.store.readings(session.id)] == sorted(
        T0 + 1 + i for i in range(8) for _ in range(2)
    )
    again.stop()


def _record_a_session(store: Any) -> int:
    """One session with compacted and journal readings, a waveform, an alarm and a close."""
    s = store.create_session(
        "chair-1", "live", T0, {"weight_kg": 70, "planned_rate_mg_kg_h": 0.5}, "n"
    )
    for i in range(300):
        store.append_reading(s.id, Reading("chair-1", T0 + i, "HR", 60 + i % 30, "/min"))
        store.append_reading(s.id, Reading("chair-1", T0 + i + 0.25, "SPO2", 90 + i % 9, "%"))
        if i == 150:
            store.flush()
            store.compact(s.id)
    samples = np.sin(np.arange(100, dtype=np.float32) / 10)
    store.append_waveform(s.id, Waveform("chair-1", T0 + 1, "PLETH", 100.0, samples))
    for t, state in (
        (10, AlarmPhase.ACTIVE),
        (15, AlarmPhase.ACKNOWLEDGED),
        (40, AlarmPhase.CLEARED),
    ):
        store.record_transition(
            s.id,
            AlarmTransition(
                "chair-1",
                T0 + t,
                "SPO2_LOW",
                "SPO2",
                Priority.MEDIUM,
                state,
                90,
                89,
                92,
                "<",
                15,
                "nurse-a" if state is AlarmPhase.ACKNOWLEDGED else None,
            ),
        )
    store.flush()
    store.audit(T0 + 400, "admin", "export", {"session": s.id})
    store.close_session(s.id, T0 + 301, "nurse-b")
    return s.id


def test_review_and_csv_export_read_the_same_rows_on_both_backends(
    tmp_path: Path, pg_database: str
) -> None:
    results = []
    for name, url in (("sqlite", None), ("postgres", pg_database)):
        store = open_session_log(tmp_path / "s.db", url, 0.5)
        sid = _record_a_session(store)
        files = export_session(store, sid, "csv", tmp_path / name / "session.csv")
        record = load_record(store, sid)
        results.append(
            (
                [f.read_text() for f in files],
                [(a.name, a.onset_t, a.end_t, a.acked_by) for a in record.alarms],
                summarize(store, sid, []),
                store.wave(sid, "PLETH").v.tolist(),
                [row[1:] for row in store.audit_log()],
            )
        )
        store.close()
    sqlite, postgres = results
    assert sqlite[0][0].count("\n") == 601  # a header and every reading
    assert postgres == sqlite


def test_a_password_in_the_url_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(tmp_path, "postgresql://monitor:secret@db.example:5432/monitor"))
    message = str(info.value)
    assert "\n" not in message and "store.url" in message and "PGPASSWORD" in message
    assert "secret" not in message


def test_only_postgresql_urls_are_accepted(tmp_path: Path) -> None:
    for url in ("mysql://monitor@db:3306/monitor", "postgres://monitor@db/monitor", "db"):
        with pytest.raises(ConfigError, match=r"store\.url: .*only postgresql://"):
            parse_config(_config(tmp_path, url))
    assert parse_config(_config(tmp_path, None)).store.url is None  # SQLite stays the default


@pytest.mark.slow
def test_an_unreachable_database_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    url = f"postgresql://monitor@127.0.0.1:{_free_port()}/monitor"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(_config(tmp_path, url)))
    for command in (["dashboard.py"], ["-m", "monitor", "users", "list"]):
        done = subprocess.run(
            [sys.executable, *command, "--config", str(config)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, done.stderr
        assert len(lines) == 1 and f"{config}: store.url: {url}: " in lines[0], done.stderr
