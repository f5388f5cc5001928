"""GE Datex-Ohmeda S/5 computer interface (DRI): the sans-I/O decoder and the wire layout.

Covers the AS/3, CS/3, S/5 and CARESCAPE B450/B650/B850 family. Bytes go in with
`DriDecoder.feed`, readings, device events and waveform blocks come out. The writing side (the
host's requests, and the monitor's records the simulator and the tests build) is in
`datex_s5_encode`, which shares the constants and layouts below. No serial, no sockets.

Wire facts, all from ../shared/design/protocols.md §1 (checked there against real CARESCAPE
captures): every frame is 0x7E · escaped(record + checksum) · 0x7E; 0x7D escapes 0x7E/0x7D as
0x7D (byte ^ 0x20); the checksum is the sum of the un-escaped record bytes mod 256 and is
escaped too; records are little-endian with a 40-byte header; each physiological subrecord is
278 bytes and names its class in `cl_drilvl_subt` bits 8-11.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from devices.protocols.transparency import ESCAPE, FrameError, unstuff
from monitor.model import DeviceEvent, Reading, Waveform
from monitor.signals import REGISTRY

FLAG = 0x7E
HEADER_LEN = 40
MAX_RECORD_LEN = 1490  # 40-byte header + 1450 data bytes
MAX_ESCAPED_FRAME = 2 * (MAX_RECORD_LEN + 1)  # every byte escaped, plus the checksum
SUBRECORD_LEN = 278
CLASS_LEN = 270
EOL_SUBRECORD = 0xFF
INVALID_LIMIT = -32001  # everything below is a status marker, not data


class MainType(IntEnum):
    PHDB = 0
    WAVE = 1
    ALARM = 4
    NETWORK = 5
    ANESTHESIA_RECORD = 8


_MAINTYPE_NAMES = {m.value: m.name for m in MainType}


class PhdbType(IntEnum):
    DISPLAY = 1
    TREND_10S = 2
    TREND_60S = 3
    AUX_INFO = 4


class PhdbClass(IntEnum):
    BASIC = 0
    EXT1 = 1
    EXT2 = 2
    EXT3 = 3


ALL_CLASSES = (PhdbClass.BASIC, PhdbClass.EXT1, PhdbClass.EXT2, PhdbClass.EXT3)

# The int16 markers below -32001 (protocols.md §1.8), named as the UI shows them.
MARKERS = {
    -32767: "absent",
    -32766: "not updated",
    -32765: "discontinuity",
    -32764: "under range",
    -32763: "over range",
    -32762: "not calibrated",
}
ABSENT = -32767
INACTIVE = -32768  # not on the wire: the group says its module exists but is not measuring
MARKERS[INACTIVE] = "inactive"

STATUS_EXISTS = 0x1
STATUS_ACTIVE = 0x2
NIBP_LABEL_MEASURING = 1 << 5
NIBP_LABEL_OLDER_THAN_60S = 1 << 8
PRESSURE_SITES_ART = (1, 8)  # ART, ABP

DRI_LEVELS_TO_TRY = (0, 11, 10, 9, 8, 7)  # VSCapture's retry order when level 0 gets no answer

HEADER_LAYOUT = struct.Struct(
    "<hBBHIBBHh"
)  # r_len, r_nbr, dri_level, plug_id, r_time, 3 reserved, maintype
DESCRIPTOR_LAYOUT = struct.Struct("<hB")
U32 = struct.Struct("<I")
I16 = struct.Struct("<h")
U16 = struct.Struct("<H")


# -- basic-class layout ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One int16 value of the basic class: registry signal, offset, scale to canonical unit."""

    signal: str
    offset: int
    scale: float
    group: int  # offset of the group header (status uint32, label uint16)


# Offsets relative to the 270-byte class data (protocols.md §1.7).
ECG, P1, NIBP, T1, SPO2, CO2 = 0, 16, 72, 86, 118, 132
BASIC_FIELDS: tuple[Field, ...] = (
    Field("HR", 6, 1.0, ECG),
    Field("ART_SYS", 22, 0.01, P1),
    Field("ART_DIA", 24, 0.01, P1),
    Field("ART_MEAN", 26, 0.01, P1),
    Field("NIBP_SYS", 78, 0.01, NIBP),
    Field("NIBP_DIA", 80, 0.01, NIBP),
    Field("NIBP_MEAN", 82, 0.01, NIBP),
    Field("TEMP", 92, 0.01, T1),
    Field("SPO2", 124, 0.01, SPO2),
    Field("PR", 126, 1.0, SPO2),
    Field("RR", 142, 1.0, CO2),
)
_GROUPS = (ECG, P1, NIBP, T1, SPO2, CO2)
_CLASS_WORDS = struct.Struct(f"<{CLASS_LEN // 2}h")
IMPEDANCE_RR_OFFSET = 14  # ecg group: used for RR when there is no CO2 module
ETCO2_OFFSET, FICO2_OFFSET, AMB_PRESS_OFFSET = 138, 140, 144
AMB_PRESS_SCALE = 0.1  # mmHg
GAS_SCALE = 0.01  # volume %
NIBP_SIGNALS = ("NIBP_SYS", "NIBP_DIA", "NIBP_MEAN")
ART_SIGNALS = ("ART_SYS", "ART_DIA", "ART_MEAN")
# What a display-values record carries at every requested interval; the cuff comes on its
# own cycle.
PERIODIC_SIGNALS = ("HR", "PR", "SPO2", "RR", "ETCO2", "FICO2", "TEMP", *ART_SIGNALS)


