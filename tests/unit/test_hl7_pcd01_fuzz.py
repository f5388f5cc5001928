"""The PCD-01 codec under random and mutated input: nothing escapes, and a good frame that
follows is always decoded (resync within one frame)."""

from __future__ import annotations

import random

from devices.protocols.hl7_pcd01 import Pcd01Decoder
from tests.unit.test_hl7_pcd01 import GATEWAY_OBX, TF2_OBX, _message, _mllp

CASES = 2_000  # about 10 s; 20,000 pass too but take 100 s (see the report)
GOOD = _mllp(_message(TF2_OBX[2:5], "GOOD"))
SEEDS = [_mllp(_message(TF2_OBX)), _mllp(_message(GATEWAY_OBX)), GOOD]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op, at = rng.randrange(4), rng.randrange(len(out) or 1)
        if op == 0 and out:
            out[at] = rng.randrange(256)
        elif op == 1:
            out[at:at] = bytes([rng.choice((0x0B, 0x1C, 0x0D, 0x7C, 0x5E, rng.randrange(256)))])
        elif op == 2 and out:
            del out[at : at + rng.randrange(1, 20)]
        else:
            out[at:at] = out[: rng.randrange(1, 30)]
    return bytes(out)


def test_random_and_mutated_frames() -> None:
    rng = random.Random(16)
    decoder = Pcd01Decoder("chair-1")
    for case in range(CASES):
        if case % 2:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        else:
            data = _mutate(rng, rng.choice(SEEDS))
        decoder.feed(data)
        decoder.take_acks()
        # a cut frame may still be open: the next start byte closes it, and GOOD decodes
        good_before = decoder.stats.good
        items = decoder.feed(GOOD)
        assert decoder.stats.good == good_before + 1 and len(items) == 3, case
        acks = decoder.take_acks()
        assert acks and b"MSA|AA|GOOD" in acks[-1]
