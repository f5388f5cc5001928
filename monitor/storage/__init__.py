"""Persistence of the session log.

- sqlite.py: the SQLite session log (the writer the runtime uses, the reads the pages use);
- database.py: opening the file, its schema and migrations;
- users.py: staff accounts and the audit trail, in the same file;
- alarm_rows.py: alarm transitions as statements (events and one summary row per alarm);
- columnar.py: compacted numeric chunks and waveform tracks, independent of any database;
- ids.py: session ids unique across stations;
- postgres.py: the same session log on PostgreSQL (store.url), over pg_connection.py (the
  SQLite statements run on a psycopg pool) with pg_schema.py (versioned migrations);
- batches.py: a flush's queued statements grouped for executemany;
- backends.py: which of the two a station opens.

Nothing here is imported by monitor/ports.py: the records that cross the boundary are in
monitor/model.py.
"""
