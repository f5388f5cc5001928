"""The bed page's infusion-session workflow: create, baseline, start, infuse, assess, recover,
discharge, close.

Every form is always in the layout; the session phase (a class on the panel) decides which
sections show, so each command callback always finds its fields.
"""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, ctx, html, no_update

from monitor.domain.regimens import REGIMENS, plan_with_regimen
from monitor.feed import CommandError, LiveFeed
from monitor.session import INDICATIONS, INTERVENTIONS, Phase, SessionView
from monitor.ui.auth import Access
from monitor.ui.form_errors import FIELDS, field_errors
from monitor.ui.session_text import info_texts

MEDICATIONS = ("ondansetron", "midazolam", "labetalol", "clonidine", "other")
SCALE_OPTIONS = {
    "RASS": [str(v) for v in range(4, -6, -1)],
    "MOAA_S": [str(v) for v in range(5, -1, -1)],
    "NAUSEA": [str(v) for v in range(0, 4)],
    "PAIN_NRS": [str(v) for v in range(0, 11)],
}
COMMANDS = (
    "s-create",
    "s-baseline",
    "s-start",
    "s-rate",
    "s-pause",
    "s-resume",
    "s-stop",
    "s-bolus",
    "s-med",
    "s-reassure",
    "s-oxygen",
    "s-airway",
    "s-help",
    "s-assess",
    "s-discharge",
    "s-close",
)
MANUAL_ITEMS_ID = "s-ticked"
RESCUE = {
    "s-reassure": "reassure",
    "s-oxygen": "oxygen",
    "s-airway": "airway_support",
    "s-help": "call_for_help",
}


def _select(ident: str, label: str, options: list[str], width: int = 110) -> dmc.Select:
    return dmc.Select(id=ident, label=label, data=options, size="lg", w=width, clearable=True)


def _number(ident: str, label: str, width: int, **kw: Any) -> dmc.NumberInput:
    # never clamp: a value outside its range is refused with its range, and kept as typed
    return dmc.NumberInput(id=ident, label=label, size="lg", w=width, clampBehavior="none", **kw)


def _text(ident: str, label: str, width: int) -> dmc.TextInput:
    return dmc.TextInput(id=ident, label=label, size="lg", w=width)


def _button(ident: str, label: str, color: str = "blue", variant: str = "filled") -> dmc.Button:
    return dmc.Button(label, id=ident, size="lg", color=color, variant=variant)