@dataclass(frozen=True, slots=True)
class Wave:
    name: str
    rate_hz: int
    scale: float
    unit: str


WAVES = {
    1: Wave("ECG1", 300, 1.0, "µV"),
    2: Wave("ECG2", 300, 1.0, "µV"),
    3: Wave("ECG3", 300, 1.0, "µV"),
    4: Wave("INVP1", 100, 0.01, "mmHg"),
    8: Wave("PLETH", 100, 0.01, "%"),
    9: Wave("CO2", 25, 0.01, "%"),
    15: Wave("RESP", 25, 1.0, ""),
    32: Wave("ENT_100", 100, 1.0, ""),
}


@dataclass(frozen=True, slots=True)
class WaveformBlock:
    """One waveform subrecord: `samples` in `unit`, the first at `t`, `rate_hz` apart."""

    bed: str
    t: float
    wave_id: int
    name: str
    rate_hz: int
    unit: str
    raw: np.ndarray = field(repr=False)  # int16 as sent
    scale: float = 1.0
    status: int = 0

    @property
    def samples(self) -> np.ndarray:
        """Samples in `unit` (float64); NaN where the monitor had no valid sample."""
        out = self.raw * self.scale
        out[self.raw <= INVALID_LIMIT] = np.nan
        return out

    def waveform(self) -> Waveform:
        """The block as the station stores it: float32 samples in `unit`."""
        return Waveform(self.bed, self.t, self.name, self.rate_hz, self.samples.astype(np.float32))


