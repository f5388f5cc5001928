"""Training scenarios: a data-only YAML format, validated by a schema, and its interpreter.

A scenario is a patient, a seed, states with target vitals and ramp times, transitions
(elapsed time in a state, a condition held for N seconds, an instructor button or a trainee
action), one-tap instructor events, artifacts, and the actions a trainee is expected to take
(simulator-and-scale.md §1.3-1.4). Files hold no code: the interpreter below is the only logic.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from devices.simulator.physiology import Baseline, SimplePatient
from monitor.config import one_line
from monitor.session import SCALES
from monitor.training import (
    ARTIFACTS,
    SCRIPTED,
    TRAINEE_ACTIONS,
    ChecklistItem,
    Debrief,
    Status,
    TimelineEntry,
    TrainingView,
    action_words,
    fold_flaps,
)

Artifact = Literal[ARTIFACTS]  # type: ignore[valid-type]
Scale = Literal[tuple(SCALES)]  # type: ignore[valid-type]
Vital = Literal[SCRIPTED]  # type: ignore[valid-type]
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class ScenarioError(Exception):
    """A scenario file that cannot be used, phrased as one line naming the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _trainee_action(text: str) -> str:
    kind = text.split(":", 1)[0]
    if kind not in TRAINEE_ACTIONS:
        raise ValueError(
            f"unknown trainee action {text!r}: one of {', '.join(TRAINEE_ACTIONS)}"
            " (give:DRUG for a drug)"
        )
    return text


TraineeAction = Annotated[str, AfterValidator(_trainee_action)]
# One action, or alternatives any of which will do ("reduce the rate or pause").
Actions = TraineeAction | list[TraineeAction]


