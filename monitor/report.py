"""The printable session record: an HTML report (trends, events, assessments, alarms and the
summary), turned into PDF by headless Chromium's print-to-PDF.

Trends are drawn with matplotlib as inline SVG, so the page needs nothing from the network.
All text goes through html.escape: patient-entered text is never markup.
"""

from __future__ import annotations

import html
import io
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from monitor.config import AlarmRule
from monitor.ports import ReviewSource
from monitor.record_review import outcome, review_status
from monitor.record_tables import record_tables
from monitor.record_words import clock
from monitor.review import (
    ALARM_COLUMNS,
    SessionRecord,
    alarm_cells,
    load_record,
    pk_curve,
    summarize,
    summary_items,
    window,
    with_breaks,
)
from monitor.session import SessionEvent, rate_steps
from monitor.session_config import SessionConfig
from monitor.signals import REGISTRY, colour, label

PANELS = (("HR", "PR"), ("SPO2",), ("NIBP_SYS", "NIBP_MEAN", "NIBP_DIA"), ("RR", "ETCO2"))
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


class ReportError(Exception):
    pass


def _local(t: np.ndarray) -> np.ndarray:
    """Epoch seconds as matplotlib dates on the local clock (the offset at the first time;
    NaN, a break in a line, stays NaN)."""
    first = float(np.nanmin(t)) if len(t) and not np.isnan(t).all() else 0.0
    offset = datetime.fromtimestamp(first).astimezone().utcoffset() or timedelta(0)
    return (t + offset.total_seconds()) / 86400.0


def _svg_trends(store: ReviewSource, record: SessionRecord, session: SessionConfig) -> str:
    """Trends on one clock-time axis in the registry's print colours, then the rate with the
    Cp/Ce model estimate; lines break where the data does."""
    # matplotlib (about a second to import) only when a report is drawn, not at start-up
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    session_id = record.info.id
    fig, axes = plt.subplots(len(PANELS) + 1, 1, figsize=(10, 9), sharex=True)
    for ax, signals in zip(axes, PANELS, strict=False):
        units = set()
        for code in signals:
            w = window(store, session_id, code, n_out=1500)
            if not w.raw_points:
                continue
            t, v = with_breaks(w.t, w.v, w.breaks)
            style = "o-" if REGISTRY[code].intermittent else "-"
            ax.plot(_local(t), v, style, ms=2, lw=0.9, color=colour(code, True), label=label(code))
            units.add(REGISTRY[code].unit)
        ax.set_ylabel(" ".join(sorted(units)), fontsize=8)
        if ax.lines:
            ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    _dose_panel(axes[-1], record, session)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes[-1].set_xlabel("local time")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


def _dose_panel(ax: Any, record: SessionRecord, session: SessionConfig) -> None:
    events = [SessionEvent(e.t, e.kind, e.user, e.payload) for e in record.events]
    steps = rate_steps(events)
    if not steps:
        ax.set_ylabel("mg/kg/h", fontsize=8)
        return
    end = record.end
    xs = np.array([t for t, _, _ in steps] + [end], dtype=np.float64)
    ys = [r for _, r, _ in steps] + [steps[-1][1]]
    ax.step(_local(xs), ys, where="post", color="#5e35b1", lw=1.2, label="Rate mg/kg/h")
    ax.set_ylabel("mg/kg/h", fontsize=8)
    curve = pk_curve(events, record.info.weight_kg, end, session)
    if curve:
        conc = ax.twinx()
        ct = _local(np.array([t for t, _, _ in curve], dtype=np.float64))
        conc.plot(ct, [cp for _, cp, _ in curve], color="#8e24aa", lw=0.9, label="Cp (model)")
        conc.plot(ct, [ce for _, _, ce in curve], color="#00897b", lw=0.9, label="Ce (model)")
        conc.set_ylabel("ng/mL (model)", fontsize=8)
        conc.legend(loc="upper right", fontsize=7)
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3)


def _table(head: Sequence[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def _review_words(record: SessionRecord) -> str:
    status = review_status(record.events)
    words = status.line
    if status.signed and status.signed.payload.get("comment"):
        words += f" · comment: {status.signed.payload['comment']}"
    if status.in_error:
        words += f" · reason: {status.in_error.payload.get('reason', '')}"
    return words


def session_html(
    store: ReviewSource,
    session_id: int,
    rules: list[AlarmRule],
    session: SessionConfig | None = None,
) -> str:
    """Page one: who, when, the outcome and the summary. Then the trends with the dose
    panel, then every table of the record."""
    record = load_record(store, session_id)
    info = record.info
    summary = summarize(store, session_id, rules, record)
    summary_rows = [list(item) for item in summary_items(summary)]
    tables = "".join(
        f"<h2>{html.escape(t.title)}</h2>"
        + (_table(t.head, t.rows) if t.rows else "<p>Nothing recorded.</p>")
        for t in record_tables(record.events)
    )
    alarms = _table(ALARM_COLUMNS, [alarm_cells(r) for r in record.alarms])
    title = f"Session {session_id} record"
    weight = f"{info.weight_kg:g} kg" if info.weight_kg else "weight not recorded"
    trends = _svg_trends(store, record, session or SessionConfig())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;font-size:11px;margin:18px}}table{{border-collapse:collapse;
margin:6px 0 14px}}td,th{{border:1px solid #bbb;padding:2px 6px;text-align:left}}
h1{{font-size:18px}}.review{{font-weight:bold}}h2{{font-size:14px;margin-top:18px}}.sim{{color:#6a1b9a;font-weight:bold}}
.page{{break-before:page}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Bed {html.escape(info.bed)} · patient {html.escape(info.patient_ref or "not given")} ·
{weight} · {html.escape(info.indication or "indication not recorded")} ·
{html.escape(info.regimen or "regimen not recorded")}</p>
<p>From {clock(info.started_at)} to {clock(info.ended_at) or "still open"} ·
outcome: {html.escape(outcome(info, record.events))}</p>
<p class="review">Review: {html.escape(_review_words(record))}</p>
{'<p class="sim">SIMULATION: not a patient</p>' if info.source == "simulated" else ""}
<p>Secondary display record. Alarm limits are the clinic's configured defaults, not medical
advice; Cp/Ce values are model estimates.</p>
<h2>Summary</h2>{_table(["item", "value"], summary_rows)}
<div class="page"><h2>Trends</h2>{trends}</div>
<div class="page">{tables}<h2>Alarms</h2>{alarms}</div>
</body></html>"""


def chromium() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("PDF export needs Chromium (Debian package chromium)")


def write_pdf(
    store: ReviewSource,
    session_id: int,
    rules: list[AlarmRule],
    out: Path,
    session: SessionConfig | None = None,
) -> Path:
    return print_pdf(session_html(store, session_id, rules, session), out)


def print_pdf(page: str, out: Path) -> Path:
    """Print an HTML page to `out` with headless Chromium (session records, debriefs)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "record.html"
        source.write_text(page, encoding="utf-8")
        cmd = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out.resolve()}",
            source.as_uri(),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise ReportError(f"Chromium could not print the record: {err}") from None
    if not out.exists() or out.stat().st_size == 0:
        raise ReportError("Chromium wrote no PDF")
    return out
