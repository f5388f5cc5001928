"""The session record's tables, as rows of words: assessments, medications and boluses, the
infusion's rate changes and pauses, notes, and alarm inactivations with limit changes.

Built once from the logged steps, for the review page and the printed record alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.model import StoredEvent
from monitor.record_words import clock, step_title, step_words
from monitor.signals import label

INFUSION_STEPS = ("infusion_start", "rate_change", "infusion_pause", "infusion_resume")
INFUSION_STEPS += ("infusion_stop",)
INACTIVATIONS = ("alarm_acknowledged", "alarm_reset", "audio_pause", "limit_change")
INACTIVATIONS += ("override", "hold_start", "refused", "instructor")
AFTER_DISCHARGE = ("follow_up", "series_plan")
# Free text a nurse or physician typed, by step: the field that holds it.
NOTE_FIELDS = {
    "assessment": "note",
    "override": "reason",
    "limit_change": "reason",
    "discharged": "override",
    "review_signed": "comment",
    "addendum": "text",
    "entered_in_error": "reason",
}


@dataclass(frozen=True, slots=True)
class RecordTable:
    title: str
    head: tuple[str, ...]
    rows: list[list[str]]
    key: str
    """A stable name for the page's element ids and tests."""


def _steps(
    events: list[StoredEvent], kinds: tuple[str, ...], fmt: Callable[[float | None], str]
) -> list[list[str]]:
    return [
        [fmt(e.t), e.user, step_title(e.kind), step_words(e.kind, e.payload)]
        for e in events
        if e.kind in kinds
    ]


def _assessments(
    events: list[StoredEvent], fmt: Callable[[float | None], str]
) -> tuple[tuple[str, ...], list[list[str]]]:
    done = [e for e in events if e.kind == "assessment"]
    codes: list[str] = []
    for e in done:
        for code in e.payload.get("scores") or {}:
            if code not in codes:
                codes.append(code)
    rows = []
    for e in done:
        scores = e.payload.get("scores") or {}
        cells = [f"{scores[c]:g}" if c in scores else "" for c in codes]
        rows.append([fmt(e.t), e.user, *cells])
    return ("time", "by", *(label(c) for c in codes)), rows


def _medications(events: list[StoredEvent], fmt: Callable[[float | None], str]) -> list[list[str]]:
    rows = []
    for e in events:
        if e.kind == "medication":
            rows.append(
                [fmt(e.t), e.user, str(e.payload.get("drug", "")), str(e.payload.get("dose", ""))]
            )
        elif e.kind == "bolus":
            rows.append([fmt(e.t), e.user, "Ketamine bolus", step_words("bolus", e.payload)])
        elif e.kind == "intervention":  # oxygen, airway support, help: beside the drugs given
            rows.append([fmt(e.t), e.user, step_words("intervention", e.payload), ""])
    return rows


def _notes(events: list[StoredEvent], fmt: Callable[[float | None], str]) -> list[list[str]]:
    rows = []
    for e in events:
        text = str(e.payload.get(NOTE_FIELDS.get(e.kind, ""), "") or "").strip()
        if text:
            rows.append([fmt(e.t), e.user, step_title(e.kind), text])
    return rows


def record_tables(
    events: list[StoredEvent], fmt: Callable[[float | None], str] = clock
) -> list[RecordTable]:
    """Every table of the record, in reading order; an empty one is still listed, so a
    reader sees that nothing was recorded rather than a missing section."""
    head, assessed = _assessments(events, fmt)
    step_head = ("time", "by", "step", "detail")
    return [
        RecordTable("Assessments", head, assessed, "assessments"),
        RecordTable(
            "Medications, boluses and rescue steps",
            ("time", "by", "drug", "dose"),
            _medications(events, fmt),
            "medications",
        ),
        RecordTable(
            "Infusion: rate changes and pauses",
            step_head,
            _steps(events, INFUSION_STEPS, fmt),
            "infusion",
        ),
        RecordTable("Notes", ("time", "by", "with", "note"), _notes(events, fmt), "notes"),
        RecordTable(
            "Inactivations, limit changes and overrides",
            step_head,
            _steps(events, INACTIVATIONS, fmt),
            "inactivations",
        ),
        RecordTable(
            "After discharge: follow-up contacts and the plan",
            step_head,
            _steps(events, AFTER_DISCHARGE, fmt),
            "after_discharge",
        ),
    ]
