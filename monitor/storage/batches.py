"""A flush's queued statements as runs of one statement over many rows, for executemany.

Journal rows (readings, waveform blocks) depend on nothing else in a batch, so each table's
rows go as one run whatever came between them. Alarm and event statements keep their exact
order: an acknowledgement updates the summary row its onset inserted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Statement = tuple[str, tuple[Any, ...]]
Run = tuple[str, list[tuple[Any, ...]]]

_JOURNAL_INSERT = re.compile(r"^INSERT (OR IGNORE )?INTO (readings|waves) ")


@lru_cache(maxsize=64)
def _is_journal(sql: str) -> bool:
    return _JOURNAL_INSERT.match(sql) is not None


def statement_runs(batch: list[Statement]) -> list[Run]:
    """Journal inserts grouped per statement, then everything else in order, consecutive
    repeats of one statement joined."""
    journal: dict[str, list[tuple[Any, ...]]] = {}
    ordered: list[Run] = []
    for sql, params in batch:
        if _is_journal(sql):
            journal.setdefault(sql, []).append(params)
        elif ordered and ordered[-1][0] == sql:
            ordered[-1][1].append(params)
        else:
            ordered.append((sql, [params]))
    return [*journal.items(), *ordered]
