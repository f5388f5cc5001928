"""GE Datex-Ohmeda S/5 computer interface (DRI): a sans-I/O codec.

Covers the AS/3, CS/3, S/5 and CARESCAPE B450/B650/B850 family. Bytes go in with
`DriDecoder.feed`, readings and device events come out; the encoders build the host's requests
and, for the simulator and the tests, the monitor's records. No serial, no sockets.

Wire facts, all from ../shared/design/protocols.md §1 (checked there against real CARESCAPE
captures): every frame is 0x7E · escaped(record + checksum) · 0x7E; 0x7D escapes 0x7E/0x7D as
0x7D (byte ^ 0x20); the checksum is the sum of the un-escaped record bytes mod 256 and is
escaped too; records are little-endian with a 40-byte header; each physiological subrecord is
278 bytes and names its class in `cl_drilvl_subt` bits 8-11.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from monitor.model import DeviceEvent, Reading
from monitor.signals import REGISTRY

FLAG = 0x7E
ESCAPE = 0x7D
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

_HEADER = struct.Struct(
    "<hBBHIBBHh"
)  # r_len, r_nbr, dri_level, plug_id, r_time, 3 reserved, maintype
_DESC = struct.Struct("<hB")
_U32 = struct.Struct("<I")
_I16 = struct.Struct("<h")
_U16 = struct.Struct("<H")


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


@dataclass(frozen=True, slots=True)
class DisplayRequest:
    """A host's request for periodic physiological records (what the simulator answers)."""

    record_type: int
    interval_s: int
    classes: tuple[PhdbClass, ...]
    dri_level: int

    @property
    def is_stop(self) -> bool:
        return self.interval_s == 0


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


def escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e")


def frame(record: bytes) -> bytes:
    """Wrap an un-escaped record for the wire: flags, escaping, checksum."""
    return bytes([FLAG]) + escape(record + bytes([checksum(record)])) + bytes([FLAG])


class FrameError(ValueError):
    pass


def unescape(body: bytes) -> bytes:
    if ESCAPE not in body:
        return body
    first, *rest = body.split(b"\x7d")
    out = [first]
    for part in rest:
        if not part or part[0] not in (0x5D, 0x5E):
            raise FrameError("escape byte not followed by 0x5D or 0x5E")
        out.append(bytes((part[0] ^ 0x20,)))
        out.append(part[1:])
    return b"".join(out)


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
        if _I16.unpack_from(record, 0)[0] != len(record):
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
    r_len, r_nbr, level, _plug, r_time, _a, _b, _c, maintype = _HEADER.unpack_from(record, 0)
    subs = []
    for i in range(8):
        offset, sr_type = _DESC.unpack_from(record, 16 + 3 * i)
        if sr_type == EOL_SUBRECORD:
            break
        subs.append((offset, sr_type))
    return Header(r_len, r_nbr, level, r_time, maintype, tuple(subs))


