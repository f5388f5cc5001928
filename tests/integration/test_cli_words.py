"""The command lines speak clearly: every option says its unit and meaning, every command
has an example, ranges are the station's own and stated truly, and a wrong file is one line
with exit code 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dashboard
from devices.__main__ import build_parser as devices_parser
from monitor.__main__ import build_parser as monitor_parser
from tests.helpers import REPO, config_dict

CAPTURE = REPO.parent / "shared" / "data" / "datex-carescape" / "db00.raw"


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [p for s in subs for p in s.choices.values()] or [parser]


@pytest.mark.parametrize(
    "parser", [monitor_parser(), devices_parser(), dashboard.build_parser()],
    ids=["monitor", "devices", "dashboard"],
)  # fmt: skip
def test_every_option_explains_itself_and_every_command_has_an_example(
    parser: argparse.ArgumentParser,
) -> None:
    for command in _commands(parser):
        assert command.epilog and "example" in command.epilog, command.prog
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{command.prog} {action.dest}: no help text"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_dict(tmp_path / "sessions.db")))
    return path


def test_a_binary_capture_given_as_readings_is_one_line(config: Path) -> None:
    for args in (
        ("-m", "monitor", "replay", "--config", str(config), str(CAPTURE)),
        ("-m", "monitor", "import", "--bed", "chair-1", "--config", str(config), str(CAPTURE)),
    ):
        assert "not a text CSV" in one_line(run(*args))


def test_import_refuses_a_bed_the_config_does_not_have(config: Path, tmp_path: Path) -> None:
    readings = tmp_path / "r.csv"
    readings.write_text("time,signal,value,unit\n1790000000,HR,72,/min\n")
    line = one_line(run("-m", "monitor", "import", "--bed", "chair-9", "--config", str(config),
                        str(readings)))  # fmt: skip
    assert "--bed chair-9: no such bed" in line and "chair-1" in line


@pytest.mark.parametrize(
    ("option", "refused", "says"),
    [
        ("--weight", "15", "20 to 300 kg"),
        ("--weight", "301", "20 to 300 kg"),
        ("--infusion", "99@0-10", "0.01 to 2 mg/kg/h"),
        ("--ke0", "0", "more than 0"),
    ],
)
def test_pk_takes_the_stations_ranges(option: str, refused: str, says: str) -> None:
    args = {"--weight": "70", "--infusion": "0.5@0-40", "--ke0": "0.114"} | {option: refused}
    done = run("-m", "monitor", "pk", "--at", "10", *[x for kv in args.items() for x in kv])
    assert done.returncode == 2 and says in done.stderr, done.stderr
    ok = run("-m", "monitor", "pk", "--weight", "300", "--infusion", "2@0-10", "--at", "10")
    assert ok.returncode == 0 and ok.stdout.startswith("minute,cp_ng_ml,ce_ng_ml")


def test_numeric_options_state_a_true_range(tmp_path: Path) -> None:
    done = run("-m", "devices", "simulate", "--scenario", "x.yaml", "--out", "y", "--speed", "0")
    assert done.returncode == 2 and "more than 0 and at most 1000" in done.stderr
    assert (
        devices_parser()
        .parse_args(["simulate", "--scenario", "x", "--out", "y", "--speed", "1000"])
        .speed
        == 1000
    )  # the upper bound is allowed, as stated
    done = run("dashboard.py", "--port", "70000")
    assert one_line(done).endswith("less than or equal to 65535")
