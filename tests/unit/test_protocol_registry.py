"""The protocol registry, the config's device union and the generic codec device."""

from __future__ import annotations

import threading
from typing import get_args

import pytest

from devices.codec_device import CodecDevice
from devices.protocols import PROTOCOLS, by_kind
from devices.protocols import datex_s5 as dri
from devices.protocols import datex_s5_encode as enc
from devices.transport import LinkState, SerialSettings
from monitor.clock import ManualClock
from monitor.config import DEVICE_KINDS, BedConfig, DeviceConfig
from monitor.model import DeviceEvent, Reading, Waveform
from tests.helpers import capture

# monitor/ never imports devices/, so the union is written out in monitor/device_config.py
# and the registry points at its models; this test keeps the two lists the same.
UNION = get_args(get_args(DeviceConfig)[0])
IN_PROCESS_ONLY = {"simulator", "mqtt"}  # kinds with no serial wire protocol behind them


def _kind(model: type) -> str:
    (kind,) = get_args(model.model_fields["kind"].annotation)
    return kind


def test_every_entry_has_its_model_in_the_device_union() -> None:
    for entry in PROTOCOLS.values():
        assert entry.config_model in UNION, entry.name


def test_every_kind_in_the_union_but_the_simulator_has_an_entry() -> None:
    kinds = {_kind(m) for m in UNION}
    assert kinds == set(DEVICE_KINDS)
    registered = {entry.kind for entry in PROTOCOLS.values()}
    assert kinds - IN_PROCESS_ONLY == registered
    for kind in registered:
        assert by_kind(kind).config_model in UNION


def test_the_dri_entry() -> None:
    entry = PROTOCOLS["datex-s5"]
    assert entry.kind == "datex_s5"
    dev = BedConfig.model_validate(
        {"id": "b", "name": "B", "device": {"kind": "datex_s5", "port": "x", "interval_s": 2}}
    ).device
    # the first request names DRI level 0; each silence retries with the next level (§1.5)
    for attempt in range(8):
        level = dri.DRI_LEVELS_TO_TRY[attempt % len(dri.DRI_LEVELS_TO_TRY)]
        assert entry.host_requests(dev, attempt) == [
            enc.display_request(2, (dri.PhdbClass.BASIC,), dri_level=level),
            enc.waveform_request((enc.ECG1_WAVE, enc.PLETH_WAVE), dri_level=level),
        ]
    intervals = entry.expected_intervals(dev)
    assert intervals["HR"] == intervals["ETCO2"] == intervals["ART_MEAN"] == 2.0
    assert intervals["NIBP_SYS"] == 180.0
    assert set(intervals) == {*dri.PERIODIC_SIGNALS, *dri.NIBP_SIGNALS}
    frames = entry.capture_frames(capture("raw.raw").read_bytes())
    assert len(frames) == 21 and frames[0][0] == 1532624765.0


class _Port:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)


def test_codec_device_requests_decodes_and_reports_the_link() -> None:
    entry = PROTOCOLS["datex-s5"]
    got: list[object] = []
    clock = ManualClock(100.0)
    device = CodecDevice(
        "b", SerialSettings("loop://"), entry.decoder("b"), lambda n: [bytes([n])], {}, clock
    )
    stopped = threading.Event()
    stopped.set()
    device.run(got.append, stopped)  # takes the sink; the link does not start once stopped
    port = _Port()
    device.connection_made(port)
    device.silence(port, 3)
    assert port.sent == [b"\x00", b"\x03"]
    record = enc.phdb_record({"HR": 70.0}, 100)
    device.data_received(record[:10])  # half a frame, then the link drops: it is forgotten
    device.connection_lost(None)
    device.data_received(record[10:])
    assert not any(isinstance(i, Reading) for i in got)
    device.data_received(record + enc.waveform_record(8, [50.0] * 100, 100))
    assert [r.value for r in got if isinstance(r, Reading) and r.signal == "HR"] == [70.0]
    (wave,) = [w for w in got if isinstance(w, Waveform)]
    assert wave.signal == "PLETH" and wave.samples.dtype.name == "float32"
    assert device.waveform_blocks == 1 and device.source == "live"
    device.state_changed(LinkState.SILENT, "no data for 4 s")
    assert got[-1] == DeviceEvent(
        "b", 100.0, "link", {"state": "silent", "detail": "no data for 4 s"}
    )


def test_the_intellivue_entry() -> None:
    from devices.protocols import intellivue as iv
    from devices.protocols import intellivue_encode as ivenc

    entry = PROTOCOLS["intellivue"]
    assert entry.kind == "intellivue" and entry.line.parity == "N"
    dev = BedConfig.model_validate(
        {"id": "b", "name": "B", "device": {"kind": "intellivue", "port": "virtual"}}
    ).device
    assert dev.baudrate == 115200 and dev.virtual and not dev.rtscts
    # every attempt (re)associates; the decoder answers the MDS create and renews the poll
    assert entry.host_requests(dev, 0) == entry.host_requests(dev, 5)
    (request,) = entry.host_requests(dev, 0)
    assert ivenc.parse_host_message(iv.Deframer().feed(request)[0]).kind == "associate"
    intervals = entry.expected_intervals(dev)
    assert intervals["HR"] == 1.0 and intervals["NIBP_MEAN"] == 180.0
    stream = ivenc.association_response() + ivenc.poll_reply({"HR": 60.0}, 1, 1000.5, 8000)
    frames = entry.capture_frames(b"noise" + stream)
    assert [t for t, _ in frames] == [0.0, 1000.5]
    assert b"".join(f for _, f in frames) == stream


def test_codec_device_sends_the_replies_a_dialog_asks_for() -> None:
    from devices.protocols import intellivue_encode as ivenc

    entry = PROTOCOLS["intellivue"]
    got: list[object] = []
    device = CodecDevice(
        "b", SerialSettings("loop://"), entry.decoder("b"), lambda n: [b"A"], {}, ManualClock(0)
    )
    stopped = threading.Event()
    stopped.set()
    device.run(got.append, stopped)
    port = _Port()
    device.data_received(ivenc.mds_create_event(1, 10.0, 8000))  # not connected: dropped
    device.connection_made(port)
    device.data_received(ivenc.association_response() + ivenc.mds_create_event(1, 10.0, 8000))
    assert port.sent[0] == b"A" and len(port.sent) == 3  # create result, extended poll
    assert port.sent[1] == ivenc.mds_create_result(1, 8000)


def test_the_hl7_entry() -> None:
    entry = PROTOCOLS["hl7-pcd01"]
    assert entry.kind == "hl7_pcd01"
    dev = BedConfig.model_validate(
        {"id": "b", "name": "B", "device": {"kind": "hl7_pcd01", "location": "ICU^^3"}}
    ).device
    assert entry.host_requests(dev, 0) == []  # the gateway pushes; the station answers
    assert entry.expected_intervals(dev)["HR"] == 5.0
    frames = entry.capture_frames(b"MSH|^~\\&|GW\nPID|1\nMSH|^~\\&|GW\n")
    assert [f[1][:4] for f in frames] == [b"\x0bMSH"] * 2
    with pytest.raises(ValueError, match="location"):
        BedConfig.model_validate({"id": "b", "name": "B", "device": {"kind": "hl7_pcd01"}})