def panel(
    view: SessionView | None,
    checklist: list[Any],
    patient: str = "",
    pre: list[tuple[str, str]] | None = None,
) -> html.Div:
    phase = view.phase if view else None
    return html.Div(
        [
            html.H3("Infusion session", className="section-title"),
            html.Div(info_lines(view, checklist, patient), id="s-info", className="session-info"),
            html.Div(
                [
                    dmc.Group(
                        [
                            dmc.TextInput(
                                id="s-patient", label="Patient (pseudonym)", size="lg", w=200
                            ),
                            _number("s-weight", "Weight (kg)", 150, min=20, max=300, step=0.5),
                            dmc.Select(
                                id="s-indication",
                                label="Indication",
                                size="lg",
                                w=220,
                                data=list(INDICATIONS),
                            ),
                            dmc.Select(
                                id="s-regimen",
                                label="Regimen",
                                size="lg",
                                w=330,
                                data=[{"value": k, "label": r.label} for k, r in REGIMENS.items()],
                            ),
                            _number(
                                "s-plan-rate",
                                "Rate (mg/kg/h)",
                                170,
                                min=0.01,
                                max=2,
                                step=0.05,
                                decimalScale=3,
                            ),
                            _number("s-conc", "Concentration (mg/mL)", 200, min=0.1, max=100),
                            _number("s-duration", "Duration (min)", 160, min=5, max=720),
                            _button("s-create", "Create session", "green"),
                        ],
                        align="flex-end",
                    ),
                    html.Div(id="s-plan-hint", className="form-status"),  # the series' plan
                ],
                className="sec sec-create",
            ),
            html.Div(
                [
                    dmc.CheckboxGroup(
                        id="s-pre",
                        label="Before the start",
                        size="lg",
                        children=dmc.Group(
                            [dmc.Checkbox(label=lbl, value=k) for k, lbl in pre or []]
                        ),
                    ),
                    dmc.Group(
                        [
                            _button("s-baseline", "Confirm baseline"),
                            _text("s-override", "Override reason (physician)", 340),
                            _button("s-start", "Start infusion", "green"),
                        ],
                        align="flex-end",
                        mt="sm",
                    ),
                ],
                className="sec sec-pre",
            ),
            html.Div(
                [
                    dmc.Group(
                        [
                            _number(
                                "s-new-rate",
                                "New rate (mg/kg/h)",
                                190,
                                min=0.01,
                                max=2,
                                step=0.05,
                                decimalScale=3,
                            ),
                            _button("s-rate", "Change rate"),
                            _button("s-pause", "Pause infusion", "violet", "outline"),
                            _button("s-resume", "Resume", "green"),
                            _button("s-stop", "Stop infusion", "red"),
                        ],
                        align="flex-end",
                    ),
                    dmc.Group(
                        [
                            _number(
                                "s-bolus-dose",
                                "Bolus (mg/kg)",
                                150,
                                min=0.01,
                                max=0.5,
                                step=0.05,
                                decimalScale=3,
                            ),
                            _button("s-bolus", "Give bolus", "grape"),
                            dmc.Select(
                                id="s-med-drug",
                                label="Medication",
                                size="lg",
                                w=200,
                                data=list(MEDICATIONS),
                            ),
                            dmc.TextInput(
                                id="s-med-dose", label="Dose and route", size="lg", w=200
                            ),
                            _button("s-med", "Record medication", "grape", "outline"),
                        ],
                        align="flex-end",
                        mt="sm",
                    ),
                    dmc.Group(
                        [
                            _button("s-reassure", "Reassure", "cyan", "outline"),
                            _button("s-oxygen", "Oxygen on", "cyan", "outline"),
                            _button("s-airway", "Airway support", "cyan", "outline"),
                            _button("s-help", "Call for help", "red", "outline"),
                        ],
                        mt="sm",
                    ),
                ],
                className="sec sec-infusing",
            ),
            html.Div(
                [
                    html.Div("", id="s-due", className="assessment-due"),
                    dmc.Group(
                        [
                            _select("s-rass", "RASS", SCALE_OPTIONS["RASS"]),
                            _select("s-moaas", "MOAA/S", SCALE_OPTIONS["MOAA_S"]),
                            *[
                                _select(
                                    f"s-cadss-{i}", f"CADSS {n}", [str(v) for v in range(5)], 100
                                )
                                for i, n in enumerate((1, 2, 6, 7, 15, 22))
                            ],
                            _select("s-nausea", "Nausea", SCALE_OPTIONS["NAUSEA"]),
                            _select("s-pain", "Pain NRS", SCALE_OPTIONS["PAIN_NRS"]),
                        ],
                        align="flex-end",
                    ),
                    dmc.Group(
                        [
                            dmc.Textarea(
                                id="s-note",
                                label="Patient experience (free text)",
                                size="md",
                                w=520,
                                autosize=True,
                                minRows=1,
                            ),
                            _button("s-assess", "Save assessment", "cyan"),
                        ],
                        align="flex-end",
                        mt="sm",
                    ),
                ],
                className="sec sec-assess",
            ),
            html.Div(
                [
                    dmc.CheckboxGroup(
                        id=MANUAL_ITEMS_ID,
                        label="Discharge checklist (the rest is computed)",
                        size="lg",
                        children=dmc.Stack(
                            [
                                dmc.Checkbox(label=i.label, value=i.key)
                                for i in checklist
                                if not i.computed
                            ]
                        ),
                    ),
                    dmc.Group(
                        [
                            _text("s-discharge-override", "Override reason (physician)", 340),
                            _button("s-discharge", "Discharge", "green"),
                        ],
                        align="flex-end",
                        mt="sm",
                    ),
                ],
                className="sec sec-recovery",
            ),
            html.Div(
                [
                    dmc.Group(
                        [
                            _text("s-close-reason", "Reason (needed before discharge)", 340),
                            _button("s-close", "Close record", "gray", "outline"),
                        ],
                        align="flex-end",
                    ),
                ],
                className="sec sec-close",
            ),
            html.Div("", id="s-msg", className="form-msg", role="status"),
        ],
        id="session-panel",
        className=panel_class(phase),
    )


