"""`python -m monitor replay`: recorded readings through the alarm engine in simulated time."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import yaml

from monitor.config import parse_config
from monitor.replay import read_readings, replay
from tests.helpers import MINIMAL_RULES, REPO, capture

RULES = {
    "beds": [{"id": "a", "name": "A", "device": {"kind": "simulator"}}],
    "alarms": {
        "rules": [
            {
                "name": "SPO2_LOW",
                "signal": "SPO2",
                "op": "<",
                "limit": 92,
                "priority": "MEDIUM",
                "delay_s": 5,
                "escalate_after_s": 20,
            },
            {
                "name": "SPO2_DESAT",
                "signal": "SPO2",
                "op": "<",
                "limit": 85,
                "priority": "HIGH",
                "delay_s": 2,
            },
            {
                "name": "NIBP_SYS_HIGH",
                "signal": "NIBP_SYS",
                "op": ">=",
                "limit": 160,
                "priority": "MEDIUM",
                "escalate_after_s": 600,
            },
            *MINIMAL_RULES[1:2],
            *MINIMAL_RULES[3:],
        ]
    },
}

# SpO2 at 1 Hz: a 3 s dip (too short), then a desaturation to 84 for 30 s, then recovery.
ROWS = (
    [f"{100 + i},SPO2,{v},%" for i, v in enumerate([97, 90, 90, 90, 97])]
    + [f"{105 + i},SPO2,{84 if i < 30 else 96},%" for i in range(35)]
    + ["110,NIBP_SYS,165,mmHg", "290,NIBP_SYS,150,mmHg", "291,GLUCOSE,5,mmol/L"]
)
READINGS = ["time,signal,value,unit"] + sorted(ROWS, key=lambda r: int(r.split(",")[0]))

EXPECTED = [
    ["time", "bed", "alarm", "priority", "state", "value"],
    ["101", "chair-9", "SPO2_LOW", "MEDIUM", "pending", "90"],
    ["104", "chair-9", "SPO2_LOW", "MEDIUM", "cancelled", "97"],
    ["105", "chair-9", "SPO2_LOW", "MEDIUM", "pending", "84"],
    ["105", "chair-9", "SPO2_DESAT", "HIGH", "pending", "84"],
    ["107", "chair-9", "SPO2_DESAT", "HIGH", "active", "84"],
    ["110", "chair-9", "SPO2_LOW", "MEDIUM", "active", "84"],
    ["110", "chair-9", "NIBP_SYS_HIGH", "MEDIUM", "pending", "165"],
    ["110", "chair-9", "NIBP_SYS_HIGH", "MEDIUM", "active", "165"],
    ["130", "chair-9", "SPO2_LOW", "HIGH", "escalated", "84"],
    ["135", "chair-9", "SPO2_LOW", "HIGH", "cleared", "96"],
    ["135", "chair-9", "SPO2_DESAT", "HIGH", "latched", "96"],
    # nothing for longer than the stale limit (2 x 1 s): the feed is lost, and only the
    # technical alarm speaks; the cuff alarm ends with it (reason "no data")
    ["142", "chair-9", "TECH_NO_DATA", "MEDIUM", "pending", "3"],
    ["142", "chair-9", "TECH_NO_DATA", "MEDIUM", "active", "3"],
    ["142", "chair-9", "NIBP_SYS_HIGH", "MEDIUM", "cleared", "165"],
    ["290", "chair-9", "TECH_NO_DATA", "MEDIUM", "cleared", "151"],
]


def _write(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(RULES))
    readings = tmp_path / "readings.csv"
    readings.write_text("\n".join(READINGS) + "\n")
    return config, readings


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "replay", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_hand_written_session_gives_the_expected_transitions(tmp_path: Path) -> None:
    config, readings = _write(tmp_path)
    result = _run("--config", str(config), "--bed", "chair-9", str(readings))
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == EXPECTED
    lines = result.stderr.strip().splitlines()
    # 42 readings over 191 s: 3 MEDIUM (one technical) and 1 HIGH raised
    assert lines[0].startswith(
        "42 readings over 0.05 h; alarms per hour: HIGH 18.8/h, MEDIUM 56.5/h, LOW 0.0/h"
    )
    assert lines[1] == "skipped 1 readings: unknown signal"


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    config, readings = _write(tmp_path)
    readings.write_text("time,signal,value,unit\n100,HR,72,/min\n101,HR,seventy,/min\n")
    result = _run("--config", str(config), str(readings))
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"{readings}: line 3: time and value must be numbers",
    )
    readings.write_text("t,s,v\n")
    assert "line 1: expected the header" in _run("--config", str(config), str(readings)).stderr
    missing = _run("--config", str(config), str(tmp_path / "none.csv"))
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        f"{tmp_path}/none.csv: file not found",
    )


def test_replays_a_decoded_real_capture() -> None:
    decoded = subprocess.run(
        [
            sys.executable,
            "-m",
            "devices",
            "decode",
            "--protocol",
            "datex-s5",
            str(capture("db00.raw")),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    config = parse_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    out = io.StringIO()
    result = replay(read_readings(io.StringIO(decoded.stdout), "db00.csv"), config, "db00", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert result.readings == len(decoded.stdout.splitlines()) - 1
    assert 0.45 < result.hours < 0.5  # 1,760 s of monitoring
    # the capture's cuff readings include 86 and 79 mmHg systolic: low-pressure alarms
    raised = {r["alarm"] for r in rows if r["state"] == "active"}
    assert {"NIBP_SYS_LOW", "NIBP_SYS_VERY_LOW"} <= raised
    assert all(r["bed"] == "db00" for r in rows)
