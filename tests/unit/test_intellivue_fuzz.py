"""Random and mutated IntelliVue frames: whatever arrives, no exception leaves the decoder.

10^5 cases take about 7 s here, so the suite runs 5 x 10^4 (about 3.5 s); set
IVUE_FUZZ_CASES=100000 for the full run.
"""

from __future__ import annotations

import os
import random

from devices.protocols import intellivue as iv
from devices.protocols import intellivue_encode as enc
from devices.protocols import intellivue_frame as fr
from monitor.model import DeviceEvent, Reading

CASES = int(os.environ.get("IVUE_FUZZ_CASES", "50000"))
SEEDS = [
    enc.association_response(),
    enc.mds_create_event(1, 1_700_000_000.0, 8000),
    enc.poll_reply(
        {"HR": 72.0, "SPO2": 97.0, "NIBP_SYS": 120.0, "NIBP_DIA": 80.0, "NIBP_MEAN": 93.0},
        2,
        1_700_000_001.0,
        16000,
        nibp_time=1_700_000_000.0,
    ),
    enc.poll_reply({"RR": 14.0, "TEMP": 36.8}, 3, None, 24000, linked=2),
]
USER = [fr.Deframer().feed(s)[0] for s in SEEDS]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        i = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(i, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 2:
            del out[i : i + rng.randint(1, 8)]
        else:
            out = out[:i]
    return bytes(out)


def _case(rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:  # line noise, now and then with frame bytes in it
        noise = bytearray(rng.randbytes(64))
        for _ in range(rng.randrange(6)):
            noise[rng.randrange(64)] = rng.choice((0xC0, 0xC1, 0x7D))
        return bytes(noise)
    if kind == 1:  # a wire frame damaged in transit (mostly caught by the frame check)
        return _mutate(rng, rng.choice(SEEDS))
    # a message damaged before framing: it checks, so the message parser must cope
    return enc.frame(_mutate(rng, rng.choice(USER)))


def test_no_exception_escapes_and_every_frame_is_counted() -> None:
    rng = random.Random(16)
    decoder = iv.IntelliVueDecoder("fuzz")
    for _ in range(CASES):
        data = _case(rng)
        for item in decoder.feed(data):
            assert isinstance(item, (Reading, DeviceEvent, iv.HostReply))
        if rng.random() < 0.01:
            decoder.reset()
    s = decoder.stats
    assert s.good > 0 and s.bad_checksum > 0 and s.malformed > 0 and s.unknown_unit > 0
    # after all that the decoder still reads a good frame
    decoder.reset()
    readings = [i for i in decoder.feed(SEEDS[2]) if isinstance(i, Reading)]
    assert {r.signal for r in readings} >= {"HR", "SPO2"}
