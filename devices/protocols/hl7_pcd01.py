"""HL7 v2 ORU^R01 from a monitoring gateway (IHE PCD-01 "Communicate PCD Data") over MLLP.

Sans-I/O: bytes go in with `Pcd01Decoder.feed`, readings and device events come out, and the
ACK each message needs waits in `take_acks()` for the link to send. Parsing is the `hl7`
package's; this module only frames, routes, maps codes and units, and answers.

Wire facts, from IHE PCD TF-2 Rev. 8.0 (2018-10-23) unless marked (protocols.md §3.3):
* MLLP (Appendix I, HL7 MLLP): 0x0B · message · 0x1C 0x0D; segments end with CR.
* §3.1.4.1.1 and B.1 MSH-9: PCD-01 is `ORU^R01^ORU_R01`; MSH-10 is echoed in MSA-2.
* B.8: OBX-3 `<MDC code>^<MDC reference id>^MDC`; OBX-4 the containment `MDS.VMD.CHAN.METRIC`,
  trailing zeros marking a device-related OBX (MDS, VMD, channel) that carries no value
  (B.8.3); OBX-5 the value; OBX-6 the unit, MDC first, else UCUM; OBX-11 `X` = "results
  cannot be obtained"; OBX-14 the observation time, inherited from the nearest device-related
  ancestor, then OBR-7; OBX-18 the equipment as EI, the EUI-64 in EI-3 when EI-4 is `EUI-64`,
  sent once at the highest device level and inherited below it.
* C.4: times carry a UTC offset (one without is taken as local); PV1-3 (B.6, C.7) is the
  assigned location, point of care^room^bed: the chair.
* ACK (§3.1.4.1.4, G.1, B.2): MSA-1 AA accepted, AE an error in the content, AR the message
  refused; MSA-2 the control id. B.1 has PCD-01 senders set MSH-15 AL / MSH-16 NE (enhanced
  mode); the station answers every message with one original-mode style ACK, as the TF's own
  J.2 sample response and gateways' manuals do (AA, not the enhanced-mode CA).
* Pump terms: PCD TF-3 Rev. 8.0 §7.1 (Tables 7.1.2-1, 7.1.3-1) and the IPEC supplement
  Rev. 1.5 (2015-11-25) §X.1.2.2 sample message; see the constants below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import hl7

from devices.protocols.hl7_pcd01_ack import (
    DATA_TYPE,
    HL7_ERRORS,
    REQUIRED_FIELD,
    SEGMENT_SEQUENCE,
    TABLE_VALUE,
    UNSUPPORTED_TYPE,
    ack,
    minimal_ack,
)
from monitor.model import DeviceEvent, Reading
from monitor.signals import REGISTRY

START, END, CR = 0x0B, 0x1C, 0x0D
MAX_MESSAGE = 1 << 20  # a PCD-01 message is a few kB; anything bigger is a lost end byte
SENTINELS = (-999.0, -99.9)  # gateways' "no value" (simulator-and-scale.md §3.2)

# MDC code -> (registry signal, source). The registry's own codes, plus the alternatives
# gateways send for the same quantity (simulator-and-scale.md §3.1 notes; GE B40 PCD-01).
SIGNAL_CODES: dict[int, tuple[str, str]] = {s.mdc_code: (s.code, "") for s in REGISTRY.values()}
SIGNAL_CODES.update(
    {
        150301: ("NIBP_SYS", "cuff"),  # MDC_PRESS_CUFF_SYS
        150302: ("NIBP_DIA", "cuff"),
        150303: ("NIBP_MEAN", "cuff"),
        150033: ("ART_SYS", ""),  # MDC_PRESS_BLD_ART_SYS as the GE B40 sends it
        150034: ("ART_DIA", ""),
        150035: ("ART_MEAN", ""),
        151578: ("RR", "impedance"),  # MDC_TTHOR_RESP_RATE
        151594: ("RR", "co2"),  # MDC_CO2_RESP_RATE
        150364: ("TEMP", ""),  # MDC_TEMP_BODY
    }
)

# Infusion pump terms. Codes are partition::term as printed in the TF, as 65536 * partition +
# term in OBX-3. TF-3 = IHE PCD TF-3 Rev. 8.0 §7.1; IPEC = IHE PCD IPEC supplement Rev. 1.5,
# §X.1.2.2 "Infusion Event Sample Message" (a pump's OBX segments in PCD-01 form).
PUMP_RATE = 157784  # MDC_FLOW_FLUID_PUMP 2::26712, mL/h (TF-3 Tables 7.1.2-1, 7.1.3-1; IPEC)
PUMP_VOLUME_INFUSED = 157864  # MDC_VOL_FLUID_DELIV 2::26792, mL (TF-3 Table 7.1.2-1)
PUMP_VOLUME_TOTAL = 157993  # MDC_VOL_FLUID_DELIV_TOTAL, mL (IPEC OBX 17)
PUMP_VOLUME_CHANNEL_TOTAL = 157948  # MDC_VOL_INFUS_ACTUAL_TOTAL 2::26876 (TF-3 Table 7.1.3-1)
PUMP_CONCENTRATION = 157760  # MDC_CONC_DRUG, mg/mL = 264306 MDC_DIM_MILLI_G_PER_ML (IPEC OBX 21)
PUMP_DRUG = 184330  # MDC_DRUG_NAME_TYPE 2::53258, text (TF-3 Table 7.1.2-1)
PUMP_DRUG_LABEL = 184514  # MDC_DRUG_NAME_LABEL, ST (IPEC OBX 20)
PUMP_STATUS = 184508  # MDC_PUMP_STAT 2::53436, "pump-status-..." (TF-3 Table 7.1.3-1)
PUMP_INFUSING_STATUS = 184519  # MDC_PUMP_INFUSING_STATUS, CWE `^pump-status-...` (IPEC OBX 7)
PUMP_NUMERICS = {
    PUMP_RATE: ("rate_ml_h", "mL/h"),
    PUMP_CONCENTRATION: ("concentration_mg_ml", "mg/mL"),
}
_VOLUMES = (PUMP_VOLUME_INFUSED, PUMP_VOLUME_TOTAL, PUMP_VOLUME_CHANNEL_TOTAL)
PUMP_NUMERICS.update(dict.fromkeys(_VOLUMES, ("volume_infused_ml", "mL")))
PUMP_TEXTS = dict.fromkeys((PUMP_DRUG, PUMP_DRUG_LABEL), "drug")
PUMP_TEXTS.update(dict.fromkeys((PUMP_STATUS, PUMP_INFUSING_STATUS), "status"))

# A metric whose code names no source takes it from its VMD (OBX-4's second level): the GE
# B40 sends MDC_RESP_RATE under both (HL7 Reference Manual 2062665-001 G, p. 24). 70666 is
# MDC_DEV_ECG_RESP_VMD, 69682 MDC_DEV_ANALY_AWAY_MULTI_PARAM_VMD (1::4146, TF-3 Table 7.2.1-1).
VMD_SOURCES = {70666: "impedance", 69682: "co2"}

# Unit spellings (MDC dimension code, MDC name, UCUM) -> (canonical unit, factor). Only
# conversions to the unit the registry or the pump field names; anything else is refused.
_KPA_TO_MMHG = 760.0 / 101.325
UNITS: dict[str, tuple[str, float]] = {}
for _canonical, _factor, _spellings in (
    ("/min", 1.0, ("264864", "MDC_DIM_BEAT_PER_MIN", "264928", "MDC_DIM_RESP_PER_MIN", "/min")),
    ("/min", 1.0, ("{beats}/min", "{breaths}/min", "{beat}/min", "{breath}/min")),
    ("%", 1.0, ("262688", "MDC_DIM_PERCENT", "%")),
    ("mmHg", 1.0, ("266016", "MDC_DIM_MMHG", "mm[Hg]", "mmHg")),
    ("mmHg", _KPA_TO_MMHG, ("MDC_DIM_KILO_PA", "kPa")),
    ("°C", 1.0, ("268192", "MDC_DIM_DEGC", "Cel")),
    ("mL/h", 1.0, ("265266", "MDC_DIM_MILLI_L_PER_HR", "mL/h")),
    ("mL", 1.0, ("263762", "MDC_DIM_MILLI_L", "mL")),
    ("mg/mL", 1.0, ("264306", "MDC_DIM_MILLI_G_PER_ML", "mg/mL")),
):
    UNITS.update(dict.fromkeys(_spellings, (_canonical, _factor)))


@dataclass(slots=True)
class Pcd01Stats:
    """Counts of what the decoder saw; `bad_checksum` stays 0 (MLLP carries none)."""

    good: int = 0  # messages accepted (AA or AE)
    bad_checksum: int = 0
    malformed: int = 0  # frames that were not a message, or cut short
    rejected: int = 0  # answered AR: bad MSH, not an ORU^R01
    content_errors: int = 0  # answered AE: a bad value or unit, an unknown location
    garbage_bytes: int = 0  # between frames
    unknown_codes: int = 0  # OBX codes the station does not use, ignored
    bad_units: int = 0
    no_value: int = 0  # sentinels and "cannot obtain"
    unrouted: int = 0
    codes: dict[str, int] = field(default_factory=dict)  # unknown OBX-3 codes by name

    @property
    def bad(self) -> int:
        return self.malformed + self.rejected


@dataclass(frozen=True, slots=True)
class Routes:
    """Which bed a message belongs to: PV1-3 (`unit^room^bed`) or the device's EUI-64."""

    locations: Mapping[str, str] = field(default_factory=dict)
    equipment: Mapping[str, str] = field(default_factory=dict)

    def bed_for(self, location: str, devices: list[str]) -> str | None:
        bed = self.locations.get(location_key(location))
        for eui in devices:
            bed = bed or self.equipment.get(eui.upper())
        return bed