def _alternatives(wanted: str | list[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else wanted


class PatientSpec(_Strict):
    age: int = Field(ge=18, le=100)
    weight_kg: float = Field(ge=30, le=250)
    baseline: dict[Vital, float]
    sensitivity: float = Field(1.0, gt=0, le=5, description="scales the ketamine PD effect")

    @model_validator(mode="after")
    def _complete(self) -> PatientSpec:
        missing = sorted(set(SCRIPTED) - set(self.baseline))
        if missing:
            raise ValueError(f"baseline needs {', '.join(missing)}")
        return self


class Condition(_Strict):
    signal: Vital
    op: Literal[">", ">=", "<", "<="]
    value: float
    for_s: float = Field(0, ge=0)


class When(_Strict):
    after_s: float | None = Field(None, ge=0)
    condition: Condition | None = None
    instructor: str | None = None
    trainee_action: Actions | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> When:
        kinds = ("after_s", "condition", "instructor", "trainee_action")
        given = [k for k in kinds if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of after_s, condition, instructor, trainee_action")
        return self


class StateSpec(_Strict):
    id: str = Field(min_length=1)
    note: str = ""
    vitals: dict[Vital, float] = Field(default_factory=dict)
    ramp_s: float = Field(60, ge=0)
    artifacts: dict[Artifact, bool] = Field(default_factory=dict)
    findings: dict[Scale, int] = Field(default_factory=dict)  # what an assessment would find


class TransitionSpec(_Strict):
    from_: str = Field(alias="from")
    to: str
    when: When


class EventSpec(_Strict):
    id: str
    label: str
    goto: str | None = None
    vitals: dict[Vital, float] = Field(default_factory=dict)
    ramp_s: float = Field(30, ge=0)
    artifacts: dict[Artifact, bool] = Field(default_factory=dict)


class ExpectedAction(_Strict):
    label: str
    action: Actions
    after: str  # the state whose entry starts the clock
    within_s: float = Field(gt=0)
    points: int = Field(gt=0)
    avoid: bool = False  # a harmful action: points are lost if it is taken


class InfusionPlan(_Strict):
    rate_mg_kg_h: float = Field(gt=0, le=2)
    start_s: float = Field(0, ge=0)
    duration_s: float = Field(gt=0)  # the planned duration, entered in the session's plan
    # How long the scripted trainee runs on past the plan (a dose-ceiling drill).
    overrun_s: float = Field(0, ge=0)


class AlarmDesign(_Strict):
    expected: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    objectives: list[str] = Field(default_factory=list)
    seed: int
    patient: PatientSpec
    infusion: InfusionPlan
    duration_s: float = Field(gt=0, le=6 * 3600)
    states: list[StateSpec] = Field(min_length=1)
    transitions: list[TransitionSpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    expected_actions: list[ExpectedAction] = Field(default_factory=list)
    alarms: AlarmDesign = Field(default_factory=AlarmDesign)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        ids = [s.id for s in self.states]
        if len(set(ids)) != len(ids):
            raise ValueError("state ids must be unique")
        for i, tr in enumerate(self.transitions):
            for end in (tr.from_, tr.to):
                if end not in ids:
                    raise ValueError(f"transitions[{i}]: unknown state {end!r}")
        for i, ev in enumerate(self.events):
            if ev.goto is not None and ev.goto not in ids:
                raise ValueError(f"events[{i}].goto: unknown state {ev.goto!r}")
        for i, ex in enumerate(self.expected_actions):
            if ex.after not in ids:
                raise ValueError(f"expected_actions[{i}].after: unknown state {ex.after!r}")
        return self

    def patient_model(self) -> SimplePatient:
        b = self.patient.baseline
        baseline = Baseline(
            hr=b["HR"],
            spo2=b["SPO2"],
            sbp=b["NIBP_SYS"],
            dbp=b["NIBP_DIA"],
            rr=b["RR"],
            etco2=b["ETCO2"],
            temp=b["TEMP"],
        )
        return SimplePatient(self.seed, baseline, self.patient.weight_kg, self.patient.sensitivity)


def parse_scenario(data: object, source: str) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of fields")
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(one_line(err, source)) from None


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: cannot read: {str(err).splitlines()[0]}") from None
    return parse_scenario(data, str(path))


def load_library(folder: Path | str) -> dict[str, Scenario]:
    """Every `*.yaml` scenario in `folder`, by id; a broken file is a ScenarioError."""
    library = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        scenario = load_scenario(path)
        if scenario.id in library:
            raise ScenarioError(f"{path}: id: {scenario.id!r} is used by another scenario")
        library[scenario.id] = scenario
    return library


def replay_scenario(title: str, rows: list[tuple[float, str, float]]) -> Scenario:
    """A one-state scenario around a recording (rows in time order), so a replay has a run,
    a log and a debrief."""
    first: dict[str, float] = {}
    for _, signal, value in rows:  # in time order
        first.setdefault(signal, value)
    defaults = {"HR": 75, "SPO2": 98, "NIBP_SYS": 120, "NIBP_DIA": 75, "RR": 14, "ETCO2": 37}
    baseline = {k: first.get(k, v) for k, v in (defaults | {"TEMP": 36.8}).items()}
    span = rows[-1][0] - rows[0][0] + 1
    return Scenario(
        id="replay",
        title=title,
        seed=0,
        patient=PatientSpec(age=50, weight_kg=70, baseline=baseline),
        infusion=InfusionPlan(rate_mg_kg_h=0.5, duration_s=span),
        duration_s=min(span, 6 * 3600),
        states=[StateSpec(id="replay", note="A recorded case, played back at its own pace.")],
    )


class ScenarioRun:
    """One run of a scenario on one patient: states, transitions, artifacts and the log the
    debrief is made from. Driven by the monitor's tick and by commands; not thread-safe."""

    def __init__(self, scenario: Scenario, patient: SimplePatient, t: float) -> None:
        self.scenario = scenario
        self.patient = patient
        self.started_at = t
        self.artifacts: set[str] = set()
        self.timeline: list[TimelineEntry] = []
        self.actions: list[tuple[float, str]] = []
        self.entered: dict[str, float] = {}  # first entry into each state
        self._held: dict[int, float] = {}
        self._enter(scenario.states[0].id, t, "start")  # sets state and state_since

    # -- states ----------------------------------------------------------------------------

    def _state(self, state_id: str) -> StateSpec:
        return next(s for s in self.scenario.states if s.id == state_id)

    def _enter(self, state_id: str, t: float, why: str) -> None:
        state = self._state(state_id)
        self.state, self.state_since = state, t
        self.entered.setdefault(state_id, t)
        self._held.clear()
        for code in SCRIPTED:
            self.patient.ramp_to(code, state.vitals.get(code), state.ramp_s)
        self.timeline.append(TimelineEntry(t, "state", f"{state_id} ({why})"))
        self._set_artifacts(state.artifacts, t)

    def _set_artifacts(self, changes: dict[str, bool], t: float) -> None:
        for name, on in changes.items():
            if on != (name in self.artifacts):
                (self.artifacts.add if on else self.artifacts.discard)(name)
                text = f"{name} {'on' if on else 'off'}"
                self.timeline.append(TimelineEntry(t, "artifact", text))

    def tick(self, t: float, shown: dict[str, float]) -> None:
        """Time and condition transitions out of the current state."""
        for i, tr in enumerate(self.scenario.transitions):
            if tr.from_ != self.state.id:
                continue
            when = tr.when
            if when.after_s is not None and t - self.state_since >= when.after_s:
                self._enter(tr.to, t, f"after {when.after_s:g} s")
                return
            cond = when.condition
            if cond is not None:
                value = shown.get(cond.signal)
                if value is not None and OPS[cond.op](value, cond.value):
                    since = self._held.setdefault(i, t)
                    if t - since >= cond.for_s:
                        self._enter(tr.to, t, f"{cond.signal} {cond.op} {cond.value:g}")
                        return
                elif value is not None:
                    self._held.pop(i, None)

    # -- what people do --------------------------------------------------------------------

    def trainee_action(self, t: float, action: str, detail: str = "") -> None:
        self.actions.append((t, action))
        self.timeline.append(TimelineEntry(t, "trainee", f"{action} {detail}".strip()))
        for tr in self.scenario.transitions:
            wanted = tr.when.trainee_action
            if tr.from_ == self.state.id and wanted is not None and _matches(wanted, action):
                self._enter(tr.to, t, f"trainee: {action}")
                return

    def instructor(self, t: float, command: str, value: str, level: float | None = None) -> None:
        """goto STATE, trigger LABEL, event ID, artifact NAME (toggle), set/ramp VITAL."""
        if command == "goto":
            self.timeline.append(TimelineEntry(t, "instructor", f"jump to {value}"))
            self._enter(self._state_id(value), t, "instructor")
        elif command == "trigger":
            tr = next(
                (x for x in self.scenario.transitions if x.from_ == self.state.id
                 and x.when.instructor == value),
                None,
            )  # fmt: skip
            if tr is None:
                raise ValueError(f"no instructor trigger {value!r} from state {self.state.id}")
            self.timeline.append(TimelineEntry(t, "instructor", value))
            self._enter(tr.to, t, "instructor")
        elif command == "event":
            ev = next((e for e in self.scenario.events if e.id == value), None)
            if ev is None:
                raise ValueError(f"no event {value!r}")
            self.timeline.append(TimelineEntry(t, "instructor", ev.label))
            for code, target in ev.vitals.items():
                self.patient.ramp_to(code, target, ev.ramp_s)
            self._set_artifacts(ev.artifacts, t)
            if ev.goto:
                self._enter(ev.goto, t, ev.label)
        elif command == "artifact":
            if value not in ARTIFACTS:
                raise ValueError(f"no artifact {value!r}")
            self._set_artifacts({value: value not in self.artifacts}, t)
        elif command in ("set", "ramp", "release"):
            if value not in SCRIPTED:
                raise ValueError(f"{value!r} cannot be scripted: one of {', '.join(SCRIPTED)}")
            target = None if command == "release" else level
            if command != "release" and target is None:
                raise ValueError("a target value is required")
            duration = 0.0 if command == "set" else 60.0
            self.patient.ramp_to(value, target, duration)
            text = f"{command} {value}" + ("" if target is None else f" {target:g}")
            self.timeline.append(TimelineEntry(t, "instructor", text))
        else:
            raise ValueError(f"unknown instructor command {command!r}")

    def _state_id(self, value: str) -> str:
        if value not in {s.id for s in self.scenario.states}:
            raise ValueError(f"no state {value!r}")
        return value

    # -- views -----------------------------------------------------------------------------

    def upcoming(self, now: float) -> list[str]:
        out = []
        for tr in self.scenario.transitions:
            if tr.from_ != self.state.id:
                continue
            w = tr.when
            if w.after_s is not None:
                left = max(0.0, self.state_since + w.after_s - now)
                out.append(f"→ {tr.to} in {left:.0f} s")
            elif w.condition is not None:
                c = w.condition
                out.append(f"→ {tr.to} when {c.signal} {c.op} {c.value:g} for {c.for_s:g} s")
            elif w.instructor is not None:
                out.append(f"→ {tr.to} on instructor: {w.instructor}")
            else:
                wanted = " or ".join(_alternatives(w.trainee_action or []))
                out.append(f"→ {tr.to} when the trainee does: {action_words(wanted)}")
        return out

    def view(self, t: float) -> TrainingView:
        p = self.patient
        hidden = {code: round(p.physiological(code), 1) for code in SCRIPTED}
        hidden |= {"Ce ng/mL": round(p.ce_ng_ml, 1), "Cp ng/mL": round(p.cp_ng_ml, 1)}
        return TrainingView(
            scenario_id=self.scenario.id,
            title=self.scenario.title,
            state=self.state.id,
            state_note=self.state.note,
            state_since=self.state_since,
            elapsed_s=t - self.started_at,
            upcoming=self.upcoming(t),
            instructor_triggers=[
                tr.when.instructor
                for tr in self.scenario.transitions
                if tr.from_ == self.state.id and tr.when.instructor is not None
            ],
            events=[(e.id, e.label) for e in self.scenario.events],
            states=[s.id for s in self.scenario.states],
            artifacts={a: a in self.artifacts for a in ARTIFACTS},
            hidden=hidden,
            targets={k: round(v, 1) for k, v in p.ramp_targets().items()},
            expected_alarms=list(self.scenario.alarms.expected),
            findings=dict(self.state.findings),
            started_at=self.started_at,
        )

    def debrief(self, t: float, alarms: list[TimelineEntry]) -> Debrief:
        checklist = [self._check(ex, t) for ex in self.scenario.expected_actions]
        timeline = fold_flaps(sorted([*self.timeline, *alarms], key=lambda e: e.t), self.started_at)
        return Debrief(self.scenario.id, self.scenario.title, self.started_at, timeline, checklist)

    def _check(self, ex: ExpectedAction, now: float) -> ChecklistItem:
        def item(status: Status, points: int, possible: int, delay: float | None) -> ChecklistItem:
            action = " or ".join(_alternatives(ex.action))
            return ChecklistItem(ex.label, action, status, points, possible, delay)

        start = self.entered.get(ex.after)
        taken = [] if start is None else [
            at for at, action in self.actions if at >= start and _matches(ex.action, action)
        ]  # fmt: skip
        delay = taken[0] - start if taken and start is not None else None
        if ex.avoid:
            if delay is not None:
                return item("not avoided", -ex.points, 0, delay)
            return item("avoided", 0, 0, None)
        if start is None:  # the state never came: nothing to score
            return item("not reached", 0, 0, None)
        if delay is not None:
            on_time = delay <= ex.within_s
            return item("done" if on_time else "late", ex.points if on_time else ex.points // 2,
                        ex.points, delay)  # fmt: skip
        return item("missed" if now - start > ex.within_s else "pending", 0, ex.points, None)


def _matches(wanted: str | list[str], action: str) -> bool:
    """Any of the alternatives; `give` matches any drug, `give:midazolam` only that one."""
    return any(
        action == w or (":" not in w and action.split(":", 1)[0] == w)
        for w in _alternatives(wanted)
    )
