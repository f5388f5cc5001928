"""Seeded fuzz cases for the three device codecs, shared by the fuzz tests and bench/fuzz.py.

Each case is one of: line noise with the codec's frame bytes sprinkled in; a good wire frame
damaged in transit (mostly caught by the frame check); a message damaged before framing, so
it passes the frame check and the message parser must cope. `run` feeds the cases, checks
every item that comes out, and every `resync_every` cases feeds a known-good frame that must
decode then and there: resync within one frame, whatever the case before it left behind.
"""

from __future__ import annotations

import math
import random
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devices.protocols import datex_s5 as dri
from devices.protocols import datex_s5_encode as dri_enc
from devices.protocols import hl7_pcd01 as pcd
from devices.protocols import hl7_pcd01_encode as pcd_enc
from devices.protocols import intellivue as iv
from devices.protocols import intellivue_encode as iv_enc
from devices.protocols import intellivue_frame as iv_frame
from monitor.model import DeviceEvent, Reading
from monitor.signals import REGISTRY
from tests.unit.test_hl7_pcd01 import GATEWAY_OBX, TF2_OBX
from tests.unit.test_hl7_pcd01 import _message as _pcd_message

BED = "fuzz"
GOOD_T = 1_700_000_001  # the time the known-good frame carries, which check_good expects
CAPTURE = Path(__file__).resolve().parents[2] / "shared" / "data" / "datex-carescape" / "db00.raw"
KINDS = ("noise", "wire", "message")


@dataclass(frozen=True)
class Codec:
    """What the fuzzer needs to know of one codec."""

    name: str
    decoder: Callable[[], Any]
    items: tuple[type, ...]  # what feed() may emit
    wire: list[bytes]  # good wire frames, to damage in transit
    messages: list[bytes]  # unframed messages, to damage before framing
    frame: Callable[[random.Random, bytes], bytes]  # so that a damaged message passes the check
    special: bytes  # bytes that mean something to the framing or the parser
    good: bytes  # the known-good frame of the resync check
    check_good: Callable[[Any, list[Any]], None]  # asserts the good frame decoded
    weights: tuple[int, int, int]  # noise, wire, message
    resync_every: int = 1
    after_feed: Callable[[Any], None] = lambda decoder: None


@dataclass
class Stats:
    codec: str
    cases: int = 0
    seconds: float = 0.0
    items: int = 0
    resyncs: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    decoder: dict[str, Any] = field(default_factory=dict)  # the decoder's own counts

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


