"""The chair-agent wire contract over MQTT, without I/O: topics, JSON payloads and de-duplication.

Topics are `{prefix}/{clinic}/{bed}/{channel}` (simulator-and-scale.md §2.8). Every payload
carries the sending run's id, a sequence number and the device time, so a receiver can drop
what a QoS-1 redelivery or a spool replay sends twice and count what never came. Each channel
numbers its own messages: waves go at QoS 0 and may be lost, which must not read as a gap in
the numerics.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from monitor.model import DeviceEvent, Quality, Reading, Waveform

PREFIX = "ikm/v1"
VERSION = 1
Channel = Literal["status", "numerics", "wave", "events", "cmd"]
CHANNELS: tuple[Channel, ...] = ("status", "numerics", "wave", "events", "cmd")
ONLINE, OFFLINE = "online", "offline"
Item = Reading | Waveform | DeviceEvent


class PayloadError(ValueError):
    """A message that does not follow the contract; one line, counted by the receiver."""


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one bed."""

    clinic: str
    bed: str
    prefix: str = PREFIX

    def of(self, channel: Channel) -> str:
        return f"{self.prefix}/{self.clinic}/{self.bed}/{channel}"

    def channel(self, topic: str) -> Channel:
        """The channel of one of this bed's topics (PayloadError for anyone else's)."""
        head, _, tail = topic.rpartition("/")
        if head != f"{self.prefix}/{self.clinic}/{self.bed}" or tail not in CHANNELS:
            raise PayloadError(f"{topic}: not a topic of bed {self.bed}")
        return tail  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded message: its origin and numbering, and what it carries."""

    channel: Channel
    run: str
    seq: int
    t: float
    items: tuple[Item, ...] = ()
    state: str = ""  # status: online | offline
    source: str = ""  # status: live | simulated
    command: str = ""  # cmd
    args: dict[str, Any] = field(default_factory=dict)  # cmd


class Encoder:
    """One sender's numbering (an agent, or the central's command writer for a bed)."""

    def __init__(self, bed: str, run: str | None = None) -> None:
        self.bed = bed
        self.run = run or uuid.uuid4().hex[:16]
        self._seq: dict[str, int] = {}

    def _wrap(self, channel: Channel, t: float, body: dict[str, Any]) -> bytes:
        seq = self._seq.get(channel, 0)
        self._seq[channel] = seq + 1
        msg = {"v": VERSION, "run": self.run, "seq": seq, "bed": self.bed, "t": t, **body}
        return json.dumps(msg, separators=(",", ":"), allow_nan=False).encode()

    def numerics(self, readings: list[Reading]) -> bytes:
        """One second's readings in one message."""
        rows = [
            {"signal": r.signal, "value": r.value, "unit": r.unit, "t": r.t,
             "quality": str(r.quality), "source": r.source}
            for r in readings
        ]  # fmt: skip
        return self._wrap("numerics", readings[0].t, {"readings": rows})

    def wave(self, w: Waveform) -> bytes:
        samples = [None if math.isnan(x) else round(float(x), 4) for x in w.samples]
        body = {"signal": w.signal, "rate_hz": w.rate_hz, "samples": samples}
        return self._wrap("wave", w.t, body)

    def event(self, e: DeviceEvent) -> bytes:
        return self._wrap("events", e.t, {"kind": e.kind, "detail": e.detail})

    def status(self, state: str, t: float, source: str) -> bytes:
        return self._wrap("status", t, {"state": state, "source": source})

    def command(self, name: str, t: float, **args: Any) -> bytes:
        return self._wrap("cmd", t, {"command": name, "args": args})


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise PayloadError(f"{key!r} missing or not {getattr(kind, '__name__', kind)}")
    return value


def _number(obj: dict[str, Any], key: str) -> float:
    value = float(_field(obj, key, (int, float)))
    if not math.isfinite(value):
        raise PayloadError(f"{key!r} is not a finite number")
    return value


