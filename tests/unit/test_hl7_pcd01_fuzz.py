"""Random and mutated PCD-01 frames (tests/fuzzing.py): nothing escapes the decoder, every
item and ACK it emits is well formed, and a good message after every 16th case decodes then
and there (resync within one frame).

MLLP has no checksum, so every damaged message reaches the hl7 package's parse (about 1 ms
each): 1 case in 5 is a damaged message and the rest line noise. 10^5 cases take about 40 s
on one core; FUZZ_CASES sets another count."""

from __future__ import annotations

import os

from devices.protocols.hl7_pcd01 import Pcd01Decoder, frame
from tests import fuzzing

CASES = int(os.environ.get("FUZZ_CASES", "100000"))


def test_random_and_mutated_frames_resync_within_one_frame() -> None:
    codec = fuzzing.pcd01_codec()
    stats = fuzzing.run(codec, CASES, seed=16)
    assert stats.resyncs == -(-CASES // codec.resync_every)
    # the cases reached every stage: framing, MSH, OBX values and units, the pump
    s = stats.decoder
    assert s["malformed"] > 0 and s["rejected"] > 0 and s["content_errors"] > 0
    assert s["bad_units"] > 0 and s["no_value"] > 0 and s["unknown_codes"] > 0
    assert s["good"] > stats.resyncs


def test_a_short_msh_and_a_bare_msh_segment_get_an_ack() -> None:
    """Found by bench/fuzz.py: create_ack fails on the short MSH, and writing the message
    back out fails on the bare `MSH` segment; the ACK is still sent, refusing it."""
    decoder = Pcd01Decoder("chair-1")
    decoder.feed(frame(b"MSH|^~\\&|A\rMSH"))
    acks = decoder.take_acks()
    assert len(acks) == 1 and b"MSA|AR" in acks[0]
