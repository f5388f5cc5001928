"""Training scenarios: every file validates, runs are reproducible, and each scenario raises
the alarms it is designed to raise (and none it must not) on the real alarm engine."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from pypdf import PdfReader

from devices.simulator.headless import simulate
from devices.simulator.inprocess import SimulatedMonitor
from devices.simulator.scenario import (
    ScenarioError,
    ScenarioRun,
    load_library,
    load_scenario,
    parse_scenario,
)
from monitor.clock import ManualClock, ScaledClock
from monitor.config import load_config
from monitor.feed import CommandError
from monitor.model import Reading
from monitor.report import print_pdf
from monitor.runtime.ward import Ward
from monitor.training import debrief_html, result_words
from monitor.ui.pages import debrief as debrief_page
from monitor.ui.pages import instructor
from tests.helpers import PLAN, REPO
from tests.scenarios import LIBRARY, run_on_hub

SCENARIOS = sorted(LIBRARY.glob("*.yaml"))


def test_the_library_has_the_scenarios_the_clinic_trains_on() -> None:
    library = load_library(LIBRARY)
    assert len(library) >= 8
    assert {
        "uneventful", "hypertensive-surge", "tachycardia", "dysphoric-reaction",
        "oversedation-desaturation", "vasovagal-bradycardia", "probe-off", "monitor-disconnect",
        "nausea-vomiting",
    } <= set(library)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["patient"].pop("weight_kg"), "x.yaml: patient.weight_kg: field required"),
        (lambda d: d["states"][1]["vitals"].update(BP=1), "states.1.vitals.BP"),
        (
            lambda d: d["transitions"][0].update(to="nowhere"),
            "transitions[0]: unknown state 'nowhere'",
        ),
        (
            lambda d: d["transitions"][0]["when"].update(instructor="Now"),
            "give exactly one of after_s, condition, instructor, trainee_action",
        ),
        (lambda d: d["expected_actions"][0].update(action="dance"), "unknown trainee action"),
        (lambda d: d["states"][0].update(artifacts={"smoke": True}), "states.0.artifacts.smoke"),
    ],
)
def test_a_broken_scenario_is_one_line_naming_the_field(change, message) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load((LIBRARY / "hypertensive-surge.yaml").read_text())
    change(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "x.yaml")
    text = str(info.value)
    assert "\n" not in text and text.startswith("x.yaml: ")
    assert message in text or message in text.replace("[", ".").replace("]", "")


def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: cannot read"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="missing.yaml: file not found"):
        load_scenario(tmp_path / "missing.yaml")


def _readings(seed: int | None = None) -> list[tuple[float, str, float]]:
    scenario = load_scenario(LIBRARY / "hypertensive-surge.yaml")
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    out: list[tuple[float, str, float]] = []
    simulate(scenario, ManualClock(), 900, lambda r: out.append((r.t, r.signal, r.value)))
    return out


def test_same_seed_same_readings_other_seed_other_readings() -> None:
    first, again, other = _readings(), _readings(), _readings(seed=7)
    assert len(first) > 5000 and first == again
    assert [r[:2] for r in other] == [r[:2] for r in first] and other != first


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_each_scenario_raises_the_alarms_it_is_designed_for(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    config = load_config(REPO / "config.yaml")
    result = run_on_hub(scenario, config, tmp_path)
    design = scenario.alarms
    assert set(design.expected) <= result.raised, f"states {result.states}"
    assert not set(design.never) & result.raised, f"states {result.states}"
    assert len(result.states) > 1  # the script moved on


def test_a_probe_off_is_technical_and_the_nurse_is_scored_for_not_treating(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "probe-off.yaml")
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    assert "TECH_SPO2_INVALID" in result.raised and "SPO2_DESAT" not in result.raised
    debrief = result.hub.debrief()
    assert debrief is not None
    by_label = {c.label: c for c in debrief.checklist}
    assert by_label["Acknowledge the technical alarm"].status == "missed"
    assert by_label["Do not give a drug for an artefact"].status == "avoided"
    assert debrief.score == 0 and debrief.max_score == 10
    kinds = [e.kind for e in debrief.timeline]
    assert "state" in kinds and "alarm" in kinds and "artifact" in kinds


def test_trainee_actions_move_the_scenario_and_are_timed(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "hypertensive-surge.yaml")
    scenario = scenario.model_copy(update={"duration_s": 1700.0})  # the surge began at 1500 s
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    assert result.states[-1] == "surge"
    hub, clock = result.hub, result.hub.clock
    hub.acknowledge("trainee")
    clock.advance(30)  # type: ignore[attr-defined]
    hub.change_rate(0.5, "trainee")
    assert result.monitor.run_ is not None and result.monitor.run_.state.id == "settling"
    debrief = hub.debrief()
    assert debrief is not None
    checks = {c.label.split(" ")[0]: c for c in debrief.checklist}
    assert checks["Reduce"].status == "done" and checks["Reduce"].points == 10
    assert checks["Acknowledge"].status == "done"
    rate = checks["Reduce"].seconds_to_action
    assert rate is not None and rate == pytest.approx(1700 - 1500 + 30, abs=2)
    assert any(e.kind == "trainee" and e.text.startswith("rate_reduced") for e in debrief.timeline)


def test_any_listed_alternative_answers_an_expected_action() -> None:
    scenario = load_scenario(LIBRARY / "hypertensive-surge.yaml")
    run = ScenarioRun(scenario, scenario.patient_model(), 0.0)
    run.instructor(100.0, "event", "surge-now")
    run.trainee_action(160.0, "pause_infusion")  # pausing is as good as reducing the rate
    assert run.state.id == "settling"
    (reduce,) = [c for c in run.debrief(200.0, []).checklist if c.label.startswith("Reduce")]
    assert reduce.status == "done" and reduce.seconds_to_action == 60.0
    assert reduce.action == "rate_reduced or pause_infusion or stop_infusion"


def test_headless_cli_writes_readings(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = subprocess.run(
        [sys.executable, "-m", "devices", "simulate", "--scenario",
         str(LIBRARY / "probe-off.yaml"), "--duration", "900", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time", "signal", "value", "unit"]
    spo2 = [float(r[0]) for r in rows[1:] if r[1] == "SPO2"]
    assert spo2 and max(spo2) - min(spo2) > 890  # 15 min of 1 Hz SpO2 ...
    start = float(rows[1][0])
    off = [t for t in spo2 if start + 601 <= t < start + 840]
    assert off == []  # ... with none while the probe is off
    bad = subprocess.run(
        [sys.executable, "-m", "devices", "simulate", "--scenario", str(out), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_the_debrief_prints_as_a_pdf(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "monitor-disconnect.yaml")
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    assert "TECH_NO_DATA" in result.raised
    debrief = result.hub.debrief()
    assert debrief is not None
    out = print_pdf(debrief_html(debrief, "sim"), tmp_path / "debrief.pdf")
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "SIMULATION" in text and "monitor-disconnect" in text
    assert "Acknowledge the no-data alarm" in text and "TECH_NO_DATA" in text


def test_a_stored_session_replays_as_a_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "uneventful.yaml")
    short = scenario.model_copy(update={"duration_s": 400.0})
    recorded = run_on_hub(short, load_config(REPO / "config.yaml"), tmp_path)
    hub, monitor = recorded.hub, recorded.monitor
    session = hub.session
    assert session is not None
    source = [(t, s, v) for t, s, v in hub.store.readings(session.id) if s == "HR"]
    hub.close_session("trainee", "recorded for teaching")
    hub.training_command("replay", "instructor", str(session.id))
    played: list[Reading] = []
    for _ in range(30):
        hub.clock.advance(1.0)  # type: ignore[attr-defined]
        monitor.tick(lambda item: played.append(item) if isinstance(item, Reading) else None)
    hr = [r.value for r in played if r.signal == "HR"]
    assert hr == [v for _, _, v in source[: len(hr)]] and len(hr) >= 29
    view = hub.training_view()
    assert view is not None and view.title == f"Replay of session {session.id}"
    with pytest.raises(CommandError, match="not a session number"):
        hub.training_command("replay", "instructor", "abc")


def test_time_runs_faster_pauses_and_stays_continuous() -> None:
    clock = ScaledClock(1.0)
    ward = Ward([], clock)
    before = clock.now()
    ward.clock_control("speed", 60.0)
    assert clock.now() - before < 1.0  # no jump when the speed changes
    time.sleep(0.1)
    assert 4 < clock.now() - before < 30
    ward.clock_control("pause")
    frozen = clock.now()
    time.sleep(0.1)
    assert clock.now() == frozen and ward.clock_state() == (60.0, True)
    ward.clock_control("resume")
    with pytest.raises(CommandError, match="speed must be one of"):
        ward.clock_control("speed", 3.0)
    with pytest.raises(CommandError, match="real time"):
        Ward([], ManualClock()).clock_control("pause")


def test_resuming_a_running_clock_does_not_rewind_it() -> None:
    clock = ScaledClock(60.0)
    time.sleep(0.05)
    before = clock.now()
    clock.resume()
    assert clock.now() >= before


def test_the_pump_gives_what_the_session_weight_says_and_a_bolus_arrives(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "uneventful.yaml")  # a 68 kg patient
    short = scenario.model_copy(update={"duration_s": 10.0})
    result = run_on_hub(short, load_config(REPO / "config.yaml"), tmp_path)
    hub, patient = result.hub, result.monitor.patient
    hub.close_session("trainee", "restart with a wrong weight")
    hub.create_session(PLAN | {"weight_kg": 100, "planned_rate_mg_kg_h": 0.5}, "trainee")
    hub.start_infusion("instructor", "training run", role="physician")
    assert patient.mg_per_h == 50.0  # 0.5 mg/kg/h for the 100 kg entered, not 68 kg
    ce = patient.ce_ng_ml
    hub.give(
        "bolus", "instructor", mg_per_kg=0.1, override_reason="drill", role="physician"
    )  # 10 mg into the central compartment
    assert patient.cp_ng_ml > 0 and patient.ce_ng_ml == ce
    result.monitor.tick(hub.receive)
    assert patient.ce_ng_ml >= ce


def test_a_scenario_after_a_replay_starts_from_now() -> None:
    scenario = load_scenario(LIBRARY / "uneventful.yaml")
    monitor = SimulatedMonitor(
        "b", scenario.patient_model(), ManualClock(), library={"u": scenario}
    )
    clock = monitor.clock
    monitor.tick(lambda _item: None)
    monitor.start_replay("r", [(0.0, "HR", 70.0), (1.0, "HR", 71.0)])
    clock.advance(3600)
    monitor.tick(lambda _item: None)
    monitor.start_scenario("u")
    clock.advance(1)
    monitor.tick(lambda _item: None)
    assert monitor.patient.t <= 1.0  # one second lived, not an hour


def test_a_harmful_action_is_flagged_and_costs_points(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "hypertensive-surge.yaml")
    scenario = scenario.model_copy(update={"duration_s": 1700.0})  # the surge began at 1500 s
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    hub, clock = result.hub, result.hub.clock
    before = hub.debrief()
    assert before is not None
    clock.advance(20)  # type: ignore[attr-defined]
    hub.change_rate(0.9, "trainee")  # up, in a surge
    assert result.monitor.run_ is not None and result.monitor.run_.state.id == "surge"
    debrief = hub.debrief()
    assert debrief is not None
    (flagged,) = [c for c in debrief.checklist if c.status == "not avoided"]
    assert flagged.label == "Do not increase the rate during the surge" and flagged.points == -10
    assert result_words(flagged) == "✗ avoided action taken: increase the rate −10 points"
    assert debrief.score == before.score - 10
    assert any(e.text.startswith("rate_increased 0.75 → 0.9") for e in debrief.timeline)
    assert "✗ avoided action taken" in debrief_html(debrief, "sim")
    trend = debrief.trend
    assert len(trend["HR"]) > 100 and trend["NIBP_SYS"] and trend["RATE"][-1][1] == 0.9


def test_oversedation_is_answered_with_oxygen_airway_support_and_help(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "oversedation-desaturation.yaml")
    scenario = scenario.model_copy(update={"duration_s": 1260.0})  # oversedated at 1200 s
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    assert result.states[-1] == "oversedated"
    hub, clock = result.hub, result.hub.clock
    for what in ("call_for_help", "oxygen", "airway_support"):
        clock.advance(10)  # type: ignore[attr-defined]
        hub.session_command("intervention", "trainee", {"what": what})
    assert result.monitor.run_ is not None and result.monitor.run_.state.id == "recovering"
    debrief = hub.debrief()
    assert debrief is not None
    by_label = {c.label: c for c in debrief.checklist}
    for label in ("Give oxygen", "Support the airway (stimulate, jaw thrust)", "Call for help"):
        assert by_label[label].status == "done" and by_label[label].points == 10
    with pytest.raises(CommandError, match="unknown intervention"):
        hub.session_command("intervention", "trainee", {"what": "prayer"})
    session = hub.session
    assert session is not None
    kinds = [e.kind for e in hub.store.events(session.id)]
    assert kinds.count("intervention") == 3


def test_the_dose_ceiling_drill_prompts_a_stop_and_flags_more_ketamine(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "fibromyalgia-dose-ceiling.yaml")
    scenario = scenario.model_copy(update={"duration_s": 3060.0})  # the plan ends at 3000 s
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    assert "DOSE_PLAN_REACHED" in result.raised and result.states[-1] == "plan-reached"
    hub = result.hub
    with pytest.raises(CommandError, match="above the maximum"):
        hub.change_rate(1.5, "trainee")  # the session's dose guard
    hub.change_rate(1.0, "trainee")  # "a bit longer": within the guard, but off the plan
    hub.stop_infusion("trainee")
    debrief = hub.debrief()
    assert debrief is not None
    by_label = {c.label: c for c in debrief.checklist}
    assert by_label["Stop the infusion on plan"].status == "done"
    assert by_label["Do not raise the rate past the plan"].status == "not avoided"
    assert by_label["Do not give a ketamine bolus for pain"].status == "avoided"


def _text(component: object) -> str:
    """Every string a Dash component tree shows (children, labels, table cells)."""
    if component is None or isinstance(component, bool | int | float):
        return ""
    if isinstance(component, str):
        return component + "\n"
    if isinstance(component, list | tuple):
        return "".join(_text(c) for c in component)
    props = getattr(component, "to_plotly_json", lambda: {})().get("props", {})
    return "".join(_text(props.get(k)) for k in ("children", "label", "data", "value"))


def test_the_instructor_and_debrief_pages_speak_in_words(tmp_path: Path) -> None:
    scenario = load_scenario(LIBRARY / "hypertensive-surge.yaml")
    scenario = scenario.model_copy(update={"duration_s": 1560.0})  # in the surge
    result = run_on_hub(scenario, load_config(REPO / "config.yaml"), tmp_path)
    hub = result.hub
    hub.change_rate(0.9, "trainee")
    view, debrief = hub.training_view(), hub.debrief()
    assert view is not None and debrief is not None
    feed = SimpleNamespace(debrief=lambda bed: debrief)
    shown = _text([instructor._panel(view), instructor._controls(view)])
    shown += _text(debrief_page.debrief_layout(feed, "sim"))  # type: ignore[arg-type]
    assert "when the trainee does: reduce the rate or pause the infusion" in shown
    assert "✗ avoided action taken: increase the rate −10 points" in shown
    assert "['" not in shown and "{'" not in shown, shown
