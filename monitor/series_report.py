"""The one-page series summary for the referring physician: a pain and dose chart, the
session table, adverse events and the current plan, printed to PDF like the session record.

It is a filing document, so it names the patient by reference (the screens show only the
pseudonym). All text goes through html.escape."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

from monitor.record_words import clock  # noqa: E402
from monitor.report import print_pdf  # noqa: E402
from monitor.series import PGIC, Plan  # noqa: E402
from monitor.series_rows import SeriesRow  # noqa: E402
from monitor.signals import colour  # noqa: E402

TABLE_HEAD = ("date", "indication", "planned", "given", "min", "pain before/end",
              "follow-up pain", "ΔSBP", "ΔHR", "CADSS-6", "RASS", "alarms H/M")  # fmt: skip


def table_cells(row: SeriesRow) -> list[str]:
    s = row.summary

    def opt(v: float | int | None, fmt: str = "{}") -> str:
        return "–" if v is None else fmt.format(v)

    return [
        datetime.fromtimestamp(row.info.started_at).strftime("%Y-%m-%d"),
        row.info.indication,
        opt(s.planned_mg_kg, "{:.2f}"),
        f"{s.dose_mg_kg:.2f}",
        f"{s.infusion_minutes:.0f}",
        f"{opt(s.pain_before)} / {opt(s.pain_end)}",
        ", ".join(f"{f.pain_nrs} ({f.days_after:g} d)" for f in row.follow_ups) or "–",
        opt(s.peak_delta_sbp, "{:+.0f}"),
        opt(s.peak_delta_hr, "{:+.0f}"),
        opt(s.peak_cadss6),
        opt(s.worst_rass, "{:+d}"),
        f"{s.alarms_by_priority.get('HIGH', 0)}/{s.alarms_by_priority.get('MEDIUM', 0)}",
    ]


def adverse_events(rows: Sequence[SeriesRow]) -> list[str]:
    """What went wrong or was felt, session by session, in words."""
    out = []
    for r in rows:
        day = datetime.fromtimestamp(r.info.started_at).strftime("%Y-%m-%d")
        s, found = r.summary, []
        if s.worst_nausea:
            found.append(f"nausea {s.worst_nausea}/3")
        found += [f"antiemetic {a}" for a in r.antiemetics]
        high = s.alarms_by_priority.get("HIGH", 0)
        if high:
            found.append(f"{high} HIGH alarm{'s' * (high != 1)}")
        if s.overrides:
            found.append(f"{s.overrides} override{'s' * (s.overrides != 1)}")
        for f in r.follow_ups:
            if f.side_effects or f.note:
                said = ", ".join(f.side_effects) + (f": {f.note}" if f.note else "")
                found.append(f"after {f.days_after:g} d: {said}")
        if found:
            out.append(f"{day}: " + "; ".join(found))
    return out


def series_chart_svg(rows: Sequence[SeriesRow]) -> str:
    """Pain NRS (before, at the end, at follow-up) and the dose given, each session marked."""
    fig, pain = plt.subplots(figsize=(9.5, 3.2))
    days = [datetime.fromtimestamp(r.info.started_at) for r in rows]
    red, purple = colour("PAIN_NRS", printed=True), colour("DOSE", printed=True)
    before = [r.summary.pain_before for r in rows]
    end = [r.summary.pain_end for r in rows]
    pain.plot(days, [float("nan") if v is None else v for v in before], "o-", color=red,
              label="pain before")  # fmt: skip
    pain.plot(days, [float("nan") if v is None else v for v in end], "s--", color=red,
              alpha=0.6, label="pain at the end")  # fmt: skip
    follow = [(datetime.fromtimestamp(f.t), f.pain_nrs) for r in rows for f in r.follow_ups]
    if follow:
        pain.plot(*zip(*follow, strict=True), "x", color=red, label="pain at follow-up")
    pain.set_ylim(-0.5, 10.5)
    pain.set_ylabel("pain NRS (0-10)")
    dose = pain.twinx()
    dose.bar(days, [r.summary.dose_mg_kg for r in rows], width=2.0, color=purple, alpha=0.35,
             label="dose given (mg/kg)")  # fmt: skip
    dose.set_ylabel("mg/kg")
    for d in days:
        pain.axvline(d, color="#9e9e9e", linewidth=0.4)
    pain.legend(loc="upper left", fontsize=7)
    dose.legend(loc="upper right", fontsize=7)
    fig.autofmt_xdate()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def series_html(rows: Sequence[SeriesRow], plan: Plan | None, reference: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in TABLE_HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in table_cells(r)) + "</tr>"
        for r in rows
    )
    events = (
        "".join(f"<li>{html.escape(e)}</li>" for e in adverse_events(rows))
        or "<li>Nothing recorded.</li>"
    )
    last = rows[-1].follow_ups[-1] if rows and rows[-1].follow_ups else None
    relief = (
        f"Last follow-up: pain {last.pain_nrs}/10, {last.relief_days} days of relief, "
        f"PGIC {last.pgic} ({PGIC[last.pgic]})."
        if last
        else "No follow-up after the last infusion yet."
    )
    planned = (
        f"Next infusion {clock(plan.due_from)[:10]} to {clock(plan.due_by)[:10]} "
        f"(every {plan.interval_min_days}-{plan.interval_max_days} days), by {plan.user}: "
        f"{plan.note or 'no note'}"
        if plan
        else "No plan recorded."
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Infusion series</title>
<style>@page{{size:A4;margin:10mm}}body{{font-family:sans-serif;font-size:9.5px;margin:0}}
table{{border-collapse:collapse;margin:4px 0 8px}}td,th{{border:1px solid #bbb;padding:1px 4px;
text-align:left}}h1{{font-size:15px;margin:0 0 4px}}h2{{font-size:12px;margin:8px 0 2px}}
svg{{width:100%;height:auto}}ul{{margin:2px 0;padding-left:16px}}</style></head><body>
<h1>Ketamine infusion series · patient {html.escape(reference)}</h1>
<p>{len(rows)} infusions, {html.escape(clock(rows[0].info.started_at)[:10] if rows else "")}
to {html.escape(clock(rows[-1].info.started_at)[:10] if rows else "")}. {html.escape(relief)}</p>
{series_chart_svg(rows) if rows else ""}
<h2>Sessions</h2><table><tr>{th}</tr>{body}</table>
<h2>Adverse events and side effects</h2><ul>{events}</ul>
<h2>Current plan</h2><p>{html.escape(planned)}</p>
<p>Doses in mg/kg; pain on the 0-10 numeric rating scale; ΔSBP and ΔHR are the peaks above
the confirmed baseline. Prepared from the station's session records; thresholds are the
clinic's configured defaults, not medical advice.</p>
</body></html>"""


def write_series_pdf(
    rows: Sequence[SeriesRow], plan: Plan | None, reference: str, out: Path
) -> Path:
    return print_pdf(series_html(rows, plan, reference), out)
