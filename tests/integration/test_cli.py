"""`python dashboard.py` refuses a bad config with exit code 2 and one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, config_dict


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "dashboard.py"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: c["beds"][0].update(device={"kind": "datex_s5"}),
            "beds[0].device.port: field required",
        ),
        (
            lambda c: c["server"].update(port="eighty"),
            "server.port: input should be a valid integer, unable to parse string as an integer",
        ),
        (lambda c: c.pop("beds"), "beds: field required"),
        (lambda c: c["server"].update(port=True), "server.port: true is not a number"),
        (
            lambda c: c["beds"][0].update(
                device={"kind": "hl7_pcd01", "port": True, "location": "PAIN^BAY1^4"}
            ),
            "beds[0].device.port: true is not a number",
        ),
        (
            lambda c: c.update(training={"enabled": True, "scenarios": "/no/such/folder"}),
            "training.scenarios: no folder /no/such/folder",
        ),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = config_dict(tmp_path / "s.db")
    mutate(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    result = _run("--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}: {expected}"
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_config_file(tmp_path: Path) -> None:
    result = _run("--config", str(tmp_path / "absent.yaml"))
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"{tmp_path}/absent.yaml: file not found",
    )


def test_bad_port_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_dict(tmp_path / "s.db")))
    result = _run("--config", str(path), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "command line: server.port: input should be greater than or equal to 1"
    )
