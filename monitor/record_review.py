"""After the session: its outcome, the physician's review and sign-off, addenda, and marking
a record entered in error. Pure: the logged steps in, a decision or a refusal out.

These are steps of the session's record like any other (kept, audited, never deleted). A
signed record cannot be signed again or changed; what is learned later goes in an addendum.
"Entered in error" marks the record with a reason and leaves it readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.model import AlarmRecord, SessionInfo, StoredEvent
from monitor.record_words import clock, duration
from monitor.session import SessionEvent, fold

REVIEW_STEPS = ("review_signed", "addendum", "entered_in_error")
MAX_TEXT = 2000
SIGNERS = ("physician",)
ADDENDUM_ROLES = ("physician", "nurse")


class ReviewRefused(Exception):
    """A review step that cannot be taken; one line for the person who tried."""


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    signed: StoredEvent | None = None
    addenda: list[StoredEvent] = field(default_factory=list)
    in_error: StoredEvent | None = None

    @property
    def line(self) -> str:
        """One line for the sessions list and the record's header."""
        parts = []
        if self.signed:
            parts.append(f"signed by {self.signed.user} {clock(self.signed.t)}")
        else:
            parts.append("not reviewed")
        if self.addenda:
            parts.append(f"{len(self.addenda)} addend{'um' if len(self.addenda) == 1 else 'a'}")
        if self.in_error:
            parts.insert(0, "ENTERED IN ERROR")
        return " · ".join(parts)


def review_status(events: Sequence[StoredEvent]) -> ReviewStatus:
    signed = next((e for e in events if e.kind == "review_signed"), None)
    in_error = next((e for e in events if e.kind == "entered_in_error"), None)
    return ReviewStatus(signed, [e for e in events if e.kind == "addendum"], in_error)


def outcome(info: SessionInfo, events: Sequence[StoredEvent]) -> str:
    """Discharged, closed early (with its reason), imported, or still running."""
    if info.ended_at is None:
        return f"running ({info.state})"
    if any(e.kind == "discharged" for e in events):
        return "discharged"
    closed = next((e for e in events if e.kind == "session_closed"), None)
    payload = closed.payload if closed else {}
    if payload.get("imported"):
        return "imported"
    reason = str(payload.get("reason") or "").strip()
    return f"closed early: {reason}" if reason else "closed"


def _text(value: str, what: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ReviewRefused(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise ReviewRefused(f"{what} is at most {MAX_TEXT} characters (got {len(text)})")
    return text


def _closed(info: SessionInfo) -> None:
    if info.ended_at is None:
        raise ReviewRefused(f"session {info.id} is still open: close it before review")


def sign_off(
    info: SessionInfo, events: Sequence[StoredEvent], role: str | None, comment: str
) -> tuple[str, dict[str, str]]:
    """The step that marks the record reviewed, or ReviewRefused."""
    if role not in SIGNERS:
        raise ReviewRefused("only a physician can sign off a session record")
    _closed(info)
    status = review_status(events)
    if status.signed is not None:
        raise ReviewRefused(
            f"session {info.id} was signed by {status.signed.user} {clock(status.signed.t)};"
            " add an addendum instead"
        )
    return "review_signed", {"comment": _text(comment, "the comment", required=False)}


def addendum(
    info: SessionInfo, events: Sequence[StoredEvent], role: str | None, text: str
) -> tuple[str, dict[str, str]]:
    if role not in ADDENDUM_ROLES:
        raise ReviewRefused("only a physician or a nurse can add to a session record")
    _closed(info)
    return "addendum", {"text": _text(text, "the addendum", required=True)}


def mark_in_error(
    info: SessionInfo, events: Sequence[StoredEvent], role: str | None, reason: str
) -> tuple[str, dict[str, str]]:
    if role not in SIGNERS:
        raise ReviewRefused("only a physician can mark a session record entered in error")
    _closed(info)
    if review_status(events).in_error is not None:
        raise ReviewRefused(f"session {info.id} is already marked entered in error")
    return "entered_in_error", {"reason": _text(reason, "the reason", required=True)}


@dataclass(frozen=True, slots=True)
class RecordLine:
    """One session in the sessions list: what a physician scans for."""

    outcome: str
    weight: str
    dose: str
    duration: str
    alarms: str
    review: str
    in_error: bool


def record_line(
    info: SessionInfo, events: Sequence[StoredEvent], alarms: Sequence[AlarmRecord], now: float
) -> RecordLine:
    state = fold(SessionEvent(e.t, e.kind, e.user, e.payload) for e in events)
    end = info.ended_at or now
    counts = {p: 0 for p in ("HIGH", "MEDIUM", "LOW")}
    for a in alarms:
        if not a.technical and a.priority in counts:
            counts[a.priority] += 1
    status = review_status(events)
    return RecordLine(
        outcome=outcome(info, events),
        weight=f"{info.weight_kg:g} kg" if info.weight_kg else "",
        dose=f"{state.dose_mg_kg(end):.2f} mg/kg" if info.weight_kg else "",
        duration=duration(end - info.started_at),
        alarms=" · ".join(f"{p[0]}{n}" for p, n in counts.items() if n) or "none",
        review=status.line,
        in_error=status.in_error is not None,
    )
