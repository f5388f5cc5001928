"""Getting sessions in and out of the session log: CSV import, and CSV, Parquet, VitalDB
`.vital` and HL7 v2.6 ORU^R01 exports.

Formats and codes: ../shared/design/protocols.md §4 (.vital) and simulator-and-scale.md §3
(ORU^R01 in IHE PCD-01 style, MDC codes and units from the signal registry).
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dateutil.tz

from monitor.config import AlarmRule
from monitor.files import make_private, private_folder
from monitor.model import SessionInfo, Source
from monitor.ports import ReviewSource
from monitor.record_words import iso_time, step_words
from monitor.replay import read_readings
from monitor.report import ReportError, write_pdf
from monitor.signals import REGISTRY, WAVEFORMS, check_reading
from monitor.storage.sqlite import SessionStore

if TYPE_CHECKING:  # pandas, pyarrow and vitaldb (about a second) load on the first export
    import pandas as pd

FORMATS = ("csv", "parquet", "vital", "hl7", "pdf")
# Exports that file a record or feed other clinical systems: a simulated session is refused
# unless asked for, so training data cannot enter a patient's record by accident.
CLINICAL_FORMATS = ("vital", "hl7", "pdf")
SIMULATED_MARK = "SIMULATED SESSION: not a patient"
Progress = Callable[[float], None]  # fraction done, 0-1
# UCUM units for HL7 OBX-6 (simulator-and-scale.md §3.1)
UCUM = {"/min": "/min", "%": "%", "mmHg": "mm[Hg]", "°C": "Cel"}
VITAL_DEVICE = "Monitor"


class ExportError(Exception):
    """An export or import that cannot be done; one line for the operator."""


@dataclass
class ImportResult:
    session_id: int
    readings: int
    skipped: Counter[str] = field(default_factory=Counter)


def import_readings(
    store: SessionStore, path: Path, bed: str, source: Source, user: str
) -> ImportResult:
    """Store a `time,signal,value,unit` CSV as a new, closed session of `bed`."""
    rows: list[tuple[float, str, float]] = []
    skipped: Counter[str] = Counter()
    with path.open(encoding="utf-8", newline="") as f:
        for t, signal, value, unit in read_readings(f, str(path)):
            reason = check_reading(signal, unit, value, t)
            if reason is None:
                rows.append((t, signal, value))
            else:
                skipped[reason] += 1
    if not rows:
        raise ExportError(f"{path}: no valid readings to import")
    start, end = min(r[0] for r in rows), max(r[0] for r in rows)
    plan = {
        "weight_kg": 0.0,
        "planned_rate_mg_kg_h": 0.0,
        "regimen": f"imported from {path.name}",
        "patient_ref": "",
        "indication": "",
        "concentration_mg_ml": 0.0,  # readings only: no drug was planned or given
    }
    session = store.create_session(bed, source, start, plan, user)
    store.append_many(session.id, rows)
    store.close_session(session.id, end, user, {"imported": path.name, "skipped": dict(skipped)})
    return ImportResult(session.id, len(rows), skipped)


def _readings(store: ReviewSource, session_id: int) -> pd.DataFrame:
    import pandas as pd

    rows = store.readings(session_id)
    frame = pd.DataFrame(rows, columns=["time", "signal", "value"])
    frame["unit"] = [REGISTRY[s].unit for s in frame["signal"]]
    return frame


def readings_csv(store: ReviewSource, session_id: int, frame: pd.DataFrame | None = None) -> str:
    """The session's readings as `time,epoch,signal,value,unit` CSV text (export and
    download): the local time in ISO 8601 with its UTC offset, to the millisecond, and the
    epoch seconds for programs. `python -m monitor import` reads it back."""
    import pandas as pd

    frame = _readings(store, session_id) if frame is None else frame
    local = pd.to_datetime(frame["time"], unit="s", utc=True).dt.tz_convert(dateutil.tz.tzlocal())
    out = pd.DataFrame(
        {
            "time": local.map(lambda ts: ts.isoformat(timespec="milliseconds")),
            "epoch": frame["time"],
            "signal": frame["signal"],
            "value": frame["value"],
            "unit": frame["unit"],
        }
    )
    return out.to_csv(
        index=False,
        float_format="%.13g",  # keeps milliseconds of epoch times
        lineterminator="\n",
    )


def export_session(
    store: ReviewSource,
    session_id: int,
    fmt: str,
    out: Path,
    rules: list[AlarmRule] | None = None,
    include_simulated: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write one session in `fmt`; returns the files written. `rules` feed the PDF summary.
    A simulated session goes into a clinical format only with `include_simulated`, and is
    marked as simulated in every format."""
    info = store.session(session_id)  # raises StoreError for an unknown session
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}")
    simulated = info.source == "simulated"
    if simulated and fmt in CLINICAL_FORMATS and not include_simulated:
        raise ExportError(
            f"session {session_id} is simulated: it is left out of {fmt} exports unless"
            " simulated sessions are included explicitly"
        )
    done = progress or (lambda _fraction: None)
    private_folder(out.parent)
    written = [out]
    if fmt == "pdf":  # the record reads what it shows itself
        try:
            write_pdf(store, session_id, rules or [], out)
        except ReportError as err:
            raise ExportError(str(err)) from None
        done(1.0)
        return _private(written)
    frame = _readings(store, session_id)
    done(0.3)
    if fmt == "csv":
        out.write_text(readings_csv(store, session_id, frame), encoding="utf-8")
        events = out.with_name(out.stem + "-events.csv")
        with events.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["time", "epoch", "kind", "user", "detail", "payload"])
            for e in store.events(session_id):
                w.writerow(
                    [
                        iso_time(e.t),
                        f"{e.t:.3f}",
                        e.kind,
                        e.user,
                        step_words(e.kind, e.payload),
                        json.dumps(e.payload, sort_keys=True),
                    ]
                )
        written.append(events)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        marks = {b"session": str(session_id).encode(), b"source": info.source.encode()}
        pq.write_table(table.replace_schema_metadata({**table.schema.metadata, **marks}), out)
    elif fmt == "vital":
        _write_vital(store, session_id, frame, info.started_at, info.ended_at, out, simulated)
    else:
        out.write_text(oru_r01(info, frame, done), encoding="utf-8")
    done(1.0)
    return _private(written)


