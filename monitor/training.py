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
    "rate_increased",
    "start_infusion",
    "pause_infusion",
    "resume_infusion",
    "stop_infusion",
    "give",
    "assessment",
    "limit_change",
    "oxygen",
    "airway_support",
    "call_for_help",
    "reassure",
)
# What the debrief says for each action (give:DRUG reads "give DRUG").
ACTION_WORDS = {
    "acknowledge": "acknowledge the alarm",
    "audio_pause": "pause the alarm sound",
    "rate_change": "change the rate",
    "rate_reduced": "reduce the rate",
    "rate_increased": "increase the rate",
    "start_infusion": "start the infusion",
    "pause_infusion": "pause the infusion",
    "resume_infusion": "resume the infusion",
    "stop_infusion": "stop the infusion",
    "give": "give a drug",
    "assessment": "assess the patient",
    "limit_change": "change an alarm limit",
    "oxygen": "give oxygen",
    "airway_support": "support the airway",
    "call_for_help": "call for help",
    "reassure": "reassure the patient",
}
# Onsets of one alarm closer than this are one flapping episode in the debrief's timeline.
FLAP_GAP_S = 300.0
Status = Literal["done", "late", "missed", "pending", "not reached", "avoided", "not avoided"]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    t: float
    kind: Literal["state", "instructor", "trainee", "alarm", "artifact"]
    text: str
    alarm: str = ""  # the alarm's name on an onset entry: repeated onsets fold into one line


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
    # The run's trend for the debrief chart: signal code (and "RATE", mg/kg/h) -> (t, value).
    trend: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

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


def action_words(action: str) -> str:
    """One action, or alternatives joined by "or", in words: "give:midazolam" → "give midazolam"."""
    words = []
    for one in action.split(" or "):
        kind, _, drug = one.partition(":")
        words.append(f"give {drug}" if drug else ACTION_WORDS.get(kind, kind.replace("_", " ")))
    return " or ".join(words)


def result_words(item: ChecklistItem) -> str:
    """The checklist result as the debrief shows it; a harmful action taken is flagged."""
    if item.status == "not avoided":
        return f"✗ avoided action taken: {action_words(item.action)} −{abs(item.points)} points"
    mark = {"done": "✓ ", "avoided": "✓ ", "missed": "✗ "}.get(item.status, "")
    return mark + item.status


def fold_flaps(timeline: list[TimelineEntry], start: float) -> list[TimelineEntry]:
    """Repeated onsets of one alarm (each within FLAP_GAP_S of the last) as one line with a
    count, at the first onset: a flapping alarm would otherwise bury the run's story."""
    episodes: dict[str, list[TimelineEntry]] = {}  # the open episode of each alarm
    folded: dict[int, list[TimelineEntry]] = {}  # id of an episode's first entry -> episode
    for e in timeline:
        if not e.alarm:
            continue
        episode = episodes.get(e.alarm)
        if episode and e.t - episode[-1].t <= FLAP_GAP_S:
            episode.append(e)
        else:
            episodes[e.alarm] = [e]
            folded[id(e)] = episodes[e.alarm]
    out = []
    for e in timeline:
        if not e.alarm:
            out.append(e)
            continue
        episode = folded.get(id(e))
        if episode is None:
            continue  # folded into an earlier line
        if len(episode) == 1:
            out.append(e)
        else:
            span = f"between {mmss(e.t, start)} and {mmss(episode[-1].t, start)}"
            text = f"{e.alarm} ×{len(episode)} {span}"
            out.append(TimelineEntry(e.t, "alarm", text, e.alarm))
    return out


def debrief_html(debrief: Debrief, bed: str) -> str:
    """A printable debrief (the PDF route prints it with headless Chromium)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{mmss(x.t, debrief.started_at)}</td><td>{e(x.kind)}</td><td>{e(x.text)}</td></tr>"
        for x in debrief.timeline
    )
    checks = "".join(
        f"<tr><td>{e(c.label)}</td><td>{e(result_words(c))}</td>"
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
