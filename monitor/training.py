"""Training runs as the core and the pages see them: the instructor's view of a scenario, and
the debrief. The scenario interpreter itself lives with the simulator (devices/simulator);
these value objects are what crosses to the bed runtime and the web app.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Literal

SPEEDS = (1.0, 2.0, 5.0, 10.0, 60.0)
ARTIFACTS = ("probe_off", "motion", "cuff_failure", "lead_off", "disconnect")
# The vitals a scenario or the instructor can move (the simulated patient's own signals).
SCRIPTED = ("HR", "SPO2", "RR", "ETCO2", "TEMP", "NIBP_SYS", "NIBP_DIA")
# What a trainee can do that a scenario can react to or score (from the bed's commands).
TRAINEE_ACTIONS = (
    "acknowledge",
    "audio_pause",
    "rate_change",
    "rate_reduced",
    "start_infusion",
    "pause_infusion",
    "resume_infusion",
    "stop_infusion",
    "give",
    "assessment",
    "limit_change",
)
Status = Literal["done", "late", "missed", "pending", "not reached", "avoided", "not avoided"]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    t: float
    kind: Literal["state", "instructor", "trainee", "alarm", "artifact"]
    text: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    label: str
    action: str
    status: Status
    points: int  # awarded (negative for a harmful action that was taken)
    possible: int
    seconds_to_action: float | None  # from the state it answers, when done


@dataclass(frozen=True, slots=True)
class Debrief:
    scenario_id: str
    title: str
    started_at: float
    timeline: list[TimelineEntry]
    checklist: list[ChecklistItem]

    @property
    def score(self) -> int:
        return sum(item.points for item in self.checklist)

    @property
    def max_score(self) -> int:
        return sum(item.possible for item in self.checklist)


@dataclass(frozen=True, slots=True)
class TrainingView:
    """What the instructor console shows: the hidden state and what can happen next."""

    scenario_id: str
    title: str
    state: str
    state_note: str
    state_since: float
    elapsed_s: float
    upcoming: list[str]
    instructor_triggers: list[str]
    events: list[tuple[str, str]]  # (id, label)
    states: list[str]
    artifacts: dict[str, bool]
    hidden: dict[str, float]  # physiological values and Ce, Cp
    targets: dict[str, float]
    expected_alarms: list[str]
    findings: dict[str, int] = field(default_factory=dict)  # what an assessment would find
    started_at: float = 0.0  # when the run began (the debrief counts from here)


def mmss(t: float, start: float = 0.0) -> str:
    """Minutes and seconds since `start`, as a run's timeline counts."""
    s = max(0, int(t - start))
    return f"{s // 60:02d}:{s % 60:02d}"


def debrief_html(debrief: Debrief, bed: str) -> str:
    """A printable debrief (the PDF route prints it with headless Chromium)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{mmss(x.t, debrief.started_at)}</td><td>{e(x.kind)}</td><td>{e(x.text)}</td></tr>"
        for x in debrief.timeline
    )
    checks = "".join(
        f"<tr><td>{e(c.label)}</td><td>{e(c.status)}</td>"
        f"<td>{'' if c.seconds_to_action is None else f'{c.seconds_to_action:.0f} s'}</td>"
        f"<td>{c.points}/{c.possible}</td></tr>"
        for c in debrief.checklist
    )
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(debrief.started_at))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Debrief {e(debrief.scenario_id)}</title>
<style>
body {{ font: 11pt sans-serif; margin: 16mm; }}
.sim {{ color: #fff; background: #6a1b9a; padding: 4px 8px; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 12px; }}
td, th {{ border: 1px solid #999; padding: 3px 6px; text-align: left; }}
</style></head><body>
<p class="sim">SIMULATION: training debrief, not a patient record</p>
<h1>Debrief: {e(debrief.title)}</h1>
<p>Scenario {e(debrief.scenario_id)} on {e(bed)}, started {started}.
Score <b>{debrief.score} / {debrief.max_score}</b>.</p>
<h2>Expected actions</h2>
<table><tr><th>action</th><th>result</th><th>time to action</th><th>points</th></tr>
{checks}</table>
<h2>Timeline</h2>
<table><tr><th>mm:ss</th><th>what</th><th>detail</th></tr>{rows}</table>
</body></html>
"""
