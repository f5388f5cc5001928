"""The recorder: a journal reader that writes a bed's events to the session log.

It follows the bed's open session through the stream itself (opened, closed), so every event
is written under the session it happened in. A write that fails is retried at the next drain;
the failure comes back to the core as an input (TECH_STORE_WRITE), never as a call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from monitor.domain.events import BedEvent, PhaseChanged, SessionClosed, SessionOpened
from monitor.model import AlarmPhase, AlarmTransition, Reading, Waveform
from monitor.ports import SessionLog, StoreError
from monitor.runtime.journal import Journal
from monitor.session import SessionEvent

log = logging.getLogger(__name__)
# The record keeps the pleth (the review draws it); the ECG (300 Hz) is shown live only.
STORED_WAVES = frozenset({"PLETH"})

GIVE_UP_AFTER = 20  # failed attempts at one event before it is dropped (and logged)
_LOUD = (AlarmPhase.ACTIVE, AlarmPhase.ESCALATED, AlarmPhase.REMINDER)


class Recorder:
    def __init__(self, journal: Journal, store: SessionLog, bed: str, cursor: int = 0) -> None:
        self.journal, self.store, self.bed = journal, store, bed
        self.cursor = cursor
        self.session_id: int | None = None
        self.lost = 0  # events the journal dropped before they were written
        self._failures = 0
        self._lock = threading.Lock()

    def drain(self, just_added: Sequence[BedEvent] = (), seq: int = 0) -> None:
        """Write everything new in the journal, in order. `just_added`, ending at `seq`, are
        the events the caller has just journaled: when nothing else came first (the usual
        case) they are written as they are, without reading them back."""
        with self._lock:
            if just_added and seq - len(just_added) == self.cursor:
                entries: Iterable[tuple[int, BedEvent]] = enumerate(
                    just_added, seq - len(just_added) + 1
                )
            else:
                if self.cursor == self.journal.seq:
                    return
                entries, _, lost = self.journal.read(self.cursor)
                if lost:
                    self.lost += lost
                    log.error(
                        "bed %s: %d events were not recorded (journal overrun)", self.bed, lost
                    )
            for n, event in entries:
                try:
                    self._write(event)
                except StoreError as err:
                    self._failures += 1
                    if self._failures < GIVE_UP_AFTER:
                        log.error("bed %s: %s (will retry)", self.bed, err)
                        return
                    log.error("bed %s: dropped %r after %d tries", self.bed, event, GIVE_UP_AFTER)
                self._failures = 0
                self.cursor = n

    @property
    def healthy(self) -> bool:
        """Every event written, and the log's batched writes going through."""
        return self._failures == 0 and self.store.stats().last_error is None

    def _write(self, event: object) -> None:
        sid, store = self.session_id, self.store
        if isinstance(event, Reading):
            if sid is not None:
                store.append_reading(sid, event)
        elif isinstance(event, AlarmTransition):
            store.record_transition(sid, event)
            _log_transition(event)
        elif isinstance(event, Waveform):
            if sid is not None and event.signal in STORED_WAVES:
                store.append_waveform(sid, event)
        elif isinstance(event, SessionEvent):
            store.add_event(sid, self.bed, event.t, event.kind, event.user, event.payload)
        elif isinstance(event, PhaseChanged):
            if sid is not None:
                store.set_phase(sid, event.phase)
        elif isinstance(event, SessionOpened):
            self.session_id = event.info.id  # created (or resumed) by the runtime already
        elif isinstance(event, SessionClosed):
            info = event.info
            assert info.ended_at is not None
            store.close_session(info.id, info.ended_at, event.user, event.payload)
            self.session_id = None


def _log_transition(tr: AlarmTransition) -> None:
    log.log(
        logging.WARNING if tr.state in _LOUD else logging.INFO,
        "bed %s: %s %s (%s, value %s, limit %s %s%s)",
        tr.bed,
        tr.name,
        tr.state,
        tr.priority.name,
        tr.value,
        tr.op,
        tr.limit,
        f", by {tr.user}" if tr.user else "",
    )
