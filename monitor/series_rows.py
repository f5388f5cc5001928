"""The rows of a patient's series, and its CSV: one line per session, every figure taken from
the session summary the record shows (review.summarize), never computed a second time."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.config import AlarmRule
from monitor.model import SessionInfo, StoredEvent
from monitor.ports import ReviewSource
from monitor.record_review import outcome, review_status
from monitor.record_words import iso_time, number
from monitor.review import SessionSummary, load_record, summarize
from monitor.series import DAY_S, FollowUp, Plan, follow_ups, latest_plan

# Common antiemetics by generic name (the medication step records the drug as typed).
ANTIEMETICS = frozenset(
    {
        "ondansetron", "granisetron", "palonosetron", "metoclopramide", "droperidol",
        "prochlorperazine", "promethazine", "cyclizine", "dimenhydrinate", "dexamethasone",
    }
)  # fmt: skip
SERIES_SIGNALS = ("HR", "NIBP_SYS")  # the peaks from baseline the series shows


@dataclass(frozen=True)
class SeriesRow:
    info: SessionInfo
    events: list[StoredEvent]
    summary: SessionSummary
    follow_ups: list[FollowUp]
    days_since_previous: float | None
    outcome: str
    in_error: bool

    @property
    def antiemetics(self) -> list[str]:
        return [f"{d} {dose}".strip() for d, dose in self.summary.medications if _antiemetic(d)]

    @property
    def other_medications(self) -> list[str]:
        meds = self.summary.medications
        return [f"{d} {dose}".strip() for d, dose in meds if not _antiemetic(d)]


def _antiemetic(drug: str) -> bool:
    return any(word in ANTIEMETICS for word in drug.lower().replace(",", " ").split())


def series_sessions(
    store: ReviewSource, pseudonym_of: Callable[[str], str], pseudonym: str
) -> list[SessionInfo]:
    """A patient's real sessions, oldest first: those whose reference has this pseudonym."""
    found = [
        i
        for i in store.sessions()
        if i.source == "live" and i.patient_ref and pseudonym_of(i.patient_ref) == pseudonym
    ]
    return sorted(found, key=lambda i: i.started_at)


def series_rows(
    store: ReviewSource, sessions: Sequence[SessionInfo], rules: list[AlarmRule]
) -> list[SeriesRow]:
    rows: list[SeriesRow] = []
    previous: float | None = None
    for info in sessions:
        record = load_record(store, info.id)
        summary = summarize(store, info.id, rules, record, signals=SERIES_SIGNALS)
        since = None if previous is None else round((info.started_at - previous) / DAY_S, 1)
        rows.append(
            SeriesRow(
                info,
                record.events,
                summary,
                follow_ups(info, record.events),
                since,
                outcome(info, record.events),
                review_status(record.events).in_error is not None,
            )
        )
        previous = info.ended_at or info.started_at
    return rows


def plan_of(rows: Sequence[SeriesRow]) -> Plan | None:
    return latest_plan([(r.info, r.events) for r in rows])


def series_plan(store: ReviewSource, sessions: Sequence[SessionInfo]) -> Plan | None:
    """The series' plan from its sessions' steps alone (no summaries: the plan needs none)."""
    return latest_plan([(i, store.events(i.id)) for i in sessions])


def _score(value: int | None) -> str:
    return "" if value is None else str(value)


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f}"


CSV_COLUMNS = (
    "session", "date", "indication", "regimen", "planned_mg_kg", "delivered_mg_kg",
    "infusion_min", "pain_before", "pain_end", "pain_follow_ups", "relief_days", "pgic",
    "peak_delta_sbp_mmhg", "peak_delta_hr_min", "peak_cadss6", "worst_rass", "worst_nausea",
    "antiemetics", "other_medications", "high_alarms", "medium_alarms", "overrides",
    "days_since_previous", "outcome", "entered_in_error",
)  # fmt: skip


def csv_cells(row: SeriesRow) -> list[str]:
    s, info = row.summary, row.info
    last = row.follow_ups[-1] if row.follow_ups else None
    return [
        str(info.id),
        iso_time(info.started_at),
        info.indication,
        info.regimen,
        "" if s.planned_mg_kg is None else f"{s.planned_mg_kg:.2f}",
        f"{s.dose_mg_kg:.2f}",
        number(s.infusion_minutes),
        _score(s.pain_before),
        _score(s.pain_end),
        "; ".join(f"{f.days_after:g} d: {f.pain_nrs}" for f in row.follow_ups),
        "" if last is None else str(last.relief_days),
        "" if last is None else str(last.pgic),
        _signed(s.peak_delta_sbp),
        _signed(s.peak_delta_hr),
        _score(s.peak_cadss6),
        "" if s.worst_rass is None else f"{s.worst_rass:+d}",
        _score(s.worst_nausea),
        "; ".join(row.antiemetics),
        "; ".join(row.other_medications),
        str(s.alarms_by_priority.get("HIGH", 0)),
        str(s.alarms_by_priority.get("MEDIUM", 0)),
        str(s.overrides),
        "" if row.days_since_previous is None else f"{row.days_since_previous:g}",
        row.outcome,
        "yes" if row.in_error else "",
    ]


def series_csv(rows: Sequence[SeriesRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_cells(r) for r in rows)
    return out.getvalue()
