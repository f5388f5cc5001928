"""What the live pages are sent: one bed's state as plain JSON-ready data, built once per
change and shared by every viewer (the bed page and the central station alike).

Pure: a snapshot and journal deltas in, dicts out. The browser (live.js) paints them: text
into the tiles, the banner and the cards; trend points by `extendData`; wave chunks into the
sweeping strips. Ages are not sent: each tile carries the time its value was measured, and the
page ages it on its own clock, so a dead feed or a hung server both end in NO DATA.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from monitor.feed import BedSnapshot
from monitor.model import Priority, Reading, Waveform
from monitor.ui import live
from monitor.ui.tiles import BED_TILES, OVERVIEW_TILES, TILE_OF_SIGNAL, is_long

WAVE_SIGNALS = ("PLETH", "ECG1")
JOIN_S = 0.05  # wave blocks this close join; more apart is a gap drawn as a gap
WARD_WAVE_HZ = 25  # the central station's small strips need no more
SPARK_SIGNALS = ("HR", "SPO2")
SPARK_BUCKET_S = 10.0  # the history a central page starts with: one point per 10 s
WARD_TILES = {t.key for t in OVERVIEW_TILES}


def tiles(snap: BedSnapshot) -> dict[str, dict[str, Any]]:
    """Per tile: the number, the line under it, when it was measured, when it goes stale and
    the priority of an alarm on it."""
    alarmed: dict[str, str] = {}
    for a in snap.alarms:  # most urgent first: the first alarm on a tile colours it
        alarmed.setdefault(TILE_OF_SIGNAL.get(a.signal, a.signal), a.priority.name.lower())
    out: dict[str, dict[str, Any]] = {}
    texts = live.tile_texts(BED_TILES, snap.latest)
    subs = live.tile_subs(BED_TILES, snap.latest, snap.status)
    titles = live.tile_titles(BED_TILES, snap.latest)
    for spec, text, sub, title in zip(BED_TILES, texts, subs, titles, strict=True):
        r = snap.latest.get(spec.primary)
        if r is not None:
            measured: float | None = r.t
        elif spec.primary in snap.status:  # a current "no value" status is fresh while the feed is
            measured = snap.last_arrival
        else:
            measured = None
        out[spec.key] = {
            "v": text,
            "long": is_long(spec, text),
            "sub": sub,
            "title": title,
            "t": measured,
            "lim": live.stale_after_s(snap.bed.expected_interval_s.get(spec.primary, 1.0)),
            "alarm": alarmed.get(spec.key),
        }
    return out


def card_alarm(snap: BedSnapshot) -> tuple[str, str]:
    """The card's alarm line and its class."""
    top = snap.highest_alarm
    if top is None:
        return "No active alarm", "bed-alarm bed-alarm-none"
    more = len(snap.alarms) - 1
    text = live.alarm_text(top, snap.latest) + (f"  +{more}" if more else "")
    return text, f"bed-alarm bed-alarm-{top.priority.name.lower()}"


def card_class(snap: BedSnapshot) -> str:
    """The card carries its bed's highest alarm in border and background; its place on the
    screen never changes (a nurse's eyes keep their chair)."""
    top = snap.highest_alarm
    return f"bed-card card-alarm-{top.priority.name.lower()}" if top else "bed-card"


def infusion_glance(snap: BedSnapshot) -> str:
    """The infusion at a glance: phase, the rate running now (not the plan) in mg/kg/h and
    mL/h, the dose so far, the time since the start and the next assessment."""
    s = snap.session
    if s is None:
        return "No session"
    parts = [f"Session {s.id} · {snap.phase}"]
    if snap.phase == "infusing":
        parts[0] += f" {snap.running_rate_mg_kg_h or 0:g} mg/kg/h"
        if snap.rate_ml_h is not None and math.isfinite(snap.rate_ml_h):
            parts[0] += f" ({snap.rate_ml_h:.1f} mL/h)"
    elif snap.phase == "paused":
        parts.append(f"pump stopped (set {snap.set_rate_mg_kg_h or 0:g} mg/kg/h)")
    if snap.dose_mg_kg:
        parts.append(f"{snap.dose_mg_kg:.2f} mg/kg given")
    if snap.infusion_started_at is not None:
        parts.append(f"{(snap.now - snap.infusion_started_at) / 60:.0f} min")
    if snap.assessment_due is not None:
        parts.append("assess " + time.strftime("%H:%M", time.localtime(snap.assessment_due)))
    return " · ".join(parts)


