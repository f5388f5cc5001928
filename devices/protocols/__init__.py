"""The wire protocols the station speaks, by name: one codec module and one entry each.

An entry says how to decode a monitor's bytes, which config model describes such a monitor in
config.yaml, and what the host must send to make it transmit. The link, the factory and
`python -m devices decode` take everything protocol-specific from here.

The config models live in monitor/device_config.py because the core never imports `devices`;
the entry only points at its model, and tests/unit/test_protocol_registry.py checks that the
config's device union and this registry name the same kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, get_args

from pydantic import BaseModel

from devices.protocols import (
    datex_s5,
    datex_s5_encode,
    hl7_pcd01,
    intellivue,
    intellivue_encode,
)
from devices.protocols.intellivue import HostReply
from monitor.device_config import DatexS5Device, Hl7Pcd01Device, IntelliVueDevice
from monitor.model import DeviceEvent, Reading, Waveform


class FrameCounts(Protocol):
    """What a decoder counts of the frames it has seen (nothing is dropped silently)."""

    good: int
    bad_checksum: int
    malformed: int


class DecodedWaveform(Protocol):
    """A protocol's waveform block; the device hands the station its `waveform()`."""

    def waveform(self) -> Waveform: ...


class Codec(Protocol):
    """A sans-I/O decoder for one monitor: bytes in, items out; kept for the bed's life."""

    @property
    def stats(self) -> FrameCounts: ...

    def feed(
        self, data: bytes
    ) -> Sequence[Reading | DeviceEvent | Waveform | DecodedWaveform | HostReply]:
        """A HostReply is bytes the host must send now (a monitor that holds a dialog)."""
        ...

    def reset(self) -> None:
        """The link was re-made: forget a partial frame."""
        ...


@dataclass(frozen=True, slots=True)
class Line:
    """Serial character framing the monitor uses (pyserial's values)."""

    bytesize: int = 8
    parity: str = "E"
    stopbits: float = 1


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    name: str
    """As on the command line: `python -m devices decode --protocol NAME`."""
    config_model: type[BaseModel]
    """The bed's `device:` model; its `kind` literal is the name config.yaml uses."""
    decoder: Callable[[str], Codec]
    """bed id -> a fresh decoder."""
    host_requests: Callable[[Any, int], Sequence[bytes]]
    """(the bed's device config, silences so far) -> the bytes that start transmission."""
    expected_intervals: Callable[[Any], dict[str, float]]
    """The bed's device config -> seconds between values, per signal (for staleness)."""
    capture_frames: Callable[[bytes], list[tuple[float, bytes]]]
    """A raw capture -> its valid frames with their record times (for --replay)."""
    line: Line = Line()

    @property
    def kind(self) -> str:
        (kind,) = get_args(self.config_model.model_fields["kind"].annotation)
        return str(kind)


def _dri_expected_intervals(dev: DatexS5Device) -> dict[str, float]:
    out = dict.fromkeys(datex_s5.PERIODIC_SIGNALS, float(dev.interval_s))
    out.update(dict.fromkeys(datex_s5.NIBP_SIGNALS, dev.nibp_interval_s))
    return out


def _dri_host_requests(dev: DatexS5Device, attempt: int) -> list[bytes]:
    return datex_s5_encode.host_requests(dev.interval_s, attempt)


def _dri_capture_frames(data: bytes) -> list[tuple[float, bytes]]:
    records = datex_s5.Deframer().feed(data)
    return [(float(datex_s5.parse_header(r).r_time), datex_s5_encode.frame(r)) for r in records]


DATEX_S5 = ProtocolEntry(
    name="datex-s5",
    config_model=DatexS5Device,
    decoder=datex_s5.DriDecoder,
    host_requests=_dri_host_requests,
    expected_intervals=_dri_expected_intervals,
    capture_frames=_dri_capture_frames,
    line=Line(bytesize=8, parity="E", stopbits=1),  # 19200 8E1 (protocols.md §1.2)
)


def _ivue_expected_intervals(dev: IntelliVueDevice) -> dict[str, float]:
    out = dict.fromkeys(intellivue.PERIODIC_SIGNALS, float(dev.interval_s))
    out.update(dict.fromkeys(intellivue.NIBP_SIGNALS, dev.nibp_interval_s))
    return out


def _ivue_host_requests(dev: IntelliVueDevice, attempt: int) -> list[bytes]:
    # On connecting and after every silence: (re)associate. The decoder answers the MDS
    # create with the create result and the extended poll, and renews the poll itself.
    return [intellivue_encode.association_request()]


def _ivue_capture_frames(data: bytes) -> list[tuple[float, bytes]]:
    out: list[tuple[float, bytes]] = []
    t = 0.0
    for user in intellivue.Deframer().feed(data):
        t = intellivue.message_time(user) or t
        out.append((t, intellivue_encode.frame(user)))
    return out


INTELLIVUE = ProtocolEntry(
    name="intellivue",
    config_model=IntelliVueDevice,
    decoder=intellivue.IntelliVueDecoder,
    host_requests=_ivue_host_requests,
    expected_intervals=_ivue_expected_intervals,
    capture_frames=_ivue_capture_frames,
    line=Line(bytesize=8, parity="N", stopbits=1),  # 115200 8N1 (protocols.md §2.2)
)


def _hl7_expected_intervals(dev: Hl7Pcd01Device) -> dict[str, float]:
    out = dict.fromkeys(datex_s5.PERIODIC_SIGNALS, dev.interval_s)
    out.update(dict.fromkeys(datex_s5.NIBP_SIGNALS, dev.nibp_interval_s))
    return out


def _hl7_capture_frames(data: bytes) -> list[tuple[float, bytes]]:
    """Each message of a file, MLLP-framed, a second apart (a gateway's push pace)."""
    decoder = hl7_pcd01.Pcd01Decoder("capture", framing="auto")
    bodies = decoder.deframe(data)
    return [(float(i), hl7_pcd01.frame(body)) for i, body in enumerate(bodies)]


HL7_PCD01 = ProtocolEntry(
    name="hl7-pcd01",
    config_model=Hl7Pcd01Device,
    decoder=lambda bed: hl7_pcd01.Pcd01Decoder(bed, framing="auto"),
    host_requests=lambda dev, attempt: [],  # the gateway pushes; the station only ACKs
    expected_intervals=_hl7_expected_intervals,
    capture_frames=_hl7_capture_frames,
)

PROTOCOLS: dict[str, ProtocolEntry] = {e.name: e for e in (DATEX_S5, INTELLIVUE, HL7_PCD01)}


def by_kind(kind: str) -> ProtocolEntry:
    """The entry whose config model has this `kind` (KeyError if none)."""
    for entry in PROTOCOLS.values():
        if entry.kind == kind:
            return entry
    raise KeyError(kind)
