"""The effects: a journal reader that tells the bed's device what the core decided.

The pump rate and boluses reach a simulated patient; the trainee's actions reach a training
scenario. A real monitor ignores them. Nothing here decides anything.
"""

from __future__ import annotations

import logging
import threading

from monitor.domain.events import BolusGiven, PumpRate, TraineeAction
from monitor.ports import Device, Dosable, Trainable
from monitor.runtime.journal import Journal

log = logging.getLogger(__name__)


class Effects:
    def __init__(self, journal: Journal, device: Device, cursor: int = 0) -> None:
        self.journal, self.device, self.cursor = journal, device, cursor
        self._lock = threading.Lock()

    def drain(self) -> None:
        with self._lock:
            entries, self.cursor, _ = self.journal.read(self.cursor)
            device = self.device
            for _, event in entries:
                try:
                    if isinstance(event, PumpRate):
                        device.infusion_changed(event.mg_per_h)
                    elif isinstance(event, BolusGiven) and isinstance(device, Dosable):
                        device.bolus(event.mg)
                    elif isinstance(event, TraineeAction) and isinstance(device, Trainable):
                        device.trainee_action(event.action, event.detail)
                except Exception:  # a device fault must not stop the bed's decisions
                    log.exception("device effect %r failed", event)
