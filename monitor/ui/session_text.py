"""The session in words: the bed page's session line and the panel's state, shared by the
page as first drawn and the live push (plain text; patient text is never rendered as HTML)."""

from __future__ import annotations

import time
from typing import Any

from monitor.model import SessionInfo
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
    if view.phase is not Phase.PRE_INFUSION:
        lines.append(
            (
                f"Rate {view.rate_mg_kg_h:g} mg/kg/h ({view.rate_ml_h:g} mL/h) · dose "
                f"{view.dose_mg:g} mg ({view.dose_mg_kg:g} mg/kg)",
                "",
            )
        )
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
