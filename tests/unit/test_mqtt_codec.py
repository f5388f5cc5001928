"""The chair-agent wire contract: topics, payloads both ways, bad payloads and de-duplication."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devices.mqtt_codec import Dedupe, Encoder, PayloadError, Topics, decode
from monitor.model import DeviceEvent, Quality, Reading, Waveform


def test_topics_name_the_clinic_the_bed_and_the_channel() -> None:
    topics = Topics("north", "chair-1")
    assert topics.of("numerics") == "ikm/v1/north/chair-1/numerics"
    assert topics.channel("ikm/v1/north/chair-1/cmd") == "cmd"
    for foreign in ("ikm/v1/north/chair-2/numerics", "ikm/v1/north/chair-1/other"):
        with pytest.raises(PayloadError):
            topics.channel(foreign)


def test_numerics_events_waves_status_and_commands_round_trip() -> None:
    enc = Encoder("chair-1", run="r1")
    readings = [
        Reading("chair-1", 100.0, "HR", 72.0, "/min"),
        Reading("chair-1", 100.0, "SPO2", 250.0, "%", Quality.ARTIFACT, "probe"),
    ]
    msg = decode("numerics", enc.numerics(readings), "chair-1")
    assert (msg.run, msg.seq, msg.t) == ("r1", 0, 100.0)
    assert list(msg.items) == readings  # an implausible value travels as measured
    assert decode("numerics", enc.numerics(readings), "chair-1").seq == 1
    event = DeviceEvent("chair-1", 101.0, "signal_status", {"signal": "SPO2", "status": "off"})
    assert decode("events", enc.event(event), "chair-1").items == (event,)
    samples = np.array([1.5, np.nan, 2.25], dtype=np.float32)
    (wave,) = decode("wave", enc.wave(Waveform("chair-1", 99.0, "PLETH", 100.0, samples)),
                     "chair-1").items  # fmt: skip
    assert isinstance(wave, Waveform) and wave.rate_hz == 100.0 and wave.t == 99.0
    assert wave.samples[0] == 1.5 and math.isnan(wave.samples[1])
    status = decode("status", enc.status("offline", 102.0, "simulated"), "chair-1")
    assert (status.state, status.source) == ("offline", "simulated")
    cmd = decode("cmd", enc.command("bolus", 103.0, mg=20.0), "chair-1")
    assert (cmd.command, cmd.args, cmd.seq) == ("bolus", {"mg": 20.0}, 0)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"v": 2, "run": "r", "seq": 0, "bed": "chair-1", "t": 1}',
        b'{"v": 1, "run": "r", "seq": 0, "bed": "chair-2", "t": 1, "readings": []}',
        b'{"v": 1, "run": "r", "seq": "0", "bed": "chair-1", "t": 1, "readings": []}',
        b'{"v": 1, "run": "r", "seq": 0, "bed": "chair-1", "t": 1, "readings": [{"signal": 1}]}',
        b'{"v": 1, "run": "r", "seq": 0, "bed": "chair-1", "t": 1, "readings": [7]}',
    ],
)
def test_a_bad_payload_is_one_line_error(payload: bytes) -> None:
    with pytest.raises(PayloadError) as err:
        decode("numerics", payload, "chair-1")
    assert "\n" not in str(err.value) and str(err.value).startswith("numerics: ")


def test_dedupe_drops_replays_and_counts_gaps_until_filled() -> None:
    enc = Encoder("b", run="r")
    sent = [decode("numerics", enc.numerics([Reading("b", i, "HR", 70, "/min")]), "b")
            for i in range(6)]  # fmt: skip
    dedupe = Dedupe()
    assert [dedupe.fresh(m) for m in (sent[2], sent[3], sent[5])] == [True, True, True]
    assert dedupe.gaps == 1  # 4 skipped; 0 and 1 came before this receiver started
    assert dedupe.fresh(sent[4]) and dedupe.gaps == 0  # the replay fills the gap
    assert not dedupe.fresh(sent[4]) and not dedupe.fresh(sent[2])
    assert dedupe.duplicates == 2 and dedupe.accepted == 4
    other = Encoder("b", run="r2")  # a restarted agent numbers from 0 again
    assert dedupe.fresh(decode("numerics", other.numerics(
        [Reading("b", 9, "HR", 70, "/min")]), "b"))  # fmt: skip
