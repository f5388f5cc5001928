"""GE S/5 DRI: the writing side, and the host's requests read back.

The host's requests (display values, waveforms, stop) are built here, and read back here for
the virtual monitor, so the request layout lives in one module. The monitor's records are built
here too, for the virtual monitor and the tests; `datex_s5` decodes them. Shapes follow
protocols.md §1.3-§1.9 and §1.12. No serial, no sockets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devices.protocols.datex_s5 import (
    ABSENT,
    ALL_CLASSES,
    AMB_PRESS_OFFSET,
    AMB_PRESS_SCALE,
    ART_SIGNALS,
    BASIC_FIELDS,
    CLASS_LEN,
    CO2,
    DESCRIPTOR_LAYOUT,
    DRI_LEVELS_TO_TRY,
    ECG,
    EOL_SUBRECORD,
    ETCO2_OFFSET,
    FICO2_OFFSET,
    FLAG,
    GAS_SCALE,
    HEADER_LAYOUT,
    HEADER_LEN,
    I16,
    NIBP,
    P1,
    PRESSURE_SITES_ART,
    SPECIAL,
    SPO2,
    STATUS_ACTIVE,
    STATUS_EXISTS,
    SUBRECORD_LEN,
    T1,
    U16,
    U32,
    WAVES,
    MainType,
    PhdbClass,
    PhdbType,
    checksum,
    parse_header,
)
from devices.protocols.transparency import stuff

PLETH_WAVE = 8  # the plethysmogram, 100 Hz: the waveform the station keeps with the record
ECG1_WAVE = 1  # ECG lead I (300 Hz): shown live on the bed page
LIVE_WAVES = (ECG1_WAVE, PLETH_WAVE)  # 400 samples/s, inside the monitor's 600


# -- framing -----------------------------------------------------------------------------


def escape(data: bytes) -> bytes:
    return stuff(data, SPECIAL)


def frame(record: bytes) -> bytes:
    """Wrap an un-escaped record for the wire: flags, escaping, checksum."""
    return bytes([FLAG]) + escape(record + bytes([checksum(record)])) + bytes([FLAG])


# -- the host's requests -----------------------------------------------------------------


def _header(
    r_len: int,
    maintype: int,
    subrecords: Iterable[tuple[int, int]],
    r_time: int = 0,
    r_nbr: int = 0,
    dri_level: int = 0,
) -> bytearray:
    head = bytearray(HEADER_LEN)
    HEADER_LAYOUT.pack_into(head, 0, r_len, r_nbr & 0xFF, dri_level, 0, r_time, 0, 0, 0, maintype)
    subs = list(subrecords)
    for i, (offset, sr_type) in enumerate(subs):
        DESCRIPTOR_LAYOUT.pack_into(head, 16 + 3 * i, offset, sr_type)
    DESCRIPTOR_LAYOUT.pack_into(head, 16 + 3 * len(subs), 0, EOL_SUBRECORD)
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


def stop_request(dri_level: int = 0) -> bytes:
    """Stop periodic transmission: the same request with interval 0 and no classes."""
    record = _header(HEADER_LEN + 9, MainType.PHDB, [(0, 0)], dri_level=dri_level)
    record += struct.pack("<BhIH", PhdbType.DISPLAY, 0, 0, 0)
    return frame(bytes(record))


def host_requests(interval_s: int, attempt: int) -> list[bytes]:
    """What the station sends to start a monitor: basic display values every `interval_s`
    seconds, the ECG and the plethysmogram. `attempt` counts the silences so far; some
    monitors answer only a request that names their DRI level, so each retry names the next
    one (§1.5)."""
    level = DRI_LEVELS_TO_TRY[attempt % len(DRI_LEVELS_TO_TRY)]
    return [
        display_request(interval_s, (PhdbClass.BASIC,), dri_level=level),
        waveform_request(LIVE_WAVES, dri_level=level),
    ]


# -- the host's requests, read back by the virtual monitor -------------------------------


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
    interval = I16.unpack_from(record, base + 1)[0]
    class_bf = U32.unpack_from(record, base + 3)[0]
    classes = tuple(
        c for c in ALL_CLASSES if (c == PhdbClass.BASIC) != bool(class_bf & (1 << c))
    )  # bit 0 *denies* basic; bits 1-3 ask for ext1-3
    return DisplayRequest(rtype, interval, classes, head.dri_level)


def parse_waveform_request(record: bytes) -> tuple[int, ...] | None:
    """The waveform ids a host asks for (empty to stop), or None for another record."""
    if len(record) < HEADER_LEN + WAVE_REQUEST_BODY:
        return None
    head = parse_header(record)
    if head.maintype != MainType.WAVE or not head.subrecords or head.subrecords[0][1] != 0:
        return None
    base = HEADER_LEN + head.subrecords[0][0]
    req_type = I16.unpack_from(record, base)[0]
    if req_type == 1:
        return ()
    ids = record[base + 4 : base + 4 + WAVE_REQUEST_IDS].split(b"\xff")[0]
    return tuple(i for i in ids if i in WAVES)


# -- the monitor's records ---------------------------------------------------------------


def _basic_class(values: Mapping[str, float], nibp_label: int, amb_press_mmhg: float) -> bytes:
    data = bytearray(CLASS_LEN)
    # Every value starts absent; a group is "exists + active" when any of its fields is given.
    for pos in range(0, CLASS_LEN - 1, 2):
        I16.pack_into(data, pos, ABSENT)
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
    I16.pack_into(data, 268, 0)
    present: set[int] = set()
    for f in BASIC_FIELDS:
        if f.signal in values:
            I16.pack_into(data, f.offset, _to_int(values[f.signal] / f.scale))
            present.add(f.group)
    if any(s in values for s in ART_SIGNALS):
        U16.pack_into(data, P1 + 4, PRESSURE_SITES_ART[0])
    if "ETCO2" in values or "FICO2" in values:
        present.add(CO2)
        amb_raw = _to_int(amb_press_mmhg / AMB_PRESS_SCALE)
        I16.pack_into(data, AMB_PRESS_OFFSET, amb_raw)
        per_raw = amb_raw * GAS_SCALE * AMB_PRESS_SCALE / 100  # mmHg per raw unit
        for sig, off in (("ETCO2", ETCO2_OFFSET), ("FICO2", FICO2_OFFSET)):
            if sig in values:
                I16.pack_into(data, off, _to_int(values[sig] / per_raw))
    for g in present:
        U32.pack_into(data, g, STATUS_EXISTS | STATUS_ACTIVE)
    if NIBP in present:
        U16.pack_into(data, NIBP + 4, nibp_label)
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
                        I16.pack_into(body, f.offset, marker)
                if sig == "ETCO2":
                    I16.pack_into(body, ETCO2_OFFSET, marker)
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