# -- mutation ----------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, special: bytes) -> bytes:
    """A few random edits: flip, insert (often a framing or delimiter byte), delete, repeat
    a prefix, cut short."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        op, at = rng.randrange(6), rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[at:at] = bytes([rng.choice(special)])
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 3:
            del out[at : at + rng.randint(1, 20)]
        elif op == 4:
            out[at:at] = out[: rng.randrange(1, 30)]
        else:
            out = out[:at]
    return bytes(out)


def noise(rng: random.Random, codec: Codec) -> bytes:
    """Random bytes with frame bytes in them, now and then around a piece of a real frame."""
    out = bytearray(rng.randbytes(rng.randrange(1, 128)))
    for _ in range(rng.randrange(8)):
        out[rng.randrange(len(out))] = rng.choice(codec.special)
    if rng.random() < 0.25:
        seed = rng.choice(codec.wire)
        at = rng.randrange(len(seed))
        out[rng.randrange(len(out) + 1) :] = seed[at : at + rng.randrange(1, 200)]
    return bytes(out)


def case(rng: random.Random, codec: Codec) -> tuple[str, bytes]:
    kind = rng.choices(KINDS, codec.weights)[0]
    if kind == "noise":
        return kind, noise(rng, codec)
    if kind == "wire":
        return kind, mutate(rng, rng.choice(codec.wire), codec.special)
    return kind, codec.frame(rng, mutate(rng, rng.choice(codec.messages), codec.special))


# -- the run -----------------------------------------------------------------------------


def _check_items(codec: Codec, items: list[Any]) -> None:
    for item in items:
        assert isinstance(item, codec.items), item
        if isinstance(item, Reading):
            assert item.bed == BED and item.signal in REGISTRY, item
            assert isinstance(item.value, float) and math.isfinite(item.value), item
            assert item.unit == REGISTRY[item.signal].unit, item
        elif isinstance(item, DeviceEvent):
            assert item.bed == BED and isinstance(item.kind, str), item


def _one(
    codec: Codec, decoder: Any, rng: random.Random, data: bytes, stats: Stats, resync: bool
) -> None:
    cut = rng.randrange(len(data) + 1) if rng.random() < 0.3 else len(data)
    for part in (data[:cut], data[cut:]):  # a read may end anywhere
        items = decoder.feed(part)
        _check_items(codec, items)
        stats.items += len(items)
    codec.after_feed(decoder)
    if resync:
        items = decoder.feed(codec.good)
        _check_items(codec, items)
        codec.check_good(decoder, items)
        stats.resyncs += 1


def run(codec: Codec, cases: int, seed: int) -> Stats:
    """Feed `cases` seeded cases; raises AssertionError (or whatever escaped) on a failure."""
    rng = random.Random(seed)
    decoder = codec.decoder()
    stats = Stats(codec.name)
    start = time.perf_counter()
    for n in range(cases):
        kind, data = case(rng, codec)
        stats.kinds[kind] += 1
        try:
            _one(codec, decoder, rng, data, stats, resync=n % codec.resync_every == 0)
        except Exception as err:  # say which case, so that it can be replayed alone
            err.add_note(f"{codec.name} seed {seed}, case {n} ({kind}): {data!r}")
            raise
        if rng.random() < 0.01:
            decoder.reset()  # a reconnect in the middle of whatever came
    stats.seconds = time.perf_counter() - start
    stats.cases = cases
    stats.decoder = {k: v for k, v in asdict(decoder.stats).items() if v}
    return stats


def _hr_at(items: list[Any], value: float, t: float) -> bool:
    return any(
        isinstance(r, Reading) and r.signal == "HR" and r.value == value and r.t == t for r in items
    )


# -- S/5 DRI -----------------------------------------------------------------------------

DRI_VALUES = {"HR": 72.0, "SPO2": 97.0, "RR": 14.0, "TEMP": 36.8, "ETCO2": 38.0}


def _dri_capture(per_kind: int = 3) -> list[bytes]:
    """Wire frames cut from the real capture, a few of each record type, when it is here."""
    if not CAPTURE.exists():
        return []
    seen: Counter[bytes] = Counter()
    out = []
    for body in CAPTURE.read_bytes()[:200_000].split(b"\x7e"):
        try:
            kind = dri.unescape(body)[14:16]  # main type, to take a few of each
        except dri.FrameError:
            continue
        if len(body) > dri.HEADER_LEN and seen[kind] < per_kind:
            seen[kind] += 1
            out.append(b"\x7e" + body + b"\x7e")
    return out


def _dri_frame(rng: random.Random, record: bytes) -> bytes:
    """Frame a damaged record; mostly with r_len put right, so the record parser sees it."""
    if len(record) >= 2 and rng.random() < 0.9:
        record = struct.pack("<h", min(len(record), 0x7FFF)) + record[2:]
    return dri_enc.frame(record)


def _dri_good(decoder: dri.DriDecoder, items: list[Any]) -> None:
    assert _hr_at(items, 72.0, GOOD_T), items


def dri_codec() -> Codec:
    wire = [
        dri_enc.phdb_record(DRI_VALUES, 1_700_000_000, 1),
        dri_enc.phdb_record(
            {**DRI_VALUES, "NIBP_SYS": 120.0, "NIBP_DIA": 80.0, "NIBP_MEAN": 93.0},
            1_700_000_000,
            2,
            classes=dri.ALL_CLASSES,
            markers={"SPO2": -32763},
        ),
        dri_enc.waveform_record(dri_enc.PLETH_WAVE, [i % 50 for i in range(100)], 1_700_000_000),
        dri_enc.waveform_record(dri_enc.ECG1_WAVE, [0.01 * i for i in range(150)], 1_700_000_000),
        *_dri_capture(),
    ]
    messages = [dri.unescape(w.strip(b"\x7e"))[:-1] for w in wire]  # records, checksum off
    return Codec(
        "datex_s5",
        lambda: dri.DriDecoder(BED),
        (Reading, DeviceEvent, dri.WaveformBlock),
        wire,
        messages,
        _dri_frame,
        b"\x7e\x7d\x5d\x5e\x00\xff",
        dri_enc.phdb_record(DRI_VALUES, GOOD_T),
        _dri_good,
        (1, 1, 1),
    )


# -- IntelliVue --------------------------------------------------------------------------


def _iv_good(decoder: iv.IntelliVueDecoder, items: list[Any]) -> None:
    assert _hr_at(items, 72.0, GOOD_T), items


def intellivue_codec() -> Codec:
    wire = [
        iv_enc.association_response(),
        iv_enc.mds_create_event(1, 1_700_000_000.0, 8000),
        iv_enc.poll_reply(
            {"HR": 72.0, "SPO2": 97.0, "NIBP_SYS": 120.0, "NIBP_DIA": 80.0, "NIBP_MEAN": 93.0},
            2,
            1_700_000_001.0,
            16000,
            nibp_time=1_700_000_000.0,
        ),
        iv_enc.poll_reply({"RR": 14.0, "TEMP": 36.8}, 3, None, 24000, linked=2),
    ]
    return Codec(
        "intellivue",
        lambda: iv.IntelliVueDecoder(BED),
        (Reading, DeviceEvent, iv.HostReply),
        wire,
        [iv_frame.Deframer().feed(w)[0] for w in wire],  # the user data inside each frame
        lambda rng, user: iv_enc.frame(user),
        b"\xc0\xc1\x7d\x5d\xe0\xe1\x00\xff",
        iv_enc.poll_reply({"HR": 72.0, "SPO2": 97.0}, 9, float(GOOD_T), 32000),
        _iv_good,
        (1, 1, 1),
    )


# -- HL7 PCD-01 --------------------------------------------------------------------------


def _pcd_frame(rng: random.Random, body: bytes) -> bytes:
    # the damage stays inside the message: a frame byte in it would end the frame instead
    return pcd.frame(body.replace(b"\x0b", b"|").replace(b"\x1c", b"^"))


def _pcd_after(decoder: pcd.Pcd01Decoder) -> None:
    for ack in decoder.take_acks():  # one ACK per message read, framed, with an MSA
        assert ack[:1] == b"\x0b" and ack[-2:] == b"\x1c\r" and b"\rMSA" in ack, ack


def _pcd_good(decoder: pcd.Pcd01Decoder, items: list[Any]) -> None:
    assert _hr_at(items, 72.0, GOOD_T) and len(items) == 1, items
    acks = decoder.take_acks()
    assert len(acks) == 1 and b"MSA|AA|GOOD" in acks[0], acks


def pcd01_codec() -> Codec:
    t = 1_700_000_000.0
    reading = [Reading(BED, t, s, v, REGISTRY[s].unit) for s, v in DRI_VALUES.items()]
    pump = pcd_enc.PumpState(12.5)
    # Small messages weigh most: the hl7 package's parse costs about 1 ms per message plus a
    # little per segment, and a short message reaches every parser path a long one does.
    wire = [
        pcd_enc.oru_r01("VGW00000001", "ICU^^3", t, reading[:1]),
        pcd_enc.oru_r01("VGW00000002", "ICU^^3", t, reading[1:2], pump),
        pcd.frame(_pcd_message(TF2_OBX[2:4], "MSG1").encode()),
        pcd.frame(_pcd_message(GATEWAY_OBX[1:3], "MSG2").encode()),
        pcd.frame(_pcd_message(GATEWAY_OBX[6:8], "MSG3").encode()),
        pcd_enc.oru_r01("VGW00000003", "ICU^^3", t, reading, pump),
        pcd.frame(_pcd_message(TF2_OBX, "MSG4").encode()),
        pcd.frame(_pcd_message(GATEWAY_OBX, "MSG5").encode()),
    ]
    good = pcd_enc.oru_r01(
        "GOOD", "ICU^^3", float(GOOD_T), [Reading(BED, GOOD_T, "HR", 72.0, "/min")]
    )
    return Codec(
        "hl7_pcd01",
        lambda: pcd.Pcd01Decoder(BED),
        (Reading, DeviceEvent),
        wire,
        [w[1:-2] for w in wire],  # the bodies inside the MLLP envelopes
        _pcd_frame,
        b"\x0b\x1c\r|^~\\&\n",
        good,
        _pcd_good,
        # Noise is cheap and messages are not (see above): 1 case in 5 reaches the parser.
        (8, 1, 1),
        resync_every=16,
        after_feed=_pcd_after,
    )


CODECS: dict[str, Callable[[], Codec]] = {
    "datex_s5": dri_codec,
    "intellivue": intellivue_codec,
    "hl7_pcd01": pcd01_codec,
}
