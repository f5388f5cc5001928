"""The session in words: the bed page's session line and the panel's state, shared by the
page as first drawn and the live push (plain text; patient text is never rendered as HTML)."""

from __future__ import annotations

import time
from typing import Any

from monitor.model import SessionInfo
from monitor.pk import ANALGESIC_BAND, DISSOCIATIVE_BAND
from monitor.session import Phase, SessionView


def header_text(session: SessionInfo | None, view: SessionView | None) -> str:
    if session is None or view is None:
        return "No session running: values are shown live but not recorded."
    started = time.strftime("%H:%M:%S", time.localtime(session.started_at))
    rate = (
        f"planned {view.rate_mg_kg_h:g}"
        if view.phase is Phase.PRE_INFUSION
        else f"{view.rate_mg_kg_h:g}"
    )
    return (
        f"Session {session.id} · {view.phase} {rate} mg/kg/h · "
        f"{session.weight_kg:g} kg · started {started}"
    )


def info_texts(
    view: SessionView | None, checklist: list[Any] | None = None, patient: str = ""
) -> list[tuple[str, str]]:
    """(text, class) lines of the session's derived state; the live push paints the same."""
    if view is None:
        return [("No session: values are shown live but not recorded.", "")]
    lines = [(f"{patient or 'unnamed patient'} · {view.phase}", "")]
    if view.baseline:
        base = ", ".join(f"{k} {v:g}" for k, v in sorted(view.baseline.items()))
        lines.append((f"Baseline: {base}", ""))
    if view.holds:
        lines.append(("HOLD: " + "; ".join(view.holds), "hold"))
    dose = f"dose {view.dose_mg:g} mg ({view.dose_mg_kg:g} mg/kg)"
    if view.phase in (Phase.INFUSING, Phase.PAUSED):
        rate = f"{view.rate_mg_kg_h:g} mg/kg/h ({view.rate_ml_h:g} mL/h)"
        running = "Rate" if view.phase is Phase.INFUSING else "Paused, set rate"
        lines.append((f"{running} {rate} · {dose}", ""))
    elif view.phase is not Phase.PRE_INFUSION:
        lines.append((f"Infusion stopped · {dose}", ""))
    if view.cp_ng_ml is not None:
        lines.append(
            (
                f"Cp {view.cp_ng_ml:.0f} ng/mL · Ce {view.ce_ng_ml:.0f} ng/mL (model estimate; "
                f"analgesic 70-160, dissociative 100-250)",
                "pk-line",
            )
        )
    if view.last_scores:
        scores = ", ".join(f"{k} {v}" for k, v in view.last_scores.items())
        lines.append((f"Last assessment: {scores} ({view.assessments} so far)", ""))
    if view.phase is Phase.RECOVERY and checklist:
        for item in checklist:
            if item.computed:
                mark = "✓" if item.ok else "✗"
                lines.append(
                    (f"{mark} {item.label}: {item.detail}", "check-ok" if item.ok else "check-no")
                )
    return lines


def _mss(seconds: float) -> str:
    m, s = divmod(max(0, round(seconds)), 60)
    return f"{m}:{s:02d}"


def _band(ce: float) -> tuple[str, str]:
    """Where a model Ce sits among the bands of clinical.md §5.2."""
    if ce > DISSOCIATIVE_BAND[1]:
        return f"above the dissociative band ({DISSOCIATIVE_BAND[1]:.0f})", "strip-warn"
    if ce >= DISSOCIATIVE_BAND[0]:
        return "dissociative band", ""
    if ce >= ANALGESIC_BAND[0]:
        return "analgesic band", ""
    return "below the analgesic band", ""


def infusion_strip(view: SessionView | None, now: float) -> list[tuple[str, str, str]]:
    """(label, value, class) of the infusion at a glance, the top line of the bed page: the
    phase, the time since the start (or since the stop), the rate running now, the dose, the
    model Cp/Ce against its band, and the countdown to the next assessment."""
    if view is None:
        return [("Session", "none: values are shown live but not recorded", "strip-idle")]
    phase = view.phase
    items = [("Phase", str(phase), f"strip-phase phase-{phase.value}")]
    started, stopped = view.infusion_started_at, view.infusion_stopped_at
    if phase in (Phase.INFUSING, Phase.PAUSED) and started is not None:
        items.append(("Infusing for", _mss(now - started), ""))
    elif stopped is not None:
        items.append(("Stopped", f"{_mss(now - stopped)} ago · recovery", "strip-stopped"))
    if phase is Phase.INFUSING:
        items.append(("Rate", f"{view.rate_mg_kg_h:g} mg/kg/h · {view.rate_ml_h:g} mL/h", ""))
    elif phase is Phase.PAUSED:
        items.append(("Rate", f"paused (set {view.rate_mg_kg_h:g} mg/kg/h)", "strip-warn"))
    elif phase is Phase.PRE_INFUSION:
        items.append(("Planned", f"{view.rate_mg_kg_h:g} mg/kg/h", ""))
    else:
        items.append(("Rate", "stopped", "strip-stopped"))
    if view.pump_rate_ml_h is not None:  # the pump's own word beside the chart's
        charted = view.rate_ml_h if phase is Phase.INFUSING else 0.0
        off = abs(view.pump_rate_ml_h - charted) > view.pump_mismatch_pct / 100 * max(charted, 0.1)
        items.append(("Pump", f"{view.pump_rate_ml_h:g} mL/h", "strip-warn" if off else ""))
    items.append(("Dose", f"{view.dose_mg:g} mg · {view.dose_mg_kg:.2f} mg/kg", ""))
    if view.ce_ng_ml is not None:
        band, cls = _band(view.ce_ng_ml)
        items.append(("Ce (model)", f"{view.ce_ng_ml:.0f} ng/mL · {band}", cls))
    if view.assessment_due is not None:
        left = view.assessment_due - now
        if left >= 0:
            items.append(("Next assessment", f"in {_mss(left)}", ""))
        else:
            items.append(("Assessment", f"due {_mss(-left)} ago", "strip-due"))
    return items