def location_key(text: str) -> str:
    """PV1-3 as `point of care^room^bed`, case and trailing parts aside."""
    return "^".join(text.split("^")[:3]).upper().rstrip("^")


def frame(body: bytes) -> bytes:
    """One message in its MLLP envelope."""
    return bytes([START]) + body + bytes([END, CR])


class MllpDeframer:
    """Splits a byte stream into MLLP message bodies; skips and counts what lies between."""

    def __init__(self, stats: Pcd01Stats) -> None:
        self.stats = stats
        self._buf = bytearray()
        self._in_frame = False
        self._after_end = False  # the CR that follows an end byte is part of the frame

    def reset(self) -> None:
        self._buf.clear()
        self._in_frame = self._after_end = False

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        pos, n = 0, len(data)
        while pos < n:
            if self._after_end:
                self._after_end = False
                if data[pos] == CR:
                    pos += 1
                    continue
            if not self._in_frame:
                start = data.find(START, pos)
                skipped = data[pos : n if start < 0 else start]
                self.stats.garbage_bytes += len(skipped.strip())
                if start < 0:
                    break
                self._in_frame, pos = True, start + 1
                continue
            end, restart = data.find(END, pos), data.find(START, pos)
            if 0 <= restart < (end if end >= 0 else n):  # a new start: the last frame was cut
                self.stats.malformed += 1
                self._buf.clear()
                pos = restart + 1
                continue
            if end < 0:
                self._buf += data[pos:]
                if len(self._buf) > MAX_MESSAGE:
                    self.stats.malformed += 1
                    self.reset()
                break
            self._buf += data[pos:end]
            out.append(bytes(self._buf))
            self._buf.clear()
            self._in_frame, self._after_end, pos = False, True, end + 1
        return out