def panel_class(phase: Phase | None) -> str:
    return f"session-form phase-{phase.value if phase else 'none'}"


def _clock(t: float | None) -> str:
    return time.strftime("%H:%M", time.localtime(t)) if t else ""


def info_lines(
    view: SessionView | None, checklist: list[Any] | None = None, patient: str = ""
) -> list[html.Div]:
    """The session's derived state, as text (patient text is never rendered as HTML);
    `patient` is the pseudonym shown for the session's patient reference."""
    return [
        html.Div(text, className=cls or None) for text, cls in info_texts(view, checklist, patient)
    ]


def due_text(view: SessionView | None, now: float) -> str:
    if view is None or view.assessment_due is None:
        return ""
    if now >= view.assessment_due:
        return f"Assessment due since {_clock(view.assessment_due)}"
    return f"Next assessment due at {_clock(view.assessment_due)}"


def view_signature(view: SessionView | None, now: float, checklist: list[Any]) -> str:
    return repr((view, due_text(view, now), checklist))


def register(app: Dash, feed: LiveFeed, access: Access) -> None:
    @access.callback(
        app,
        "session",
        Output("s-msg", "children"),
        Output("s-msg", "className"),
        *[Output(f, "error") for f in FIELDS],
        *[Input(c, "n_clicks") for c in COMMANDS],
        State("bed-cursor", "data"),
        State("s-patient", "value"),
        State("s-weight", "value"),
        State("s-indication", "value"),
        State("s-regimen", "value"),
        State("s-plan-rate", "value"),
        State("s-conc", "value"),
        State("s-duration", "value"),
        State("s-pre", "value"),
        State("s-override", "value"),
        State("s-new-rate", "value"),
        State("s-bolus-dose", "value"),
        State("s-med-drug", "value"),
        State("s-med-dose", "value"),
        State("s-rass", "value"),
        State("s-moaas", "value"),
        *[State(f"s-cadss-{i}", "value") for i in range(6)],
        State("s-nausea", "value"),
        State("s-pain", "value"),
        State("s-note", "value"),
        State(MANUAL_ITEMS_ID, "value"),
        State("s-discharge-override", "value"),
        State("s-close-reason", "value"),
        prevent_initial_call=True,
    )
    def command(*args: Any) -> tuple[Any, ...]:
        """The message under the panel, and the same refusal beside its field."""
        message, cls = act(*args)
        if message is no_update:
            return (no_update, no_update, *([no_update] * len(FIELDS)))
        return (message, cls, *field_errors(message, cls, str(ctx.triggered_id)))

    def act(*args: Any) -> tuple[Any, Any]:
        (
            cursor,
            patient,
            weight,
            indication,
            regimen,
            plan_rate,
            conc,
            duration,
            pre_ticked,
            override,
            rate,
            bolus,
            drug,
            drug_dose,
            rass,
            moaas,
            *rest,
        ) = args[len(COMMANDS) :]
        cadss, (nausea, pain, note, ticked, discharge_override, close_reason) = rest[:6], rest[6:]
        bed = cursor["bed"]
        which = ctx.triggered_id
        try:
            overriding = which in ("s-start", "s-rate", "s-bolus") and override
            if overriding or (which == "s-discharge" and discharge_override):
                access.require("override")  # overriding a gate or a guard: a physician
            role = access.acting_role()
            if which == "s-create":
                typed = {
                    "patient_ref": patient,
                    "weight_kg": weight,
                    "indication": indication,
                    "planned_rate_mg_kg_h": plan_rate,
                    "concentration_mg_ml": conc,
                    "planned_duration_min": duration,
                }
                plan = plan_with_regimen(typed, regimen)
                feed.session_command(bed, "create", access.user(), plan=plan)
                return "Session created: confirm the baseline next.", "form-msg ok"
            if which == "s-baseline":
                values = feed.session_command(bed, "baseline", access.user())
                return f"Baseline confirmed: {_words(values)}", "form-msg ok"
            if which == "s-start":
                feed.session_command(
                    bed,
                    "start",
                    access.user(),
                    override_reason=override or "",
                    ticked=pre_ticked or [],
                    role=role,
                )
                return "Infusion started.", "form-msg ok"
            if which == "s-rate":
                feed.session_command(
                    bed,
                    "rate",
                    access.user(),
                    rate_mg_kg_h=form_number(rate, "new rate"),
                    override_reason=override or "",
                    role=role,
                )
                return f"Rate changed to {form_number(rate, 'rate'):g} mg/kg/h.", "form-msg ok"
            if which in ("s-pause", "s-resume", "s-stop"):
                feed.session_command(bed, which[2:], access.user())
                return {
                    "s-pause": "Infusion paused.",
                    "s-resume": "Infusion resumed.",
                    "s-stop": "Infusion stopped: recovery.",
                }[which], "form-msg ok"
            if which == "s-bolus":
                dose = form_number(bolus, "bolus")
                feed.session_command(
                    bed,
                    "bolus",
                    access.user(),
                    mg_per_kg=dose,
                    override_reason=override or "",
                    role=role,
                )
                return "Bolus recorded.", "form-msg ok"
            if which == "s-med":
                feed.session_command(
                    bed, "medication", access.user(), drug=drug or "", dose=drug_dose or ""
                )
                return f"{drug} recorded.", "form-msg ok"
            if which in RESCUE:
                feed.session_command(bed, "intervention", access.user(), what=RESCUE[which])
                return f"{INTERVENTIONS[RESCUE[which]]}: recorded.", "form-msg ok"
            if which == "s-assess":
                scores = feed.session_command(
                    bed,
                    "assess",
                    access.user(),
                    scores={
                        "RASS": rass,
                        "MOAA_S": moaas,
                        "NAUSEA": nausea,
                        "PAIN_NRS": pain,
                        "CADSS6_ITEMS": cadss,
                        "note": note,
                    },
                )
                return f"Assessment saved: {_words(scores)}", "form-msg ok"
            if which == "s-discharge":
                feed.session_command(
                    bed,
                    "discharge",
                    access.user(),
                    ticked=ticked or [],
                    override_reason=discharge_override or "",
                    role=role,
                )
                return "Discharged: close the record when the patient has left.", "form-msg ok"
            if which == "s-close":
                feed.session_command(bed, "close", access.user(), reason=close_reason or "")
                return "Session closed.", "form-msg ok"
        except CommandError as err:
            return str(err), "form-msg error"
        return no_update, no_update


def _words(values: Any) -> str:
    """Scores or values as "RASS 0, CADSS6 4", never a Python dict."""
    if isinstance(values, dict):
        return ", ".join(
            f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
        )
    return str(values)


def form_number(value: Any, what: str) -> float:
    """A number typed into a form field, or a CommandError naming the field."""
    if value is None or value == "":
        raise CommandError(f"enter the {what}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CommandError(f"the {what} must be a number") from None
