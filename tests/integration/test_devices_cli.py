"""`python -m devices decode`: CSV of real captures, frame counts, and replay to a serial URL."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
import tty
from pathlib import Path

import pytest

from devices.protocols.datex_s5 import DriDecoder
from monitor.model import Reading
from tests.helpers import REPO, capture


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devices", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def raw_capture() -> Path:
    return capture("raw.raw")


def test_decode_writes_csv_and_counts(raw_capture: Path) -> None:
    result = _run("decode", "--protocol", "datex-s5", str(raw_capture))
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["time", "signal", "value", "unit"]
    first = {r["signal"]: r for r in rows if r["time"] == "1532624765"}
    assert first["HR"]["value"] == "80" and first["HR"]["unit"] == "/min"
    assert first["SPO2"]["value"] == "96.65"
    assert first["ETCO2"]["value"] == "37.00226" and first["ETCO2"]["unit"] == "mmHg"
    assert (first["NIBP_SYS"]["value"], first["NIBP_DIA"]["value"]) == ("93", "48")
    assert result.stderr.strip() == f"{raw_capture}: 21 good, 0 bad checksum, 0 malformed"


def test_decode_of_a_corrupted_capture_reports_bad_frames() -> None:
    path = capture("db01.raw")
    result = _run("decode", "--protocol", "datex-s5", str(path))
    assert result.returncode == 0
    assert result.stderr.strip().endswith("2126 good, 164 bad checksum, 156 malformed")


def test_missing_file_and_unknown_protocol(tmp_path: Path) -> None:
    result = _run("decode", "--protocol", "datex-s5", str(tmp_path / "x.raw"))
    assert (result.returncode, result.stderr.strip()) == (2, f"{tmp_path}/x.raw: no such file")
    assert _run("decode", "--protocol", "philips", "x").returncode == 2


def test_replay_to_a_pty_decodes_the_same(raw_capture: Path) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    received = bytearray()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                received.extend(os.read(master, 65536))
            except OSError:
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        result = _run(
            "decode",
            "--protocol",
            "datex-s5",
            str(raw_capture),
            "--replay",
            os.ttyname(slave),
            "--speed",
            "1000",
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == f"sent 21 frames to {os.ttyname(slave)}"
    finally:
        done.set()
        os.close(slave)
        os.close(master)
        thread.join(2)
    replayed = [e for e in DriDecoder("b").feed(bytes(received)) if isinstance(e, Reading)]
    original = [e for e in DriDecoder("b").feed(raw_capture.read_bytes()) if isinstance(e, Reading)]
    assert replayed == original


def test_replay_to_a_bad_url(raw_capture: Path) -> None:
    result = _run(
        "decode", "--protocol", "datex-s5", str(raw_capture), "--replay", "/dev/does-not-exist"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("--replay: cannot open /dev/does-not-exist")
    assert "Traceback" not in result.stderr


def test_decoding_imports_nothing_of_the_simulator(raw_capture: Path) -> None:
    # The simulator pulls in scipy (the PK model): a second of imports for a 12 ms decode.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "devices", "decode", "--protocol"]
        + ["datex-s5", str(raw_capture)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "devices.protocols.datex_s5" in imported  # the probe sees imports at all
    heavy = sorted(
        m for m in imported if m.split(".")[0] == "scipy" or m.startswith("devices.simulator")
    )
    assert heavy == []


def test_decode_hl7_messages_framed_or_one_segment_a_line(tmp_path: Path) -> None:
    from tests.unit.test_hl7_pcd01 import TF2_OBX, _message, _mllp

    framed = tmp_path / "gateway.mllp"
    framed.write_bytes(b"noise" + _mllp(_message(TF2_OBX)) + _mllp(_message(TF2_OBX, "B")))
    lines = tmp_path / "gateway.hl7"
    lines.write_text(_message(TF2_OBX).replace("\r", "\n"), encoding="utf-8")
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes(range(256)) * 40)  # 40 "frames" between 0x0B and 0x1C
    result = _run("decode", "--protocol", "hl7-pcd01", str(framed), str(lines), str(binary))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 * 7 and {"HR", "SPO2", "ETCO2"} <= {r["signal"] for r in rows}
    assert f"{framed}: 2 good, 0 bad checksum, 0 malformed" in result.stderr
    assert f"{lines}: 1 good" in result.stderr
    assert f"{binary}: 0 good, 0 bad checksum, 40 malformed (rejected 40" in result.stderr
    assert "Traceback" not in result.stderr
    assert f"{framed}: 2 good, 0 bad checksum, 0 malformed (" in result.stderr  # its own counts
    nothing = _run("decode", "--protocol", "hl7-pcd01", str(binary))
    assert nothing.returncode == 2  # no message at all: the wrong file or the wrong protocol
    assert nothing.stderr.splitlines()[-1] == "decode: no hl7-pcd01 message in the files given"
