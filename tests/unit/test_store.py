"""The session log on SQLite and on PostgreSQL: batched writes, sessions that survive a
reopen, compaction, ids unique across stations, records (never database rows) coming back.
Tests taking `open_store` run on both backends; the rest are about the SQLite file."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from monitor.model import (
    AlarmPhase,
    AlarmRecord,
    AlarmTransition,
    LoginRecord,
    Priority,
    Reading,
    UserRecord,
    Waveform,
)
from monitor.storage.ids import ALPHABET, new_uid, uid_time
from monitor.storage.sqlite import SCHEMA_VERSION, SessionStore, StoreError
from tests.stores import StoreUnderTest

T0 = 1_767_225_600.0
PLAN = {
    "weight_kg": 70.0,
    "planned_rate_mg_kg_h": 0.75,
    "patient_ref": "K-0042",
    "indication": "depression",
    "regimen": "0.5 mg/kg over 40 min",
    "concentration_mg_ml": 10.0,
}


def _reading(t: float, signal: str = "HR", value: float = 72.0) -> Reading:
    return Reading("chair-1", t, signal, value, "/min")


def test_wal_mode_and_schema(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    store.close()
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "readings", "events", "alarms"} <= tables


def test_readings_are_batched_until_flush(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "simulated", T0, PLAN, "nurse")
    for i in range(50):
        store.append_reading(s.id, _reading(T0 + i))
    assert open_store.count("readings") == 0
    assert store.stats().pending == 50
    assert store.flush() == 50
    assert open_store.count("readings") == 50
    assert store.stats().readings_written == 50
    store.close()


def test_background_writer_flushes_within_a_second(open_store: StoreUnderTest) -> None:
    store = open_store(flush_interval_s=0.2)
    store.start()
    s = store.create_session("chair-1", "simulated", T0, PLAN, "nurse")
    store.append_reading(s.id, _reading(T0))
    import time

    deadline = time.monotonic() + 1.0
    while open_store.count("readings") == 0:
        assert time.monotonic() < deadline, "not written within 1 s"
        time.sleep(0.05)
    store.close()


def test_open_session_survives_reopen(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "simulated", T0, PLAN | {"weight_kg": 82.5}, "nurse-a")
    store.append_reading(s.id, _reading(T0 + 1, "SPO2", 97))
    store.close()
    again = open_store()
    found = again.open_session_for("chair-1")
    assert found is not None and found.id == s.id and found.weight_kg == 82.5
    assert again.readings(s.id) == [(T0 + 1, "SPO2", 97.0)]
    assert again.open_session_for("chair-2") is None
    again.close()


def test_session_creation_and_closing(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "simulated", T0, PLAN, "nurse-a")
    assert (s.state, s.patient_ref, s.indication, s.concentration_mg_ml) == (
        "pre-infusion",
        "K-0042",
        "depression",
        10.0,
    )
    with pytest.raises(StoreError, match="already has an open session"):
        store.create_session("chair-1", "simulated", T0 + 1, PLAN, "nurse-a")
    store.set_phase(s.id, "infusing")
    assert store.session(s.id).state == "infusing"
    closed = store.close_session(s.id, T0 + 2400, "nurse-b")
    assert closed.ended_at == T0 + 2400 and closed.state == "closed"
    kinds = [(e.kind, e.user) for e in store.events(s.id)]
    assert kinds == [("session_created", "nurse-a"), ("session_closed", "nurse-b")]
    assert store.events(s.id)[0].payload == PLAN | {"source": "simulated"}
    with pytest.raises(StoreError, match="already closed"):
        store.close_session(s.id, T0 + 2500, "nurse-b")
    assert store.open_session_for("chair-1") is None
    store.close()


def test_duplicate_readings_are_ignored(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    store.append_reading(s.id, _reading(T0 + 5))
    store.append_reading(s.id, _reading(T0 + 5))
    store.flush()
    assert len(store.readings(s.id)) == 1
    store.close()


def test_alarm_transitions_summary_and_audit(open_store: StoreUnderTest) -> None:
    store = open_store()

    def tr(
        t: float,
        state: AlarmPhase,
        value: float,
        worst: float,
        user: str | None = None,
        priority: Priority = Priority.MEDIUM,
    ) -> AlarmTransition:
        return AlarmTransition(
            "chair-1", T0 + t, "SPO2_LOW", "SPO2", priority, state, value, worst, 92, "<", 15, user
        )

    for t in (
        tr(0, AlarmPhase.PENDING, 91, 91),
        tr(15, AlarmPhase.ACTIVE, 90, 90),
        tr(20, AlarmPhase.ACKNOWLEDGED, 89, 88, "nurse-a"),
        tr(200, AlarmPhase.ESCALATED, 88, 86, priority=Priority.HIGH),
        tr(240, AlarmPhase.CLEARED, 95, 86),
    ):
        store.record_transition(None, t)
    store.flush()
    (alarm,) = store.alarms("chair-1")
    assert isinstance(alarm, AlarmRecord) and alarm.technical is False
    assert (alarm.onset_t, alarm.end_t, alarm.onset_value, alarm.worst_value) == (
        T0 + 15,
        T0 + 240,
        90,
        86,
    )
    assert (alarm.acked_by, alarm.acked_at) == ("nurse-a", T0 + 20)
    assert (alarm.priority, alarm.priority_now, alarm.escalated_at) == (
        "MEDIUM",
        "HIGH",
        T0 + 200,
    )
    assert (alarm.limit_value, alarm.delay_s, alarm.ended_by) == (92, 15, None)
    kinds = [r[0] for r in store._query("SELECT kind FROM events ORDER BY id")]
    assert kinds == [
        "alarm_pending",
        "alarm_active",
        "alarm_acknowledged",
        "alarm_escalated",
        "alarm_cleared",
    ]
    store.close()


def test_failed_flush_keeps_the_batch(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    store.append_reading(s.id, _reading(T0))
    open_store.run("ALTER TABLE readings RENAME TO readings_away")  # every flush now fails
    assert store.flush() == 0
    stats = store.stats()
    assert stats.failed_flushes == 1 and stats.pending == 1 and stats.last_error
    assert "\n" not in stats.last_error
    open_store.run("ALTER TABLE readings_away RENAME TO readings")
    assert store.flush() == 1
    assert store.readings(s.id) == [(T0, "HR", 72.0)]
    store.close()


def test_unopenable_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError) as info:
        SessionStore(tmp_path / "file" / "s.db")
    assert "\n" not in str(info.value)


def test_compaction_keeps_every_reading_and_is_columnar(open_store: StoreUnderTest) -> None:
    store = open_store()
    s = store.create_session("chair-1", "simulated", T0, PLAN, "nurse")
    for i in range(120):
        store.append_reading(s.id, _reading(T0 + i, "HR", 60 + i % 40))
        store.append_reading(s.id, Reading("chair-1", T0 + i + 0.5, "SPO2", 90 + i % 10, "%"))
    store.flush()
    before = store.readings(s.id)
    assert store.compact(s.id) == 240
    assert open_store.count("readings") == 0
    assert open_store.count("chunks") == 2
    # journal rows after a compaction are joined to the chunks, in time order
    store.append_reading(s.id, _reading(T0 + 200, "HR", 99))
    store.flush()
    after = store.readings(s.id)
    assert after == [*before, (T0 + 200, "HR", 99.0)]
    assert store.readings(s.id, since=T0 + 119, signals=["HR"]) == [
        (T0 + 119, "HR", 60.0 + 119 % 40),
        (T0 + 200, "HR", 99.0),
    ]
    t, v = store.track(s.id, "HR")
    assert t.tolist() == [T0 + i for i in range(120)] + [T0 + 200]
    assert v[-1] == 99 and v.dtype == "float64"
    assert store.signals(s.id) == ["HR", "SPO2"]
    store.close_session(s.id, T0 + 300, "nurse")  # closing compacts the rest
    assert open_store.count("readings") == 0
    assert store.readings(s.id) == after
    store.close()


def test_waveform_blocks_are_stored_and_read_back_as_one_track(
    open_store: StoreUnderTest,
) -> None:
    store = open_store()
    s = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    for k in range(3):
        samples = np.arange(100, dtype=np.float32) + 100 * k
        samples[5] = np.nan  # an invalid sample stays marked
        store.append_waveform(s.id, Waveform("chair-1", T0 + k, "PLETH", 100.0, samples))
    store.append_waveform(s.id, Waveform("chair-1", T0 + 10, "PLETH", 100.0, samples[:50]))
    store.flush()
    wave = store.wave(s.id, "PLETH")
    t = wave.times(np.arange(len(wave.v)))
    assert len(t) == 350 and t[0] == T0 and t[150] == pytest.approx(T0 + 1.5)
    assert t[300] == T0 + 10 and t[349] == pytest.approx(T0 + 10.49)  # after a gap
    assert wave.v.dtype == np.float32 and wave.v[299] == 299 and np.isnan(wave.v[105])
    assert wave.index(T0 + 1.5) == 150 and wave.index(T0 + 5) == 300  # in the gap
    assert wave.index(T0 - 1) == 0 and wave.index(T0 + 11) == 350
    store.compact(s.id)
    store.append_waveform(s.id, Waveform("chair-1", T0 + 11, "PLETH", 100.0, samples[:10]))
    store.close_session(s.id, T0 + 12, "nurse")
    joined = store.wave(s.id, "PLETH")
    t2 = joined.times(np.arange(len(joined.v)))
    assert np.array_equal(t, t2[:350]) and t2[-1] == pytest.approx(T0 + 11.09)
    assert np.array_equal(wave.v, joined.v[:350], equal_nan=True)
    assert store.signals(s.id, wave=True) == ["PLETH"] and store.signals(s.id) == []
    assert store.readings(s.id) == []  # waveforms are not numeric readings
    store.close()


def test_version_3_log_gains_the_new_tables(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    s = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    store.append_reading(s.id, _reading(T0))
    store.close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.executescript("DROP TABLE chunks; DROP TABLE waves; PRAGMA user_version=3;")
    db.close()
    reopened = SessionStore(tmp_path / "s.db")
    assert reopened.readings(s.id) == [(T0, "HR", 72.0)]
    assert reopened.wave(s.id, "PLETH").v.size == 0
    reopened.close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("PRAGMA user_version=2")
    db.commit()
    with pytest.raises(StoreError, match="schema 2 is older"):
        SessionStore(tmp_path / "s.db")


def test_an_open_session_compacts_itself_as_it_grows(
    open_store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.storage.sqlite.COMPACT_AFTER", 100)
    store = open_store()
    s = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    for i in range(150):
        store.append_reading(s.id, _reading(T0 + i))
    store.flush()
    assert open_store.count("readings") == 0
    assert [tuple(r) for r in open_store.run("SELECT n FROM chunks")] == [(150,)]
    store.append_reading(s.id, _reading(T0 + 150))
    store.flush()  # below the threshold again: stays in the journal
    assert open_store.count("readings") == 1
    assert [t for t, _, _ in store.readings(s.id)] == [T0 + i for i in range(151)]
    store.close()


def test_sessions_have_a_sortable_uid_unique_across_stations(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    first = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    store.close_session(first.id, T0 + 60, "nurse")
    second = store.create_session("chair-1", "live", T0 + 120, PLAN, "nurse")
    other = SessionStore(tmp_path / "other.db")  # a second station numbers from 1 too
    elsewhere = other.create_session("chair-1", "live", T0, PLAN, "nurse")
    assert elsewhere.id == first.id and elsewhere.uid != first.uid
    for info, start in ((first, T0), (second, T0 + 120), (elsewhere, T0)):
        assert len(info.uid) == 26 and set(info.uid) <= set(ALPHABET)
        assert uid_time(info.uid) == start
    assert first.uid < second.uid  # text order is start order
    assert [s.uid for s in store.sessions()] == [first.uid, second.uid]
    assert store.open_session_for("chair-1") == second
    other.close()
    store.close()
    db = sqlite3.connect(tmp_path / "s.db")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE sessions SET uid = ? WHERE id = ?", (first.uid, second.id))


def test_uids_differ_within_one_millisecond() -> None:
    uids = {new_uid(T0) for _ in range(1000)}
    assert len(uids) == 1000 and {u[:10] for u in uids} == {new_uid(T0)[:10]}
    assert new_uid(0)[:10] == "0" * 10 and uid_time(new_uid(T0 + 0.0015)) == pytest.approx(
        T0 + 0.001
    )


def test_version_5_log_gives_its_sessions_a_uid(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    a = store.create_session("chair-1", "live", T0, PLAN, "nurse")
    store.close_session(a.id, T0 + 60, "nurse")
    b = store.create_session("chair-2", "simulated", T0 + 30, PLAN, "nurse")
    store.close()
    db = sqlite3.connect(tmp_path / "s.db")  # back to schema 5: no uid column, no index
    db.executescript(
        "DROP INDEX sessions_uid; ALTER TABLE sessions DROP COLUMN uid; PRAGMA user_version=5;"
    )
    db.close()
    reopened = SessionStore(tmp_path / "s.db")
    old_a, old_b = reopened.session(a.id), reopened.session(b.id)
    assert (old_a.ended_at, old_b.bed) == (T0 + 60, "chair-2")
    assert len(old_a.uid) == 26 and old_a.uid != old_b.uid
    assert (uid_time(old_a.uid), uid_time(old_b.uid)) == (T0, T0 + 30)  # from their start
    c = reopened.create_session("chair-1", "live", T0 + 90, PLAN, "nurse")
    assert c.uid > old_b.uid
    reopened.close()
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {r[1] for r in db.execute("PRAGMA index_list(sessions)")}
    assert "sessions_uid" in indexes
    db.close()
    again = SessionStore(tmp_path / "s.db")  # opening a migrated log changes nothing
    assert again.session(a.id).uid == old_a.uid
    again.close()


def test_users_come_back_as_records(open_store: StoreUnderTest) -> None:
    store = open_store()
    store.add_user("nurse-a", "nurse", "hash-1", T0)
    store.add_user("dr-b", "physician", "hash-2", T0 + 1)
    store.update_user("nurse-a", disabled=True)
    assert store.user("nurse-a") == UserRecord("nurse-a", "nurse", "hash-1", True, T0)
    assert "hash-1" not in repr(store.user("nurse-a"))
    assert [u.name for u in store.users()] == ["dr-b", "nurse-a"]
    store.update_user("nurse-a", pw_hash="hash-3")  # a reset re-enables the account
    assert store.user("nurse-a") == UserRecord("nurse-a", "nurse", "hash-3", False, T0)
    assert store.user("nobody") is None
    with pytest.raises(StoreError, match="exists"):
        store.add_user("dr-b", "physician", "x", T0)
    store.close()


def test_logins_are_kept_and_ended_by_the_store(open_store: StoreUnderTest) -> None:
    store = open_store()
    store.open_login("a" * 64, "nurse-a", T0)
    store.open_login("b" * 64, "nurse-a", T0 + 5)
    store.open_login("c" * 64, "dr-b", T0 + 6)
    store.touch_login("a" * 64, T0 + 60)
    assert store.login("a" * 64) == LoginRecord("nurse-a", T0, T0 + 60, None, None)
    assert store.open_logins() == {"nurse-a": 2, "dr-b": 1}
    store.end_login("c" * 64, T0 + 70, "logout")
    assert store.end_logins("nurse-a", T0 + 80, "everywhere") == 2
    assert store.login("b" * 64) == LoginRecord("nurse-a", T0 + 5, T0 + 5, T0 + 80, "everywhere")
    assert store.login("c" * 64).end_reason == "logout"  # type: ignore[union-attr]
    store.touch_login("a" * 64, T0 + 90)  # an ended login stays as it ended
    assert store.login("a" * 64).last_active == T0 + 60  # type: ignore[union-attr]
    assert store.open_logins() == {} and store.login("d" * 64) is None
    store.close()


def test_no_database_row_type_leaves_the_storage_package() -> None:
    """The ports and everything outside monitor/storage know no sqlite3; the columnar
    chunks know no database at all."""
    monitor = Path(__file__).resolve().parents[2] / "monitor"

    def imports(path: Path) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
        return found

    outside = [
        p.relative_to(monitor).as_posix()
        for p in monitor.rglob("*.py")
        if "storage" not in p.relative_to(monitor).parts and "sqlite3" in imports(p)
    ]
    assert outside == []
    assert not {m for m in imports(monitor / "ports.py") if m.startswith("monitor.storage")}
    assert "sqlite3" not in imports(monitor / "storage" / "columnar.py")
