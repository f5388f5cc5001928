"""A patient's course of ketamine infusions, recorded through the station's own commands.

A chair fed by a monitoring gateway (a live bed: its readings reach the core as the MLLP
link delivers them), a manual clock, and for each infusion: readings, the scores the start
needs, baseline, start, a mid-infusion assessment, an antiemetic now and then, stop,
recovery, discharge, and follow-up calls. Used by the series tests, the browser test and
bench/series.py.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard import Station, build_station
from monitor.clock import ManualClock
from monitor.config import parse_config
from monitor.model import Reading
from monitor.series import follow_up
from tests.helpers import PLAN, PRE_INFUSION_TICKED, REPO, config_dict

DAY = 86_400.0
PATIENT = "K-0042"
STEP_S = 5  # one set of readings every 5 s: enough for the course, quick to feed


@dataclass(frozen=True)
class Infusion:
    """What one infusion of the course is planned to show."""

    pain_before: int
    pain_end: int
    rate_mg_kg_h: float
    hr_rise: float
    antiemetic: bool
    follow_up_pain: tuple[int, int]  # at 24 h and 7 days


def course(n: int) -> list[Infusion]:
    """n infusions whose pain falls across the course and whose dose steps up."""
    return [
        Infusion(
            pain_before=max(2, 8 - i // 2),
            pain_end=max(1, 5 - i // 3),
            rate_mg_kg_h=0.5 + 0.05 * (i % 4),
            hr_rise=8 + i % 12,
            antiemetic=i % 3 == 0,
            follow_up_pain=(max(1, 4 - i // 4), max(2, 6 - i // 3)),
        )
        for i in range(n)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_config(tmp_path: Path, auth: bool = False) -> dict[str, Any]:
    """One chair fed by a monitoring gateway over HL7 PCD-01: a live bed."""
    data = config_dict(tmp_path / "sessions.db")
    data["beds"][0]["device"] = {
        "kind": "hl7_pcd01", "host": "127.0.0.1", "port": free_port(),
        "location": "PAIN^BAY1^4", "interval_s": 1,
    }  # fmt: skip
    if auth:
        data["server"]["auth"] = True
        data["training"] = {"enabled": True, "scenarios": str(REPO / "devices/simulator/scenarios")}
    return data


def gateway_station(
    tmp_path: Path, start: float, auth: bool = False
) -> tuple[Station, ManualClock]:
    clock = ManualClock(start=start)
    return build_station(parse_config(gateway_config(tmp_path, auth)), clock), clock


def _feed(station: Station, clock: ManualClock, seconds: float, hr: float, sbp: float) -> None:
    """Readings as the gateway delivers them, with a cuff every 3 min."""
    hub = station.ward.runtime("chair-1")
    for step in range(int(seconds // STEP_S)):
        clock.advance(STEP_S)
        now = clock.now()
        for signal, value, unit in (("HR", hr, "/min"), ("SPO2", 97, "%"), ("RR", 14, "/min")):
            hub.ingest(Reading("chair-1", now, signal, value, unit))
        if step % 36 == 0:
            for signal, value in (
                ("NIBP_SYS", sbp),
                ("NIBP_DIA", sbp - 45),
                ("NIBP_MEAN", sbp - 30),
            ):
                hub.ingest(Reading("chair-1", now, signal, value, "mmHg"))


def record_infusion(station: Station, clock: ManualClock, plan: Infusion) -> int:
    """One infusion from creation to discharge; returns its session number."""
    ward, bed = station.ward, "chair-1"

    def run(command: str, user: str = "nurse", **args: Any) -> object:
        return ward.session_command(bed, command, user, **args)

    created = ward.session_command(
        bed, "create", "nurse",
        plan=PLAN | {"patient_ref": PATIENT, "weight_kg": 70, "indication": "fibromyalgia",
                     "regimen": "0.5 mg/kg/h over 40 min",
                     "planned_rate_mg_kg_h": plan.rate_mg_kg_h},
    )  # fmt: skip
    _feed(station, clock, 9 * 60, 70, 120)
    run("assess", scores={"RASS": 0, "CADSS6": 0, "PAIN_NRS": plan.pain_before})
    run("baseline")
    run("start", ticked=PRE_INFUSION_TICKED)
    _feed(station, clock, 20 * 60, 70 + plan.hr_rise, 132)
    run("assess", scores={"RASS": 1, "CADSS6": 6})
    if plan.antiemetic:
        run("medication", drug="ondansetron", dose="4 mg IV")
    _feed(station, clock, 20 * 60, 72, 126)
    run("stop")
    _feed(station, clock, 31 * 60, 70, 121)
    run("assess", scores={"RASS": 0, "CADSS6": 0, "PAIN_NRS": plan.pain_end})
    run("discharge", "dr-lee", ticked=["alert", "escort", "pain"], role="physician",
        override_reason="series test: discharge criteria as charted")  # fmt: skip
    run("close")
    return int(created.id)  # type: ignore[attr-defined]


def call_back(station: Station, session_id: int, at: float, pain: int) -> None:
    """A follow-up call, as the record's follow-up panel records it."""
    info, events = station.store.session(session_id), station.store.events(session_id)
    raw = {"pain_nrs": pain, "relief_days": 9, "pgic": 2, "side_effects": ["dizziness"]}
    kind, payload = follow_up(info, events, "nurse", raw)
    station.store.add_event(session_id, info.bed, at, kind, "nurse", payload)


def record_course(station: Station, clock: ManualClock, plans: list[Infusion]) -> list[int]:
    """The whole course, 15 days apart, with the two follow-up calls after each."""
    ids = []
    for plan in plans:
        sid = record_infusion(station, clock, plan)
        end = clock.now()
        call_back(station, sid, end + DAY + 3600, plan.follow_up_pain[0])
        call_back(station, sid, end + 7 * DAY, plan.follow_up_pain[1])
        ids.append(sid)
        clock.advance(15 * DAY - (clock.now() - end))
    station.store.flush()
    return ids
