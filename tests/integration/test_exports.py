"""Import and export round trips: capture -> import -> CSV -> replay; .vital; HL7 ORU^R01."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import hl7
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import vitaldb
import yaml

from monitor.config import parse_config
from monitor.exports import ExportError, export_session, import_readings
from monitor.model import Waveform
from monitor.replay import read_readings, replay
from monitor.signals import REGISTRY
from monitor.storage.sqlite import SessionStore
from tests.helpers import MINIMAL_RULES, REPO, capture


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """db00.raw decoded by the CLI and imported by the CLI into a fresh session log."""
    tmp = tmp_path_factory.mktemp("imported")
    decoded = _cli("devices", "decode", "--protocol", "datex-s5", str(capture("db00.raw")))
    readings = tmp / "db00.csv"
    readings.write_text(decoded.stdout)
    config = tmp / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "beds": [{"id": "a", "name": "A", "device": {"kind": "simulator"}}],
                "store": {"path": str(tmp / "sessions.db")},
                "alarms": {"rules": MINIMAL_RULES},
            }
        )
    )
    result = _cli("monitor", "import", str(readings), "--bed", "a", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return config, readings, result.stdout.strip().splitlines()[-1]


def test_capture_import_export_csv_replay(imported: tuple[Path, Path, str], tmp_path: Path) -> None:
    config, readings, session = imported
    assert session == "1"
    out = tmp_path / "s1.csv"
    result = _cli(
        "monitor", "export", session, "--format", "csv", "--out", str(out), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    original = list(csv.reader(readings.open()))
    exported = list(csv.reader(out.open()))
    assert original[0] == ["time", "signal", "value", "unit"]
    assert exported[0] == ["time", "epoch", "signal", "value", "unit"]
    for row in exported[1:]:  # local clock time in ISO 8601 with its offset, then the epoch
        local = datetime.fromisoformat(row[0])
        assert local.utcoffset() is not None
        assert local.timestamp() == pytest.approx(float(row[1]), abs=0.001)
    key = sorted  # the store orders by time, then signal
    assert key(tuple(r[1:]) for r in exported[1:]) == key(tuple(r) for r in original[1:])
    rules = parse_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    a, b = io.StringIO(), io.StringIO()
    replay(read_readings(readings.open(), "in"), rules, "x", a)
    replay(read_readings(out.open(), "out"), rules, "x", b)
    # the same transitions (within one second the store orders readings by signal)
    assert sorted(a.getvalue().splitlines()) == sorted(b.getvalue().splitlines())
    assert len(a.getvalue().splitlines()) > 5
    events = list(csv.DictReader(out.with_name("s1-events.csv").open()))
    assert [e["kind"] for e in events] == ["session_created", "session_closed"]


def test_vital_reads_back_with_vitaldb(imported: tuple[Path, Path, str], tmp_path: Path) -> None:
    config, readings, session = imported
    store = SessionStore(yaml.safe_load(config.read_text())["store"]["path"])
    out = tmp_path / "s1.vital"
    export_session(store, int(session), "vital", out)
    vf = vitaldb.VitalFile(str(out))
    names = vf.get_track_names()
    assert "Monitor/HR" in names and "Monitor/PLETH_SPO2" in names and "EVENT" in names
    info = store.session(int(session))
    assert vf.dtstart == pytest.approx(info.started_at) and vf.dtend >= info.ended_at
    frame = vf.to_pandas(["Monitor/HR", "Monitor/PLETH_SPO2"], 1, return_timestamp=True)
    source = pd.read_csv(readings)
    hr = source[source.signal == "HR"]
    got = frame.dropna(subset=["Monitor/HR"])
    assert len(got) == len(hr)
    assert sorted(got["Monitor/HR"]) == sorted(hr["value"])
    store.close()


def test_hl7_parses_with_codes_and_values(imported: tuple[Path, Path, str], tmp_path: Path) -> None:
    config, readings, session = imported
    store = SessionStore(yaml.safe_load(config.read_text())["store"]["path"])
    out = tmp_path / "s1.hl7"
    export_session(store, int(session), "hl7", out)
    message = hl7.parse(out.read_bytes().decode())  # segments end in CR: no newline translation
    assert str(message.segment("MSH")[9]) == "ORU^R01^ORU_R01"
    assert str(message.segment("MSH")[12]) == "2.6"
    obx = message.segments("OBX")
    source = pd.read_csv(readings)
    assert len(obx) == len(source)
    by_code = {s.mdc_code: s for s in REGISTRY.values()}
    first = obx[0]
    sig = by_code[int(str(first[3][0][0]))]
    assert str(first[3][0][2]) == "MDC" and str(first[2]) == "NM"
    row = source.sort_values(["time", "signal"]).iloc[0]
    assert (sig.code, float(str(first[5]))) == (row.signal, row.value)
    units = {str(o[6][0][0]) for o in obx}
    assert units <= {"/min", "%", "mm[Hg]", "Cel"}
    store.close()


def test_bad_requests_are_one_line(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    empty = tmp_path / "empty.csv"
    empty.write_text("time,signal,value,unit\n1,GLUCOSE,5,mmol/L\n")
    with pytest.raises(ExportError, match="no valid readings to import"):
        import_readings(store, empty, "b", "live", "x")
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "beds": [{"id": "a", "name": "A", "device": {"kind": "simulator"}}],
                "store": {"path": str(tmp_path / "s.db")},
                "alarms": {"rules": MINIMAL_RULES},
            }
        )
    )
    result = _cli(
        "monitor",
        "export",
        "42",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x.csv"),
        "--config",
        str(config),
    )
    assert (result.returncode, result.stderr.strip()) == (2, f"{tmp_path}/s.db: no session 42")


def test_pdf_record_has_pages_and_the_session(
    imported: tuple[Path, Path, str], tmp_path: Path
) -> None:
    from pypdf import PdfReader

    config, _, session = imported
    out = tmp_path / "record.pdf"
    result = _cli(
        "monitor", "export", session, "--format", "pdf", "--out", str(out), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    reader = PdfReader(str(out))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert f"Session {session} record" in text and "Alarms" in text


def test_vital_carries_the_plethysmogram(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    t0 = 1_767_225_600.0
    plan = {"weight_kg": 70, "planned_rate_mg_kg_h": 0.5}
    session = store.create_session("chair-1", "live", t0, plan, "nurse")
    pleth = (50 + 40 * np.sin(np.arange(300) / 8)).astype(np.float32)
    for k in range(3):
        block = pleth[k * 100 : (k + 1) * 100]
        store.append_waveform(session.id, Waveform("chair-1", t0 + k, "PLETH", 100.0, block))
    store.append_many(session.id, [(t0, "HR", 70.0), (t0 + 1, "HR", 71.0)])
    store.close_session(session.id, t0 + 3, "nurse")
    out = tmp_path / "s.vital"
    export_session(store, session.id, "vital", out)
    vf = vitaldb.VitalFile(str(out))
    assert "Monitor/PLETH" in vf.get_track_names()
    back = vf.to_numpy(["Monitor/PLETH"], 1 / 100).ravel()
    back = back[~np.isnan(back)]
    assert len(back) == 300 and np.allclose(back, pleth, atol=0.01)
    store.close()


def test_simulated_sessions_stay_out_of_clinical_exports_unless_asked(
    imported: tuple[Path, Path, str], tmp_path: Path
) -> None:
    config, readings, _ = imported
    result = _cli(
        "monitor", "import", str(readings), "--bed", "a", "--source", "simulated",
        "--config", str(config),
    )  # fmt: skip
    session = result.stdout.strip().splitlines()[-1]
    out = tmp_path / "sim.hl7"
    export = ("monitor", "export", session, "--format", "hl7", "--out", str(out))
    refused = _cli(*export, "--config", str(config))
    assert refused.returncode == 2 and not out.exists()
    assert refused.stderr.strip() == (
        f"session {session} is simulated: it is left out of hl7 exports unless simulated"
        " sessions are included explicitly"
    )
    allowed = _cli(*export, "--config", str(config), "--include-simulated")
    assert allowed.returncode == 0, allowed.stderr
    assert "%|" in allowed.stderr  # the progress bar
    message = hl7.parse(out.read_bytes().decode())
    assert str(message.segment("MSH")[11]) == "T"  # processing ID: training
    assert "SIMULATED" in str(message.segment("NTE"))
    # data exports need no flag, and still say where the data came from
    parquet = tmp_path / "sim.parquet"
    result = _cli(
        "monitor", "export", session, "--format", "parquet", "--out", str(parquet),
        "--config", str(config),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pq.read_schema(parquet).metadata[b"source"] == b"simulated"