def decode(channel: Channel, payload: bytes, bed: str) -> Message:
    """A message of `bed` on `channel`; PayloadError (one line) when it is not one."""
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise PayloadError(f"{channel}: not JSON ({err})") from None
    if not isinstance(obj, dict):
        raise PayloadError(f"{channel}: not a JSON object")
    try:
        return _decode(channel, obj, bed)
    except PayloadError as err:
        raise PayloadError(f"{channel}: {err}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise PayloadError(f"{channel}: malformed ({err})") from None


def _decode(channel: Channel, obj: dict[str, Any], bed: str) -> Message:
    if obj.get("v") != VERSION:
        raise PayloadError(f"version {obj.get('v')!r}, expected {VERSION}")
    if obj.get("bed") != bed:
        raise PayloadError(f"bed {obj.get('bed')!r} on bed {bed}'s topic")
    run, seq, t = _field(obj, "run", str), _field(obj, "seq", int), _number(obj, "t")
    if seq < 0:
        raise PayloadError("'seq' is negative")
    if channel == "status":
        state = _field(obj, "state", str)
        if state not in (ONLINE, OFFLINE):
            raise PayloadError(f"state {state!r}")
        return Message(channel, run, seq, t, state=state, source=_field(obj, "source", str))
    if channel == "cmd":
        args = _field(obj, "args", dict)
        return Message(channel, run, seq, t, command=_field(obj, "command", str), args=args)
    if channel == "events":
        event = DeviceEvent(bed, t, _field(obj, "kind", str), _field(obj, "detail", dict))
        return Message(channel, run, seq, t, (event,))
    if channel == "wave":
        samples = np.array(
            [np.nan if x is None else x for x in _field(obj, "samples", list)], dtype=np.float32
        )
        rate = _number(obj, "rate_hz")
        if rate <= 0:
            raise PayloadError("'rate_hz' must be positive")
        wave = Waveform(bed, t, _field(obj, "signal", str), rate, samples)
        return Message(channel, run, seq, t, (wave,))
    readings = tuple(
        Reading(
            bed,
            _number(r, "t"),
            _field(r, "signal", str),
            _number(r, "value"),  # as measured: the bed core judges plausibility, never here
            _field(r, "unit", str),
            Quality(r.get("quality", "valid")),
            str(r.get("source", "")),
        )
        for r in _field(obj, "readings", list)
    )
    return Message(channel, run, seq, t, readings)


class Dedupe:
    """Drops what was already seen per (run, channel, seq); counts duplicates and gaps.

    A run first seen mid-way starts where it is seen (a central that starts late missed
    nothing of its own). A seq that skips ahead opens a gap; a late arrival (a spool replay)
    fills it. Bounded: the last `runs` runs and `window` open gaps per stream are kept.
    """

    def __init__(self, runs: int = 16, window: int = 100_000) -> None:
        self.duplicates = 0
        self.accepted = 0
        self._runs, self._window = runs, window
        self._high: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._missing: dict[tuple[str, str], set[int]] = {}

    @property
    def gaps(self) -> int:
        """Messages skipped and not (yet) arrived."""
        return sum(len(m) for m in self._missing.values())

    def fresh(self, msg: Message) -> bool:
        """True for a message not seen before (and now remembered)."""
        key = (msg.run, msg.channel)
        high = self._high.get(key)
        if high is None:
            while len(self._high) >= self._runs * len(CHANNELS):
                old, _ = self._high.popitem(last=False)
                self._missing.pop(old, None)
            high = self._high[key] = msg.seq - 1
            self._missing[key] = set()
        self._high.move_to_end(key)
        missing = self._missing[key]
        if msg.seq > high:
            if msg.seq - high - 1 <= self._window:
                missing.update(range(high + 1, msg.seq))
            while len(missing) > self._window:
                missing.discard(min(missing))
            self._high[key] = msg.seq
        elif msg.seq in missing:
            missing.discard(msg.seq)
        else:
            self.duplicates += 1
            return False
        self.accepted += 1
        return True