def parse_request(record: bytes) -> DisplayRequest | None:
    """A host's PHDB transmission request, or None if the record is something else."""
    if len(record) < HEADER_LEN + 9:
        return None
    head = parse_header(record)
    if head.maintype != MainType.PHDB or not head.subrecords or head.subrecords[0][1] != 0:
        return None
    base = HEADER_LEN + head.subrecords[0][0]
    if base + 9 > len(record):
        return None
    rtype = record[base]
    interval = _I16.unpack_from(record, base + 1)[0]
    class_bf = _U32.unpack_from(record, base + 3)[0]
    classes = tuple(
        c for c in ALL_CLASSES if (c == PhdbClass.BASIC) != bool(class_bf & (1 << c))
    )  # bit 0 *denies* basic; bits 1-3 ask for ext1-3
    return DisplayRequest(rtype, interval, classes, head.dri_level)


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

    @property
    def stats(self) -> DecoderStats:
        return self.deframer.stats

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
            t = _U32.unpack_from(record, base)[0] or head.r_time
            class_word = _U16.unpack_from(record, base + 276)[0]
            if (class_word >> 8) & 0x0F == PhdbClass.BASIC:
                events += self._basic(record, base + 4, float(t))
        return events

    def _basic(self, data: bytes, pos: int, t: float) -> list[Event]:
        out: list[Event] = []
        raw: dict[str, int] = {}
        words = _CLASS_WORDS.unpack_from(data, pos)  # the whole class as int16, in one call
        statuses = {g: _U32.unpack_from(data, pos + g)[0] for g in _GROUPS}
        for f in BASIC_FIELDS:
            status = statuses[f.group]
            value = words[f.offset // 2]
            if not status & STATUS_EXISTS:
                value = ABSENT
            elif not status & STATUS_ACTIVE and value > INVALID_LIMIT:
                value = INACTIVE
            raw[f.signal] = value

        p1_label = _U16.unpack_from(data, pos + P1 + 4)[0]
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

        nibp_label = _U16.unpack_from(data, pos + NIBP + 4)[0]
        new_cuff = self._new_cuff(raw, nibp_label)

        known = self._status
        for f in BASIC_FIELDS:
            v = raw[f.signal]
            if f.signal in NIBP_SIGNALS and not new_cuff:
                self._set_status(out, t, f.signal, v, emit_reading=False)
            elif v > INVALID_LIMIT and known.get(f.signal) == "valid":  # the usual case, inline
                value = float(v) if f.scale == 1.0 else round(v * f.scale, 6)
                out.append(Reading(self.bed, t, f.signal, value, REGISTRY[f.signal].unit))
            else:
                self._emit(out, t, f.signal, v, f.scale)
        for sig in ("ETCO2", "FICO2"):
            v = raw[sig]
            if v > INVALID_LIMIT and amb > INVALID_LIMIT:
                # % -> mmHg with the record's ambient pressure: v*0.01 % * amb*0.1 mmHg / 100
                self._emit(out, t, sig, v, amb * GAS_SCALE * AMB_PRESS_SCALE / 100)
            else:
                self._emit(out, t, sig, v if v <= INVALID_LIMIT else ABSENT, 1.0)
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

    def _emit(self, out: list[Event], t: float, signal: str, value: int, scale: float) -> None:
        if self._set_status(out, t, signal, value, emit_reading=True):
            unit = REGISTRY[signal].unit
            out.append(Reading(self.bed, t, signal, round(value * scale, 6), unit))

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

    def _waves(self, record: bytes, head: Header) -> list[Event]:
        out: list[Event] = []
        for offset, wave_id in head.subrecords:
            base = HEADER_LEN + offset
            n, status = _I16.unpack_from(record, base)[0], _U16.unpack_from(record, base + 2)[0]
            if n < 0 or base + 6 + 2 * n > len(record):
                raise ValueError("waveform subrecord longer than its record")
            wave = WAVES.get(wave_id, Wave(f"WAVE{wave_id}", 0, 1.0, ""))
            ints = np.frombuffer(record, dtype="<i2", count=n, offset=base + 6)
            out.append(
                WaveformBlock(
                    self.bed,
                    float(head.r_time),
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


# -- encoders ----------------------------------------------------------------------------


def _header(
    r_len: int,
    maintype: int,
    subrecords: Iterable[tuple[int, int]],
    r_time: int = 0,
    r_nbr: int = 0,
    dri_level: int = 0,
) -> bytearray:
    head = bytearray(HEADER_LEN)
    _HEADER.pack_into(head, 0, r_len, r_nbr & 0xFF, dri_level, 0, r_time, 0, 0, 0, maintype)
    subs = list(subrecords)
    for i, (offset, sr_type) in enumerate(subs):
        _DESC.pack_into(head, 16 + 3 * i, offset, sr_type)
    _DESC.pack_into(head, 16 + 3 * len(subs), 0, EOL_SUBRECORD)
    return head


def display_request(
    interval_s: int,
    classes: Iterable[PhdbClass] = ALL_CLASSES,
    record_type: PhdbType = PhdbType.DISPLAY,
    dri_level: int = 0,
) -> bytes:
    """The host's framed request for display values every `interval_s` seconds."""
    wanted = set(classes)
    class_bf = 0 if PhdbClass.BASIC in wanted else 1
    for c in (PhdbClass.EXT1, PhdbClass.EXT2, PhdbClass.EXT3):
        if c in wanted:
            class_bf |= 1 << c
    record = _header(HEADER_LEN + 9, MainType.PHDB, [(0, 0)], dri_level=dri_level)
    record += struct.pack("<BhIH", record_type, interval_s, class_bf, 0)
    return frame(bytes(record))


WAVE_REQUEST_BODY = 32
WAVE_REQUEST_IDS = 8  # id slots, the list terminated by 0xFF
MAX_WAVE_RATE = 600  # samples/s a monitor sends in total (protocols.md §1.9)


def waveform_request(wave_ids: Iterable[int], dri_level: int = 0, start: bool = True) -> bytes:
    """The host's framed request to start (or stop) continuous waveforms (protocols.md §1.9)."""
    ids = list(wave_ids)
    if len(ids) >= WAVE_REQUEST_IDS:
        raise ValueError(f"at most {WAVE_REQUEST_IDS - 1} waveforms per request")
    if sum(WAVES[i].rate_hz for i in ids) > MAX_WAVE_RATE:
        raise ValueError(f"waveforms exceed {MAX_WAVE_RATE} samples/s")
    record = _header(HEADER_LEN + WAVE_REQUEST_BODY, MainType.WAVE, [(0, 0)], dri_level=dri_level)
    types = (bytes(ids) + b"\xff").ljust(WAVE_REQUEST_IDS, b"\0")
    record += struct.pack("<hh", 0 if start else 1, 0) + types + bytes(20)
    return frame(bytes(record))


def parse_waveform_request(record: bytes) -> tuple[int, ...] | None:
    """The waveform ids a host asks for (empty to stop), or None for another record."""
    if len(record) < HEADER_LEN + WAVE_REQUEST_BODY:
        return None
    head = parse_header(record)
    if head.maintype != MainType.WAVE or not head.subrecords or head.subrecords[0][1] != 0:
        return None
    base = HEADER_LEN + head.subrecords[0][0]
    req_type = _I16.unpack_from(record, base)[0]
    if req_type == 1:
        return ()
    ids = record[base + 4 : base + 4 + WAVE_REQUEST_IDS].split(b"\xff")[0]
    return tuple(i for i in ids if i in WAVES)


def stop_request(dri_level: int = 0) -> bytes:
    """Stop periodic transmission: the same request with interval 0 and no classes."""
    record = _header(HEADER_LEN + 9, MainType.PHDB, [(0, 0)], dri_level=dri_level)
    record += struct.pack("<BhIH", PhdbType.DISPLAY, 0, 0, 0)
    return frame(bytes(record))


def _basic_class(values: Mapping[str, float], nibp_label: int, amb_press_mmhg: float) -> bytes:
    data = bytearray(CLASS_LEN)
    # Every value starts absent; a group is "exists + active" when any of its fields is given.
    for pos in range(0, CLASS_LEN - 1, 2):
        _I16.pack_into(data, pos, ABSENT)
    groups = (
        ECG,
        P1,
        30,
        44,
        58,
        NIBP,
        T1,
        94,
        102,
        110,
        SPO2,
        CO2,
        146,
        156,
        166,
        178,
        200,
        214,
        232,
        240,
        254,
    )
    for g in groups:
        struct.pack_into("<IH", data, g, 0, 0)
    _I16.pack_into(data, 268, 0)
    present: set[int] = set()
    for f in BASIC_FIELDS:
        if f.signal in values:
            _I16.pack_into(data, f.offset, _to_int(values[f.signal] / f.scale))
            present.add(f.group)
    if any(s in values for s in ART_SIGNALS):
        _U16.pack_into(data, P1 + 4, PRESSURE_SITES_ART[0])
    if "ETCO2" in values or "FICO2" in values:
        present.add(CO2)
        amb_raw = _to_int(amb_press_mmhg / AMB_PRESS_SCALE)
        _I16.pack_into(data, AMB_PRESS_OFFSET, amb_raw)
        per_raw = amb_raw * GAS_SCALE * AMB_PRESS_SCALE / 100  # mmHg per raw unit
        for sig, off in (("ETCO2", ETCO2_OFFSET), ("FICO2", FICO2_OFFSET)):
            if sig in values:
                _I16.pack_into(data, off, _to_int(values[sig] / per_raw))
    for g in present:
        _U32.pack_into(data, g, STATUS_EXISTS | STATUS_ACTIVE)
    if NIBP in present:
        _U16.pack_into(data, NIBP + 4, nibp_label)
    return bytes(data)


def _to_int(v: float) -> int:
    return max(-32000, min(32767, round(v)))


def phdb_record(
    values: Mapping[str, float],
    r_time: int,
    r_nbr: int = 0,
    dri_level: int = 10,
    classes: Iterable[PhdbClass] = (PhdbClass.BASIC,),
    nibp_label: int = 0x0B,
    amb_press_mmhg: float = 760.0,
    markers: Mapping[str, int] | None = None,
) -> bytes:
    """A monitor's framed display-values record carrying `values` in canonical units.

    Signals left out are sent as absent; `markers` forces a signal to a status marker
    (e.g. {"SPO2": -32763} for over range). Other classes are sent with all values absent.
    """
    order = list(classes)
    subs = [(i * SUBRECORD_LEN, PhdbType.DISPLAY) for i in range(len(order))]
    record = _header(
        HEADER_LEN + SUBRECORD_LEN * len(order), MainType.PHDB, subs, r_time, r_nbr, dri_level
    )
    for cls in order:
        if cls == PhdbClass.BASIC:
            body = bytearray(_basic_class(values, nibp_label, amb_press_mmhg))
            for sig, marker in (markers or {}).items():
                for f in BASIC_FIELDS:
                    if f.signal == sig:
                        _I16.pack_into(body, f.offset, marker)
                if sig == "ETCO2":
                    _I16.pack_into(body, ETCO2_OFFSET, marker)
        else:
            body = bytearray(struct.pack("<h", ABSENT) * (CLASS_LEN // 2))
        class_word = (cls << 8) | ((dri_level & 0x0F) << 4) | PhdbType.DISPLAY
        record += struct.pack("<I", r_time) + body + struct.pack("<BBH", 0, 0, class_word)
    return frame(bytes(record))


def waveform_record(
    wave_id: int, samples: Iterable[float], r_time: int, r_nbr: int = 0, dri_level: int = 10
) -> bytes:
    """A monitor's framed waveform record with one subrecord of scaled samples."""
    wave = WAVES[wave_id]
    ints = [_to_int(s / wave.scale) for s in samples]
    body = struct.pack("<hHH", len(ints), 0, 0) + struct.pack(f"<{len(ints)}h", *ints)
    record = _header(
        HEADER_LEN + len(body), MainType.WAVE, [(0, wave_id)], r_time, r_nbr, dri_level
    )
    return frame(bytes(record + body))