class TextDeframer:
    """Messages in a plain file, one segment a line: each MSH line starts the next one."""

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._tail = b""

    def reset(self) -> None:
        self._lines.clear()
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        *lines, self._tail = (self._tail + data).replace(b"\r\n", b"\n").split(b"\n")
        for line in (p for ln in lines for p in ln.split(b"\r")):
            if line.startswith(b"MSH") and self._lines:
                out.append(b"\r".join(self._lines))
                self._lines = []
            if line.strip():
                self._lines.append(line)
        return out

    def finish(self) -> list[bytes]:
        out = self.feed(b"\n")
        if self._lines:
            out.append(b"\r".join(self._lines))
            self._lines = []
        return out


class Pcd01Decoder:
    """ORU^R01 messages in, readings (canonical units) and pump events out, one ACK each.

    `framing` is "mllp" on a link; "auto" (for files) reads MLLP if the first bytes hold a
    start byte, else one segment a line.
    """

    def __init__(self, bed: str, routes: Routes | None = None, framing: str = "mllp") -> None:
        self.bed = bed
        self.routes = routes
        self.stats = Pcd01Stats()
        self._mllp = MllpDeframer(self.stats)
        self._text: TextDeframer | None = None
        self._framing = framing
        self._acks: list[bytes] = []

    def reset(self) -> None:
        self._mllp.reset()
        if self._text is not None:
            self._text.reset()

    def take_acks(self) -> list[bytes]:
        """The MLLP-framed ACKs owed for the messages decoded so far, in order."""
        acks, self._acks = self._acks, []
        return acks

    def feed(self, data: bytes) -> list[Reading | DeviceEvent]:
        return self._decode_all(self._frames(data))

    def deframe(self, data: bytes) -> list[bytes]:
        """The message bodies of a whole file, undecoded."""
        return self._frames(data) + (self._text.finish() if self._text is not None else [])

    def _frames(self, data: bytes) -> list[bytes]:
        if self._framing == "auto" and data.strip():
            self._framing = "mllp" if START in data else "text"
            self._text = TextDeframer() if self._framing == "text" else None
        if self._text is not None:
            return self._text.feed(data)
        return self._mllp.feed(data)

    def finish(self) -> list[Reading | DeviceEvent]:
        """End of a file: the last message of a plain-text file has no frame end."""
        return self._decode_all(self._text.finish()) if self._text is not None else []

    def _decode_all(self, bodies: list[bytes]) -> list[Reading | DeviceEvent]:
        out: list[Reading | DeviceEvent] = []
        for body in bodies:
            items, ack = self.decode_message(body)
            out += items
            if ack is not None:
                self._acks.append(frame(ack.encode()))
        return out

    def decode_message(self, body: bytes) -> tuple[list[Reading | DeviceEvent], str | None]:
        """One message -> its items and the ACK text (None when not even MSH could be read)."""
        text = body.decode("utf-8", errors="replace").strip().replace("\n", "\r")
        try:
            msg = hl7.parse(text)
            msh = msg[0]
            if str(msh[0]) != "MSH":  # the package also takes batch headers (FHS, BHS)
                return self._refuse(text, "malformed message")
            kind = (_part(msh, 9, 1), _part(msh, 9, 2))
        except HL7_ERRORS:
            return self._refuse(text, "malformed message")
        if kind != ("ORU", "R01"):
            self.stats.rejected += 1
            return [], ack(
                msg, "AR", UNSUPPORTED_TYPE, f"unsupported message type {'^'.join(kind)}"
            )
        if not _field(msh, 10):
            self.stats.rejected += 1
            return [], ack(msg, "AR", REQUIRED_FIELD, "no message control id")
        try:
            return self._observations(msg)
        except HL7_ERRORS:
            return self._refuse(text, "malformed message")

    def _refuse(self, text: str, reason: str) -> tuple[list[Reading | DeviceEvent], str | None]:
        self.stats.malformed += 1
        self.stats.rejected += 1
        return [], minimal_ack(text, "AR", SEGMENT_SEQUENCE, reason)

    def _observations(self, msg: hl7.Message) -> tuple[list[Reading | DeviceEvent], str]:
        observations = _segments(msg, "OBX")
        devices = [_device(o) for o in observations]
        bed = self.bed
        if self.routes is not None:
            pv1 = _segments(msg, "PV1")
            routed = self.routes.bed_for(_field(pv1[0], 3) if pv1 else "", devices)
            if routed is None:
                self.stats.unrouted += 1
                self.stats.content_errors += 1
                return [], ack(msg, "AE", TABLE_VALUE, "no bed for this location or device")
            bed = routed
        obr = _segments(msg, "OBR")
        default_t = _time(_field(obr[0], 7) if obr else "") or _time(_field(msg[0], 7))
        out: list[Reading | DeviceEvent] = []
        pump: dict[str, object] = {}
        errors: list[str] = []
        headers: dict[str, hl7.Segment] = {}  # device-related OBX by containment node
        for obx in observations:
            error = self._obx(obx, bed, default_t, out, pump, headers)
            if error:
                errors.append(error)
        if pump:
            pump_t = float(pump.pop("t"))  # type: ignore[arg-type]
            out.append(DeviceEvent(bed, pump_t, "pump", pump))
        self.stats.good += 1
        if errors:
            self.stats.content_errors += 1
            return out, ack(msg, "AE", DATA_TYPE, "; ".join(errors[:3]))
        return out, ack(msg, "AA")

    def _obx(
        self,
        obx: hl7.Segment,
        bed: str,
        default_t: float | None,
        out: list[Reading | DeviceEvent],
        pump: dict[str, object],
        headers: dict[str, hl7.Segment],
    ) -> str | None:
        """One OBX into `out` or `pump`; returns what was wrong with it, or None."""
        code_text, value, sub_id = _part(obx, 3), _field(obx, 5), _part(obx, 4)
        if not value:  # a device-related OBX (TF-2 B.8.3): its time and device pass down
            headers[_node(sub_id)] = obx
            return None
        if _field(obx, 11) == "X":  # "results cannot be obtained" (TF-2 B.8, OBX-11)
            self.stats.no_value += 1
            return None
        code = _int(code_text)
        known = code in SIGNAL_CODES or code in PUMP_NUMERICS or code in PUMP_TEXTS
        if not known:
            self.stats.unknown_codes += 1
            name = _part(obx, 3, 2) or code_text
            self.stats.codes[name] = self.stats.codes.get(name, 0) + 1
            return None
        chain = [obx] + [headers[k] for k in _ancestors(sub_id) if k in headers]
        t = next((x for h in chain if (x := _time(_field(h, 14)))), None) or default_t
        if t is None:
            return f"OBX {code}: no observation time"
        if code in PUMP_TEXTS:
            # coded values carry the text in the second component (`^pump-status-paused`)
            parts = [_part(obx, 5, i) for i in (1, 2)]
            pump[PUMP_TEXTS[code]] = parts[1] or parts[0]
            return _pump_seen(pump, t, chain)
        try:
            number = float(value)
        except ValueError:
            return f"OBX {code}: value {value[:20]!r} is not a number"
        if not math.isfinite(number):
            return f"OBX {code}: value is not finite"
        if number in SENTINELS:
            self.stats.no_value += 1
            return None
        target = PUMP_NUMERICS[code][1] if code in PUMP_NUMERICS else None
        if target is None:
            signal, source = SIGNAL_CODES[code]
            target = REGISTRY[signal].unit
        unit = _unit(obx, target)
        if unit is None:
            self.stats.bad_units += 1
            return f"OBX {code}: unit {_field(obx, 6)[:30]!r} is not convertible to {target}"
        if code in PUMP_NUMERICS:
            pump[PUMP_NUMERICS[code][0]] = round(number * unit, 6)
            return _pump_seen(pump, t, chain)
        if not source and (vmd := headers.get(".".join(sub_id.split(".")[:2]))) is not None:
            source = VMD_SOURCES.get(_int(_part(vmd, 3)), "")
        out.append(Reading(bed, t, signal, round(number * unit, 6), target, source=source))
        return None


