"""Random and mutated S/5 DRI frames (tests/fuzzing.py): nothing escapes the decoder, every
item it emits is well formed, and the good frame that follows each case decodes.

10^5 cases take about 17 s on one core; FUZZ_CASES sets another count."""

from __future__ import annotations

import os

from tests import fuzzing

CASES = int(os.environ.get("FUZZ_CASES", "100000"))


def test_random_and_mutated_frames_resync_within_one_frame() -> None:
    stats = fuzzing.run(fuzzing.dri_codec(), CASES, seed=16)
    assert stats.resyncs == CASES
    # the cases reached every stage: frame check, record parser, both record types
    s = stats.decoder
    assert s["bad_checksum"] > 0 and s["malformed"] > 0 and s["good"] > CASES
    assert s["records"]["PHDB"] > CASES and s["records"]["WAVE"] > 0
    assert len(s["records"]) > 3  # damaged main types that passed the check