def bed_state(snap: BedSnapshot, changes: dict[str, str]) -> dict[str, Any]:
    """Everything a live page shows of one bed now. `changes` are signatures of the parts the
    bed page redraws on the server only when they change (alarm list, session, limits)."""
    lines, banner_class = live.banner(snap.alarms, snap.latest)
    alarm_text, alarm_class = card_alarm(snap)
    return {
        "now": snap.now,
        "tiles": tiles(snap),
        "banner": {"text": "\n".join(lines), "cls": banner_class},
        "sounding": snap.sounding,
        "pause": round(snap.pause_remaining_s, 1),
        "card": {
            "alarm": alarm_text,
            "alarm_cls": alarm_class,
            "cls": card_class(snap),
            "session": infusion_glance(snap),
        },
        "alarms": [
            {
                "p": a.priority.name.lower(),
                "rank": int(a.priority),
                "text": live.alarm_text(a, snap.latest),
                "onset": a.onset_t,
                "tech": a.technical,
            }
            for a in snap.alarms
        ],
        "wave_ok": "SPO2" not in snap.status,
        "changes": changes,
    }


def ward_state(state: dict[str, Any]) -> dict[str, Any]:
    """The part of a bed's state the central station shows: its cards' tiles, no bed-page
    parts (30 central viewers are sent every bed's changes, so every byte counts 30 times)."""
    out = {k: v for k, v in state.items() if k not in ("changes", "session", "tiles")}
    out["tiles"] = {k: v for k, v in state["tiles"].items() if k in WARD_TILES}
    return out


def wave_chunks(
    blocks: list[Waveform], ends: dict[str, float], signals: tuple[str, ...] = WAVE_SIGNALS
) -> list[dict[str, Any]]:
    """Wave blocks as chunks for the sweeping strips. `ends` (per signal, the end time of the
    last sample sent) is updated; a chunk that does not join it is marked as after a gap."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.signal not in signals:
            continue
        last = ends.get(block.signal)
        samples = np.round(np.asarray(block.samples, dtype=np.float64), 1)
        values: list[float | None] = samples.tolist()
        if np.isnan(samples).any():  # a missing sample breaks the line
            values = [None if math.isnan(v) else v for v in samples.tolist()]
        out.append(
            {
                "s": block.signal,
                "t0": block.t,
                "hz": block.rate_hz,
                "y": values,
                "gap": last is None or abs(block.t - last) > JOIN_S,
            }
        )
        ends[block.signal] = block.t + len(values) / block.rate_hz
    return out


def decimate(chunk: dict[str, Any], hz: float) -> dict[str, Any]:
    """A chunk at about `hz` samples a second (every k-th sample), for the small strips."""
    step = max(1, round(chunk["hz"] / hz))
    shape = [None if v is None else round(v) for v in chunk["y"][::step]]  # a shape: no decimals
    return chunk | {"hz": chunk["hz"] / step, "y": shape}


def spark_points(readings: list[Reading]) -> dict[str, list[list[float]]]:
    """New points of the central station's small trends: [t, value] per signal."""
    out: dict[str, list[list[float]]] = {}
    for r in readings:
        if r.signal in SPARK_SIGNALS:
            out.setdefault(r.signal, []).append([r.t, r.value])
    return out


def spark_history(readings: list[Reading]) -> dict[str, list[list[float]]]:
    """The last 15 minutes for a central page that just opened: one mean per 10-s bucket."""
    sums: dict[str, dict[int, list[float]]] = {s: {} for s in SPARK_SIGNALS}
    for r in readings:
        if r.signal in sums:
            acc = sums[r.signal].setdefault(int(r.t // SPARK_BUCKET_S), [0.0, 0.0])
            acc[0] += r.value
            acc[1] += 1
    return {
        s: [[(b + 0.5) * SPARK_BUCKET_S, round(v / n, 1)] for b, (v, n) in sorted(buckets.items())]
        for s, buckets in sums.items()
        if buckets
    }


def loudest(states: list[dict[str, Any]]) -> str | None:
    """The one tone the central station plays: the highest any bed wants."""
    wanted = [s["sounding"] for s in states if s.get("sounding")]
    return max(wanted, key=lambda p: Priority[p], default=None)