def _private(written: list[Path]) -> list[Path]:
    """Exports hold the record: owner-only, like the session log."""
    for path in written:
        make_private(path)
    return written


def _write_vital(
    store: ReviewSource,
    session_id: int,
    frame: pd.DataFrame,
    start: float,
    end: float | None,
    out: Path,
    simulated: bool,
) -> None:
    import vitaldb

    vf = vitaldb.VitalFile()
    for signal, group in frame.groupby("signal"):
        sig = REGISTRY[str(signal)]
        recs = [
            {"dt": float(t), "val": float(v)}
            for t, v in zip(group["time"], group["value"], strict=True)
        ]
        vf.add_track(
            f"{VITAL_DEVICE}/{sig.vitaldb_track}",
            recs,
            unit=sig.unit,
            mindisp=sig.low,
            maxdisp=sig.high,
        )
    for code in store.signals(session_id, wave=True):
        wave = store.wave(session_id, code)
        bounds = [*wave.block_start.tolist(), len(wave.v)]
        vf.add_track(
            f"{VITAL_DEVICE}/{WAVEFORMS[code].vitaldb_track}",
            [
                {"dt": float(t), "val": wave.v[a:b]}
                for t, a, b in zip(wave.block_t, bounds, bounds[1:], strict=False)
            ],
            srate=wave.rate_hz,
            unit=WAVEFORMS[code].unit,
            mindisp=0,
            maxdisp=100,
        )
    events = [
        {
            "dt": float(e.t),
            "val": e.kind + (f" {e.payload['alarm']}" if "alarm" in e.payload else ""),
        }
        for e in store.events(session_id)
        if e.kind not in ("device_link",)
    ]
    if simulated:
        events.insert(0, {"dt": float(start), "val": SIMULATED_MARK})
    if events:
        vf.add_track("EVENT", events)
    times = list(frame["time"]) + [e["dt"] for e in events]
    vf.dtstart = min([start, *times])
    vf.dtend = max([end or start, *times]) + 1  # the last 1 Hz sample covers its second
    vf.to_vital(str(out))


def _hl7_time(t: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) + "+0000"


def oru_r01(info: SessionInfo, frame: pd.DataFrame, progress: Progress | None = None) -> str:
    """HL7 v2.6 ORU^R01 in IHE PCD-01 style: one OBX per numeric, with MDC codes and UCUM.
    A simulated session is sent with processing ID T (training) and a note saying so."""
    session_id = info.id
    now = time.time()
    processing = "T" if info.source == "simulated" else "P"
    segments = [
        f"MSH|^~\\&|KETAMINE-MONITOR|{info.bed}|RECEIVER|CLINIC|{_hl7_time(now)}||ORU^R01^ORU_R01"
        f"|S{session_id}-{int(now)}|{processing}|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^"
        "1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        f"PID|||{info.patient_ref or f'SESSION-{session_id}'}^^^CLINIC^PI",
        f"PV1||O|{info.bed}",
        f"OBR|1|S{session_id}^KETAMINE-MONITOR||KETAMINE-SESSION^Ketamine infusion session^L|||"
        f"{_hl7_time(info.started_at)}|{_hl7_time(info.ended_at or now)}",
    ]
    if info.source == "simulated":
        segments.append(f"NTE|1||{SIMULATED_MARK}")
    step = max(1, len(frame) // 50)
    for n, row in enumerate(frame.itertuples(index=False), start=1):
        if progress is not None and n % step == 0:
            progress(0.3 + 0.7 * n / len(frame))
        sig = REGISTRY[row.signal]
        unit = UCUM.get(sig.unit, sig.unit)
        segments.append(
            f"OBX|{n}|NM|{sig.mdc_code}^{sig.mdc_name}^MDC|1.0.0.{n}|{row.value:.10g}|"
            f"{unit}^{unit}^UCUM|||||R|||{_hl7_time(row.time)}"
        )
    return "\r".join(segments) + "\r"
