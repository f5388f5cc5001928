"""The session gates, dose guards and alarm semantics of issue 11, driven through the replay
command interface: the station's own bed, offline, on readings and nurse commands."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml

from monitor.config import Config, parse_config
from monitor.replay import Command, replay
from tests.helpers import PLAN, PRE_INFUSION_TICKED, REPO

T0 = 1_767_225_600.0
MIN = 60.0
NORMAL = {"HR": 72.0, "SPO2": 98.0, "RR": 14.0}


def station_config() -> Config:
    """The shipped config.yaml, with a DRI bed at 5 s (so readings every 5 s are not stale)."""
    data = yaml.safe_load((REPO / "config.yaml").read_text())
    data["beds"] = [
        {"id": "chair-1", "name": "Chair 1", "device": {"kind": "datex_s5", "port": "virtual"}}
    ]
    return parse_config(data)


def vitals(
    start: float, end: float, cuff_every: float | None = 180.0, sbp: float = 125, **over: float
) -> list[tuple[float, str, float, str]]:
    """Readings every 5 s from start to end (s after T0), with cuffs every `cuff_every`."""
    units = {"HR": "/min", "SPO2": "%", "RR": "/min"}
    values = NORMAL | over
    rows = []
    t = start
    while t < end:
        rows += [(T0 + t, sig, values[sig], units[sig]) for sig in ("HR", "SPO2", "RR")]
        if cuff_every and (t - start) % cuff_every == 0:
            rows += [(T0 + t, "NIBP_SYS", sbp, "mmHg"), (T0 + t, "NIBP_DIA", 80, "mmHg")]
        t += 5
    return rows


def cmd(at: float, command: str, role: str = "nurse", **args: Any) -> Command:
    return Command(T0 + at, command, "dr-a" if role == "physician" else "nurse-a", role, args)


def run(
    rows: list[tuple[float, str, float, str]], commands: list[Command]
) -> tuple[list[dict[str, Any]], Any]:
    events = io.StringIO()
    result = replay(sorted(rows), station_config(), "chair-1", None, commands, None, events)
    return [json.loads(line) for line in events.getvalue().splitlines()], result


def results(events: list[dict[str, Any]], name: str) -> list[tuple[bool, str]]:
    return [
        (e["ok"], e["reason"]) for e in events if e["kind"] == "command" and e["command"] == name
    ]


def alarms(events: list[dict[str, Any]], state: str = "active") -> list[tuple[str, str]]:
    return [
        (e["alarm"], e["priority"]) for e in events if e["kind"] == "alarm" and e["state"] == state
    ]


READY = [
    cmd(0, "create_session", **PLAN),
    cmd(400, "confirm_baseline"),
    cmd(410, "assess", RASS=0, CADSS6_ITEMS=[0] * 6, PAIN_NRS=6),
]


def test_10_start_fails_closed_and_a_physician_override_is_audited() -> None:
    events, _ = run(
        vitals(600, 700),
        [
            cmd(0, "create_session", **PLAN),
            cmd(1, "start_infusion"),  # nothing measured, nothing scored, nothing ticked
            cmd(2, "start_infusion", override_reason="I am sure"),
            cmd(3, "start_infusion", "physician", override_reason="urgent, vitals by hand"),
        ],
    )
    (held, nurse, doctor) = results(events, "start_infusion")
    assert not held[0] and held[1].startswith("hold: no confirmed baseline; no pre-infusion RASS")
    for what in ("no pre-infusion PAIN_NRS score", "not ticked: Consent signed", "no current SPO2"):
        assert what in held[1]
    assert "only a physician may override (role: nurse)" in nurse[1] and not nurse[0]
    assert doctor == (True, "")
    kinds = [e["event"] for e in events if e["kind"] == "session"]
    assert kinds[-2:] == ["override", "infusion_start"]
    assert {"kind": "phase", "phase": "infusing", "t": T0 + 3} in events


def test_10_a_ready_bed_starts_with_its_checklist() -> None:
    events, _ = run(
        vitals(0, 900),
        [*READY, cmd(420, "start_infusion", ticked=PRE_INFUSION_TICKED[:-1])]
        + [cmd(430, "start_infusion", ticked=PRE_INFUSION_TICKED)],
    )
    assert results(events, "start_infusion") == [
        (False, "hold: not ticked: Escort arranged; no driving today (a physician may override"
         " with a reason)"),
        (True, ""),
    ]  # fmt: skip


def test_11_bolus_outside_an_infusion_and_under_a_hold_is_refused() -> None:
    events, _ = run(
        vitals(0, 300, sbp=190),
        [
            cmd(0, "create_session", **PLAN),
            *[cmd(10 + i, "give", kind="bolus", mg_per_kg=0.5) for i in range(3)],
            cmd(20, "give", "physician", kind="bolus", mg_per_kg=0.5, override_reason="ordered"),
        ],
    )
    refused = results(events, "give")
    assert [ok for ok, _ in refused] == [False, False, False, True]
    assert "no infusion running (the session is pre-infusion)" in refused[0][1]
    assert "NIBP_SYS 190 >= 180" in refused[0][1]


def test_12_dose_guards_and_predicted_ce_alarms() -> None:
    events, _ = run(
        vitals(0, 4 * 3600 + 1200),
        [
            cmd(
                0,
                "create_session",
                **(PLAN | {"planned_duration_min": 240, "planned_rate_mg_kg_h": 0.5}),
            ),
            *READY[1:],
            cmd(420, "start_infusion", ticked=PRE_INFUSION_TICKED),
            cmd(500, "change_rate", rate_mg_kg_h=2),
            cmd(501, "change_rate", "physician", rate_mg_kg_h=2, override_reason="study arm"),
            *[cmd(600 + i, "give", kind="bolus", mg_per_kg=0.5) for i in range(8)],
        ],
    )
    rate = results(events, "change_rate")
    assert not rate[0][0] and "rate 2 mg/kg/h is above the maximum 1" in rate[0][1]
    assert "above the session ceiling 2.5 mg/kg" in rate[0][1]
    assert rate[1] == (True, "")
    boluses = results(events, "give")
    assert [ok for ok, _ in boluses] == [True] * 4 + [False] * 4  # the ceiling holds
    assert "above 2.5" in boluses[4][1]
    raised = alarms(events)
    assert ("DOSE_CE_ABOVE_DISSOCIATIVE", "MEDIUM") in raised
    assert ("DOSE_CE_ABOVE_AWAKENING", "HIGH") in raised


def test_13_planned_dose_reached_prompts_and_14_concentration_is_required() -> None:
    no_conc = {k: v for k, v in PLAN.items() if k != "concentration_mg_ml"}
    events, _ = run(
        vitals(0, 420 + 45 * MIN),
        [
            cmd(0, "create_session", **no_conc),
            cmd(1, "create_session", **PLAN),
            cmd(400, "confirm_baseline"),
            cmd(410, "assess", RASS=0, CADSS6_ITEMS=[0] * 6, PAIN_NRS=6),
            cmd(420, "start_infusion", ticked=PRE_INFUSION_TICKED),
        ],
    )
    assert results(events, "create_session") == [
        (False, "concentration: required (0.1 to 100 mg/mL)"),
        (True, ""),
    ]
    (prompt,) = [
        e for e in events if e.get("alarm") == "DOSE_PLAN_REACHED" and e["state"] == "active"
    ]
    assert (prompt["priority"], prompt["t"]) == ("LOW", T0 + 420 + 40 * MIN)


def test_15_discharge_from_fresh_data_only() -> None:
    rows = vitals(0, 1500) + vitals(1500, 1600, cuff_every=None, SPO2=86, HR=45, RR=7)
    events, _ = run(
        rows,
        [
            *READY,
            cmd(420, "start_infusion", ticked=PRE_INFUSION_TICKED),
            cmd(1200, "stop_infusion"),
            cmd(1590, "discharge", ticked=["ambulating", "nausea", "escort"]),
            cmd(1591, "discharge", "physician", ticked=[], override_reason="transfer to ward"),
        ],
    )
    (refused, accepted) = results(events, "discharge")
    for what in ("SpO2 86", "RR 7", "HR 45", "active: RR_VERY_LOW",
                 "no RASS since the stop", "6 of 30 min"):  # fmt: skip
        assert what in refused[1], what
    assert accepted == (True, "")


def test_16_limits_outside_their_range_are_refused() -> None:
    events, _ = run(
        vitals(0, 60),
        [
            cmd(10, "change_limit", "physician", name="SPO2_DESAT", limit=-1, reason="x"),
            cmd(11, "change_limit", "physician", name="HR_VERY_HIGH", limit=1e308, reason="x"),
            cmd(12, "change_limit", "physician", name="SPO2_LOW", limit=101, reason="x"),
            cmd(13, "change_limit", "nurse", name="SPO2_LOW", limit=90, reason="x"),
            cmd(14, "change_limit", "physician", name="SPO2_LOW", limit=90, reason="COPD"),
        ],
    )
    assert results(events, "change_limit") == [
        (False, "the limit of SPO2_DESAT must be between 75 and 90"),
        (False, "the limit of HR_VERY_HIGH must be between 110 and 200"),
        (False, "the limit of SPO2_LOW must be between 85 and 96"),
        (False, "not permitted for your role (nurse): limits"),
        (True, ""),
    ]


def test_feed_loss_is_technical_escalates_in_infusion_and_nibp_overdue() -> None:
    rows = vitals(0, 900) + vitals(990, 1500, cuff_every=None)  # 90 s of nothing
    events, _ = run(rows, [*READY, cmd(420, "start_infusion", ticked=PRE_INFUSION_TICKED)])
    no_data = [
        (e["state"], e["priority"], e["t"] - T0) for e in events if e.get("alarm") == "TECH_NO_DATA"
    ]
    assert no_data[:3] == [("pending", "MEDIUM", 906), ("active", "MEDIUM", 906),
                           ("escalated", "HIGH", 966)]  # fmt: skip
    assert "RR_APNOEA" not in {e.get("alarm") for e in events}
    overdue = [
        e for e in events if e.get("alarm") == "TECH_NIBP_OVERDUE" and e["state"] == "active"
    ]
    assert overdue and overdue[0]["priority"] == "MEDIUM"


def test_rr_zero_is_apnoea_after_its_delay() -> None:
    events, _ = run(vitals(0, 100) + vitals(100, 160, cuff_every=None, RR=0), [])
    (apnoea,) = [e for e in events if e.get("alarm") == "RR_APNOEA" and e["state"] == "active"]
    assert apnoea["t"] - T0 == 115  # the last breath at 95 s, then 20 s without one


def test_oversedation_scenario_replay_has_at_most_60_rr_very_low_onsets(tmp_path: Path) -> None:
    from devices.simulator.headless import simulate
    from devices.simulator.scenario import load_scenario
    from monitor.clock import ManualClock

    scenario = load_scenario(REPO / "devices/simulator/scenarios/oversedation-desaturation.yaml")
    rows: list[tuple[float, str, float, str]] = []
    simulate(
        scenario, ManualClock(), 4 * 3600.0, lambda r: rows.append((r.t, r.signal, r.value, r.unit))
    )
    result = replay(sorted(rows), station_config(), "sim", None)
    assert result.hours > 3.9
    assert 0 < result.onsets_by_alarm["RR_VERY_LOW"] <= 60
