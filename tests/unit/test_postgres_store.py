"""The PostgreSQL session log's own concerns: versioned migrations that two stations can run
at once, display ids unique across the stations sharing a database, the dialect the SQLite
statements are run in, and one-line errors."""

from __future__ import annotations

import threading

import psycopg
import pytest

from monitor.model import Reading
from monitor.storage.pg_connection import to_postgres
from monitor.storage.pg_schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from monitor.storage.postgres import PostgresStore
from monitor.storage.sqlite import StoreError
from tests.postgres import _free_port

T0 = 1_767_225_600.0
PLAN = {"weight_kg": 70.0, "planned_rate_mg_kg_h": 0.75, "concentration_mg_ml": 10.0}


def test_a_fresh_database_migrates_to_the_latest_version_once(pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        assert schema_version(conn) == 0
        assert migrate(conn) == [v for v, _, _ in MIGRATIONS]
        assert schema_version(conn) == SCHEMA_VERSION
        assert migrate(conn) == []  # re-running is a no-op
        rows = conn.execute("SELECT version, description FROM schema_version ORDER BY 1")
        assert [tuple(r) for r in rows] == [(v, d) for v, d, _ in MIGRATIONS]
    PostgresStore(pg_database).close()  # a store opening a current database changes nothing
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (len(MIGRATIONS),)


def test_two_stations_migrating_at_once_migrate_once(pg_database: str) -> None:
    barrier = threading.Barrier(2)
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def station() -> None:
        try:
            with psycopg.connect(pg_database) as conn:
                barrier.wait()
                applied.append(migrate(conn))
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=station) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(applied) == [[], [v for v, _, _ in MIGRATIONS]]


def test_a_database_newer_than_the_station_is_refused(pg_database: str) -> None:
    PostgresStore(pg_database).close()
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO schema_version (version, description) VALUES (%s, 'future')",
            (SCHEMA_VERSION + 1,),
        )
    with pytest.raises(StoreError, match="newer than this station") as info:
        PostgresStore(pg_database)
    assert "\n" not in str(info.value)


def test_display_ids_are_unique_across_stations_sharing_a_database(pg_database: str) -> None:
    a, b = PostgresStore(pg_database), PostgresStore(pg_database)
    made = []
    for i in range(3):
        made.append(a.create_session(f"chair-{i}", "live", T0 + i, PLAN, "nurse"))
        made.append(b.create_session(f"chair-{i + 10}", "live", T0 + i, PLAN, "nurse"))
    assert len({s.id for s in made}) == 6 and len({s.uid for s in made}) == 6
    assert [s.id for s in a.sessions()] == sorted(s.id for s in made)
    # both stations cannot open a session on one chair, even racing past the store's check
    with pytest.raises(StoreError, match="already has an open session"):
        b.create_session("chair-0", "live", T0 + 9, PLAN, "nurse")
    with pytest.raises(StoreError, match="sessions_one_open"):
        b._execute(
            "INSERT INTO sessions (bed, source, started_at, weight_kg, rate_mg_kg_h, state, uid)"
            " VALUES ('chair-0', 'live', 0, 70, 0.5, 'pre-infusion', 'X')"
        )
    a.close()
    b.close()


def test_times_keep_their_precision(pg_database: str) -> None:
    store = PostgresStore(pg_database)
    s = store.create_session("chair-1", "live", T0 + 0.123, PLAN, "nurse")
    store.append_reading(s.id, Reading("chair-1", T0 + 0.001, "SPO2", 97.5, "%"))
    store.flush()
    assert store.session(s.id).started_at == T0 + 0.123  # double precision, not REAL
    assert store.readings(s.id) == [(T0 + 0.001, "SPO2", 97.5)]
    store.close()


def test_an_unreachable_database_is_one_line() -> None:
    url = f"postgresql://monitor@127.0.0.1:{_free_port()}/monitor"
    with pytest.raises(StoreError) as info:
        PostgresStore(url)
    message = str(info.value)
    assert "\n" not in message and url in message and "refused" in message.lower()


def test_the_sqlite_statements_in_postgresql_terms() -> None:
    assert to_postgres("INSERT OR IGNORE INTO readings (t) VALUES (?)") == (
        "INSERT INTO readings (t) VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert to_postgres("INSERT INTO sessions (bed) VALUES (?)", returning_id=True) == (
        "INSERT INTO sessions (bed) VALUES (%s) RETURNING id"
    )
    assert to_postgres("SELECT t, user FROM audit, users WHERE kind LIKE 'a%'") == (
        """SELECT t, "user" FROM audit, users WHERE kind LIKE 'a%%'"""
    )