def _pump_seen(pump: dict[str, object], t: float, chain: list[hl7.Segment]) -> None:
    pump.setdefault("t", t)
    if "device" not in pump and (eui := next((d for h in chain if (d := _device(h))), "")):
        pump["device"] = eui


def _device(obx: hl7.Segment) -> str:
    """OBX-18 as EI (TF-2 B.8): the EUI-64 in EI-3 when EI-4 says so, else EI-1."""
    if _part(obx, 18, 4).upper() == "EUI-64" and _part(obx, 18, 3):
        return _part(obx, 18, 3)
    return _part(obx, 18)


def _node(sub_id: str) -> str:
    """A device-related OBX-4 without its trailing zeros: `1.13.0.0` -> `1.13`."""
    parts = sub_id.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def _ancestors(sub_id: str) -> list[str]:
    """The containment nodes above a metric, nearest first: `1.26.1.2` -> 1.26.1, 1.26, 1."""
    parts = sub_id.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def _int(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else -1


def _unit(obx: hl7.Segment, target: str) -> float | None:
    """The factor from OBX-6's unit to `target`, from any of its codings; None if none fit."""
    spellings = [_part(obx, 6, i) for i in (1, 2, 4, 5)]
    for spelling in filter(None, spellings):
        unit = UNITS.get(spelling)
        if unit is not None and unit[0] == target:
            return unit[1]
    return None


HL7_ERRORS += (AssertionError,)


def _segments(msg: hl7.Message, name: str) -> list[hl7.Segment]:
    return [seg for seg in msg if str(seg[0]) == name]


def _field(seg: hl7.Segment, field: int) -> str:
    """A whole field as sent, separators and all; '' where the segment has none."""
    return str(seg[field]).strip() if field < len(seg) else ""


def _part(seg: hl7.Segment, field: int, comp: int = 1) -> str:
    """Field `field`'s `comp`-th component (first repetition) as text; '' where there is none.

    Indexes the parsed containers directly: the package's string accessors re-parse their
    path on every call, which cost more than the message parse itself."""
    if field >= len(seg):
        return ""
    rep = seg[field][0]
    if isinstance(rep, str):
        return rep.strip() if comp == 1 else ""
    return str(rep[comp - 1]).strip() if comp <= len(rep) else ""


def _time(text: str) -> float | None:
    """HL7 TS (`YYYYMMDDHHMMSS.ffff+zzzz`) to epoch seconds; a time without an offset is
    taken as the station's local time, as the gateway stands on the same site."""
    if not text:
        return None
    try:
        return hl7.parse_datetime(text.split("^")[0]).timestamp()
    except (ValueError, TypeError, OverflowError, OSError):
        return None