@dataclass(slots=True)
class DecoderStats:
    good: int = 0
    bad_checksum: int = 0
    malformed: int = 0
    records: dict[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> int:
        return self.bad_checksum + self.malformed


Event = Reading | DeviceEvent | WaveformBlock


# -- framing -----------------------------------------------------------------------------


def checksum(record: bytes) -> int:
    if len(record) < 64:
        return sum(record) & 0xFF
    return int(np.frombuffer(record, dtype=np.uint8).sum(dtype=np.uint32)) & 0xFF


SPECIAL = bytes((FLAG, ESCAPE))  # the flag and the escape byte itself


def unescape(body: bytes) -> bytes:
    return unstuff(body, SPECIAL)


class Deframer:
    """Splits a byte stream into checked records; counts what it throws away."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.stats = DecoderStats()

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect); the counts are kept."""
        self._buf.clear()
        self._in_frame = False

    def feed(self, data: bytes) -> list[bytes]:
        # Every flag ends the frame in progress and may open the next: back-to-back frames
        # share "7E 7E", and a stream that starts mid-frame resynchronises on the next flag.
        pieces = data.split(b"\x7e")
        records: list[bytes] = []
        if len(pieces) == 1:  # no flag in this chunk
            if self._in_frame:
                self._buf += data
                if len(self._buf) > MAX_ESCAPED_FRAME:  # no closing flag in sight: drop it
                    self.stats.malformed += 1
                    self.reset()
            return records
        if self._in_frame:
            self._buf += pieces[0]
            if self._buf:
                record = self._check(bytes(self._buf))
                if record is not None:
                    records.append(record)
        for body in pieces[1:-1]:
            if body:
                record = self._check(body)
                if record is not None:
                    records.append(record)
        self._buf = bytearray(pieces[-1])
        self._in_frame = True
        if len(self._buf) > MAX_ESCAPED_FRAME:
            self.stats.malformed += 1
            self.reset()
        return records

    def _check(self, body: bytes) -> bytes | None:
        try:
            raw = unescape(body)
        except FrameError:
            self.stats.malformed += 1
            return None
        if len(raw) < HEADER_LEN + 1 or len(raw) > MAX_RECORD_LEN + 1:
            self.stats.malformed += 1
            return None
        record, check = raw[:-1], raw[-1]
        if checksum(record) != check:
            self.stats.bad_checksum += 1
            return None
        if I16.unpack_from(record, 0)[0] != len(record):
            self.stats.malformed += 1  # r_len must count header + data, without the checksum
            return None
        self.stats.good += 1
        return record


# -- records -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    r_len: int
    r_nbr: int
    dri_level: int
    r_time: int
    maintype: int
    subrecords: tuple[tuple[int, int], ...]  # (offset from the data area, sr_type)


def parse_header(record: bytes) -> Header:
    r_len, r_nbr, level, _plug, r_time, _a, _b, _c, maintype = HEADER_LAYOUT.unpack_from(record, 0)
    subs = []
    for i in range(8):
        offset, sr_type = DESCRIPTOR_LAYOUT.unpack_from(record, 16 + 3 * i)
        if sr_type == EOL_SUBRECORD:
            break
        subs.append((offset, sr_type))
    return Header(r_len, r_nbr, level, r_time, maintype, tuple(subs))


class DriDecoder:
    """Turns monitor bytes into Readings (canonical units), status events and waveforms.

    Keep one decoder per monitor for the life of the bed: it remembers the last cuff
    measurement and each signal's status across reconnects, so a repeated NIBP value is never
    taken for a new measurement.
    """

    def __init__(self, bed: str) -> None:
        self.bed = bed
        self.deframer = Deframer()
        self._status: dict[str, str] = {}
        self._last_cuff: tuple[int, int, int] | None = None
        self._cuff_measuring = False
        self._wave_end: dict[int, float] = {}  # where each waveform's last block ended

    @property
    def stats(self) -> DecoderStats:
        return self.deframer.stats

    def reset(self) -> None:
        """The link was re-made: drop a partial frame, keep the cuff and status memory."""
        self.deframer.reset()

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for record in self.deframer.feed(data):
            try:
                events += self.decode_record(record)
            except (struct.error, IndexError, ValueError):
                self.stats.good -= 1
                self.stats.malformed += 1
        return events

    def decode_record(self, record: bytes) -> list[Event]:
        head = parse_header(record)
        kind = (
            MainType(head.maintype).name
            if head.maintype in MainType._value2member_map_
            else (f"type {head.maintype}")
        )
        self.stats.records[kind] = self.stats.records.get(kind, 0) + 1
        for offset, _ in head.subrecords:
            if offset < 0 or HEADER_LEN + offset > len(record):
                raise ValueError("subrecord offset outside the record")
        if head.maintype == MainType.PHDB:
            return self._phdb(record, head)
        if head.maintype == MainType.WAVE:
            return self._waves(record, head)
        return []

    # -- physiological records -----------------------------------------------------------

    def _phdb(self, record: bytes, head: Header) -> list[Event]:
        events: list[Event] = []
        for offset, sr_type in head.subrecords:
            base = HEADER_LEN + offset
            if base + SUBRECORD_LEN > len(record):
                raise ValueError("truncated physiological subrecord")
            if sr_type != PhdbType.DISPLAY:
                continue  # trend and aux subrecords repeat what the display values carry
            t = U32.unpack_from(record, base)[0] or head.r_time
            class_word = U16.unpack_from(record, base + 276)[0]
            if (class_word >> 8) & 0x0F == PhdbClass.BASIC:
                events += self._basic(record, base + 4, float(t), head.r_nbr)
        return events

    def _basic(self, data: bytes, pos: int, t: float, nbr: int) -> list[Event]:
        """The basic class's numerics, each marked with its record's number `nbr`."""
        out: list[Event] = []
        raw: dict[str, int] = {}
        words = _CLASS_WORDS.unpack_from(data, pos)  # the whole class as int16, in one call
        statuses = {g: U32.unpack_from(data, pos + g)[0] for g in _GROUPS}
        for f in BASIC_FIELDS:
            status = statuses[f.group]
            value = words[f.offset // 2]
            if not status & STATUS_EXISTS:
                value = ABSENT
            elif not status & STATUS_ACTIVE and value > INVALID_LIMIT:
                value = INACTIVE
            raw[f.signal] = value

        p1_label = U16.unpack_from(data, pos + P1 + 4)[0]
        if p1_label not in PRESSURE_SITES_ART:
            for sig in ART_SIGNALS:
                raw[sig] = ABSENT  # P1 measures something else (CVP, PA, ...)

        co2_present = statuses[CO2] & STATUS_EXISTS
        amb = words[AMB_PRESS_OFFSET // 2]
        for sig, off in (("ETCO2", ETCO2_OFFSET), ("FICO2", FICO2_OFFSET)):
            raw[sig] = words[off // 2] if co2_present else ABSENT
        if raw["RR"] <= INVALID_LIMIT:
            imp = words[IMPEDANCE_RR_OFFSET // 2]
            if statuses[ECG] & STATUS_EXISTS and imp > INVALID_LIMIT:
                raw["RR"] = imp

        nibp_label = U16.unpack_from(data, pos + NIBP + 4)[0]
        new_cuff = self._new_cuff(raw, nibp_label)

        known = self._status
        for f in BASIC_FIELDS:
            v = raw[f.signal]
            if f.signal in NIBP_SIGNALS and not new_cuff:
                self._set_status(out, t, f.signal, v, emit_reading=False)
            elif v > INVALID_LIMIT and known.get(f.signal) == "valid":  # the usual case, inline
                value = float(v) if f.scale == 1.0 else round(v * f.scale, 6)
                unit = REGISTRY[f.signal].unit
                out.append(Reading(self.bed, t, f.signal, value, unit, record=nbr))
            else:
                self._emit(out, t, f.signal, v, f.scale, nbr)
        for sig in ("ETCO2", "FICO2"):
            v = raw[sig]
            if v > INVALID_LIMIT and amb > INVALID_LIMIT:
                # % -> mmHg with the record's ambient pressure: v*0.01 % * amb*0.1 mmHg / 100
                self._emit(out, t, sig, v, amb * GAS_SCALE * AMB_PRESS_SCALE / 100, nbr)
            else:
                self._emit(out, t, sig, v if v <= INVALID_LIMIT else ABSENT, 1.0, nbr)
        return out

    def _new_cuff(self, raw: Mapping[str, int], label: int) -> bool:
        """True only for a cuff result not seen before (the group repeats the last one)."""
        triple = (raw["NIBP_SYS"], raw["NIBP_DIA"], raw["NIBP_MEAN"])
        measuring = bool(label & NIBP_LABEL_MEASURING)
        finished = self._cuff_measuring and not measuring
        self._cuff_measuring = measuring
        if measuring or min(triple) <= INVALID_LIMIT:
            return False
        first = self._last_cuff is None
        changed = triple != self._last_cuff
        self._last_cuff = triple
        if first:
            return not label & NIBP_LABEL_OLDER_THAN_60S  # an old result is not a new reading
        return changed or finished

    def _emit(
        self, out: list[Event], t: float, signal: str, value: int, scale: float, nbr: int
    ) -> None:
        if self._set_status(out, t, signal, value, emit_reading=True):
            unit = REGISTRY[signal].unit
            out.append(Reading(self.bed, t, signal, round(value * scale, 6), unit, record=nbr))

    def _set_status(
        self, out: list[Event], t: float, signal: str, value: int, emit_reading: bool
    ) -> bool:
        """Track per-signal status; emit an event when it changes. True if `value` is data."""
        status = MARKERS.get(value, "invalid") if value <= INVALID_LIMIT else "valid"
        if self._status.get(signal) != status:
            self._status[signal] = status
            out.append(
                DeviceEvent(self.bed, t, "signal_status", {"signal": signal, "status": status})
            )
        return status == "valid" and emit_reading

    # -- waveforms -----------------------------------------------------------------------

    def _wave_start(self, wave_id: int, r_time: float, n: int, rate_hz: int) -> float:
        """When a block's first sample was taken. The record's time is whole seconds, and a
        monitor sends several blocks a second: a block that follows on from the last one (its
        whole second matches) starts where that one ended, so the trace joins; otherwise, a
        real gap, it starts at the record's time."""
        end = self._wave_end.get(wave_id)
        start = end if end is not None and r_time - 1.0 <= end <= r_time + 2.0 else r_time
        if rate_hz:
            self._wave_end[wave_id] = start + n / rate_hz
        return start

    def _waves(self, record: bytes, head: Header) -> list[Event]:
        out: list[Event] = []
        for offset, wave_id in head.subrecords:
            base = HEADER_LEN + offset
            n, status = I16.unpack_from(record, base)[0], U16.unpack_from(record, base + 2)[0]
            if n < 0 or base + 6 + 2 * n > len(record):
                raise ValueError("waveform subrecord longer than its record")
            wave = WAVES.get(wave_id, Wave(f"WAVE{wave_id}", 0, 1.0, ""))
            ints = np.frombuffer(record, dtype="<i2", count=n, offset=base + 6)
            out.append(
                WaveformBlock(
                    self.bed,
                    self._wave_start(wave_id, float(head.r_time), n, wave.rate_hz),
                    wave_id,
                    wave.name,
                    wave.rate_hz,
                    wave.unit,
                    ints,
                    wave.scale,
                    status,
                )
            )
        return out
