"""Columnar chunks and waveform tracks, independent of the database that stores them.

A numeric chunk is one signal's times and values as two float64 arrays; a waveform chunk is
its samples as one float32 array plus (start time, sample count) per block, since times
within a block follow from the sampling rate. A backend stores the `Chunk` blobs as it likes
and hands them back here to decode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Track = tuple[np.ndarray, np.ndarray]  # (epoch seconds, values), float64, in time order


def f64_bytes(a: np.ndarray) -> bytes:
    return np.asarray(a, dtype=np.float64).tobytes()


def f64_array(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float64)


def f32_bytes(a: np.ndarray) -> bytes:
    return np.asarray(a, dtype=np.float32).tobytes()


def f32_array(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class WaveTrack:
    """A waveform as stored: all samples in one float32 array, with the start time and first
    sample index of every block; times within a block follow from the sampling rate."""

    rate_hz: float
    block_t: np.ndarray  # float64 epoch seconds of each block's first sample
    block_start: np.ndarray  # int64 index into `v` of each block's first sample
    v: np.ndarray  # float32, NaN where the device marked a sample invalid

    @classmethod
    def from_blocks(cls, rate_hz: float, blocks: list[tuple[float, np.ndarray]]) -> WaveTrack:
        counts = np.array([len(v) for _, v in blocks], dtype=np.int64)
        return cls(
            rate_hz,
            np.array([t for t, _ in blocks], dtype=np.float64),
            np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
            np.concatenate([v for _, v in blocks]) if blocks else np.empty(0, np.float32),
        )

    @classmethod
    def from_chunk(cls, rate_hz: float, blocks: np.ndarray, v: np.ndarray) -> WaveTrack:
        """A compacted chunk: `blocks` is (start time, sample count) pairs."""
        pairs = blocks.reshape(-1, 2)
        counts = pairs[:, 1].astype(np.int64)
        return cls(rate_hz, pairs[:, 0], np.concatenate([[0], np.cumsum(counts)[:-1]]), v)

    @classmethod
    def join(cls, parts: list[WaveTrack]) -> WaveTrack:
        parts = [p for p in parts if len(p.v)]
        if not parts:
            return cls(0.0, np.empty(0), np.empty(0, np.int64), np.empty(0, np.float32))
        offsets = np.cumsum([0] + [len(p.v) for p in parts[:-1]])
        return cls(
            parts[0].rate_hz,
            np.concatenate([p.block_t for p in parts]),
            np.concatenate([p.block_start + o for p, o in zip(parts, offsets, strict=True)]),
            np.concatenate([p.v for p in parts]),
        )

    def times(self, idx: np.ndarray) -> np.ndarray:
        """Epoch seconds of the samples at `idx`."""
        block = np.searchsorted(self.block_start, idx, side="right") - 1
        return self.block_t[block] + (idx - self.block_start[block]) / self.rate_hz

    def index(self, t: float, after: bool = False) -> int:
        """The index of the first sample at or after `t` (with `after`: strictly after)."""
        if not len(self.v):
            return 0
        block = max(0, int(np.searchsorted(self.block_t, t, side="right")) - 1)
        end = self.block_start[block + 1] if block + 1 < len(self.block_t) else len(self.v)
        position = round((t - self.block_t[block]) * self.rate_hz, 6)  # in samples
        offset = int(np.floor(position)) + 1 if after else int(np.ceil(position))
        return int(min(self.block_start[block] + max(offset, 0), end))


@dataclass(frozen=True, slots=True)
class Chunk:
    """One signal's compacted span, encoded for storage: `t` and `v` are the blobs."""

    rate_hz: float  # 0 for numerics
    t0: float
    t1: float
    n: int
    t: bytes
    v: bytes


def numeric_chunks(rows: Iterable[tuple[str, float, float]]) -> dict[str, Chunk]:
    """(signal, t, value) journal rows, in time order per signal, as one chunk per signal."""
    by_signal: dict[str, list[tuple[float, float]]] = {}
    for signal, t, v in rows:
        by_signal.setdefault(signal, []).append((t, v))
    chunks = {}
    for signal, pairs in by_signal.items():
        tv = np.array(pairs, dtype=np.float64)
        t, v = tv[:, 0], tv[:, 1]
        chunks[signal] = Chunk(0.0, float(t[0]), float(t[-1]), len(t), f64_bytes(t), f64_bytes(v))
    return chunks


def wave_chunk(wave: WaveTrack) -> Chunk | None:
    """A waveform track as one chunk; None for a track without samples."""
    if not len(wave.v):
        return None
    counts = np.diff(wave.block_start, append=len(wave.v))
    blocks = np.column_stack([wave.block_t, counts]).astype(np.float64)
    return Chunk(
        wave.rate_hz,
        float(wave.block_t[0]),
        float(wave.times(np.array([len(wave.v) - 1]))[0]),
        len(wave.v),
        blocks.tobytes(),
        wave.v.tobytes(),
    )


def decode_wave_chunk(rate_hz: float, t: bytes, v: bytes) -> WaveTrack:
    return WaveTrack.from_chunk(rate_hz, f64_array(t), f32_array(v))


def wave_blocks(rows: Iterable[tuple[float, float, bytes]]) -> WaveTrack:
    """Journal blocks as (start time, rate, float32 samples blob), in time order."""
    rows = list(rows)
    blocks = [(t0, f32_array(blob)) for t0, _, blob in rows]
    return WaveTrack.from_blocks(rows[0][1] if rows else 0.0, blocks)


def join_tracks(parts: list[Track]) -> Track:
    """Numeric parts (chunks, then the journal) as one track in time order."""
    parts = [(t, v) for t, v in parts if len(t)]
    if not parts:
        return np.empty(0), np.empty(0)
    t_all = np.concatenate([t for t, _ in parts])
    v_all = np.concatenate([v for _, v in parts])
    # each part is in time order; only overlapping parts (rare) need a sort
    edges = [(t[0], t[-1]) for t, _ in parts]
    if any(b[0] < a[1] for a, b in zip(edges, edges[1:], strict=False)):
        order = np.argsort(t_all, kind="stable")
        t_all, v_all = t_all[order], v_all[order]
    return t_all, v_all


def pairs_track(pairs: list[tuple[float, float]]) -> Track:
    """(t, value) pairs, in time order, as a track."""
    tv = np.array(pairs, dtype=np.float64).reshape(-1, 2)
    return tv[:, 0], tv[:, 1]


def from_time(t: np.ndarray, v: np.ndarray, start: float | None) -> Track:
    """The part of a track at or after `start` (all of it without one)."""
    if start is None:
        return t, v
    keep = t >= start
    return t[keep], v[keep]
