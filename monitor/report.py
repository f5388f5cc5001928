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
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

from monitor.config import AlarmRule  # noqa: E402
from monitor.ports import ReviewSource  # noqa: E402
from monitor.review import (  # noqa: E402
    ALARM_COLUMNS,
    alarm_cells,
    load_record,
    summarize,
    summary_items,
    when,
    window,
)

PANELS = (("HR", "PR"), ("SPO2",), ("NIBP_SYS", "NIBP_MEAN", "NIBP_DIA"), ("RR", "ETCO2"))
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


class ReportError(Exception):
    pass


def _svg_trends(store: ReviewSource, session_id: int) -> str:
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 7), sharex=True)
    for ax, signals in zip(axes, PANELS, strict=True):
        for signal in signals:
            w = window(store, session_id, signal, n_out=1500)
            if w.raw_points:
                ax.plot((w.t - w.t[0]) / 60 if len(w.t) else w.t, w.v, lw=0.8, label=signal)
        ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("minutes from the first reading of each signal")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


def _table(head: list[str], rows: list[list[object]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def session_html(store: ReviewSource, session_id: int, rules: list[AlarmRule]) -> str:
    record = load_record(store, session_id)
    info, events = record.info, record.events
    summary = summarize(store, session_id, rules, record)
    steps = [
        [when(e.t), e.kind, e.user, ", ".join(f"{k}: {v}" for k, v in e.payload.items())]
        for e in events
        if not e.kind.startswith(("alarm_", "device_"))
    ]
    assessments = [
        [when(e.t), e.user, e.payload.get("scores"), e.payload.get("note", "")]
        for e in events
        if e.kind == "assessment"
    ]
    alarm_rows: list[list[object]] = [list(alarm_cells(r)) for r in record.alarms]
    summary_rows: list[list[object]] = [list(item) for item in summary_items(summary)]
    title = f"Session {session_id} record"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;font-size:11px;margin:18px}}table{{border-collapse:collapse;
margin:6px 0 14px}}td,th{{border:1px solid #bbb;padding:2px 6px;text-align:left}}
h1{{font-size:18px}}h2{{font-size:14px;margin-top:18px}}.sim{{color:#6a1b9a;font-weight:bold}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Bed {html.escape(info.bed)} · patient {html.escape(info.patient_ref or "not given")} ·
{html.escape(info.indication or "")} · {html.escape(info.regimen or "")} ·
{when(info.started_at)} to {when(info.ended_at)}</p>
{'<p class="sim">SIMULATION: not a patient</p>' if info.source == "simulated" else ""}
<p>Secondary display record. Alarm limits are the clinic's configured defaults; Cp/Ce values
are model estimates.</p>
<h2>Summary</h2>{_table(["item", "value"], summary_rows)}
<h2>Trends</h2>{_svg_trends(store, session_id)}
<h2>Events</h2>{_table(["time", "event", "user", "detail"], steps)}
<h2>Assessments</h2>{_table(["time", "user", "scores", "patient experience"], assessments)}
<h2>Alarms</h2>{
        _table(
            list(ALARM_COLUMNS),
            alarm_rows,
        )
    }
</body></html>"""


def chromium() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("PDF export needs Chromium (Debian package chromium)")


def write_pdf(store: ReviewSource, session_id: int, rules: list[AlarmRule], out: Path) -> Path:
    return print_pdf(session_html(store, session_id, rules), out)


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
