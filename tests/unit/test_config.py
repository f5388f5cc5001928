"""Config validation: every mistake is one line naming the key and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import ConfigError, load_config, parse_config
from tests.helpers import MINIMAL_RULES, REPO, config_dict


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(data: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


@pytest.fixture
def good(tmp_path: Path) -> dict[str, Any]:
    return config_dict(tmp_path / "s.db")


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 8050
    assert config.beds[0].device.kind == "simulator"
    assert Path(config.store.path).is_absolute()
    assert Path(config.store.path).name == "sessions.db"
    names = {r.name for r in config.alarms.rules}
    assert {"SPO2_LOW", "SPO2_DESAT", "HR_HIGH", "NIBP_SYS_HIGH"} <= names


def test_defaults_when_sections_are_omitted() -> None:
    config = parse_config(
        {
            "beds": [{"id": "a", "name": "A", "device": {"kind": "simulator"}}],
            "alarms": {"rules": MINIMAL_RULES},
        }
    )
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8050)
    assert config.store.path == "./data/sessions.db"
    assert config.session.dose.max_session_mg_kg == 2.5


def test_a_rule_set_without_the_core_vitals_is_refused() -> None:
    bed = [{"id": "a", "name": "A", "device": {"kind": "simulator"}}]
    assert _error({"beds": bed}) == (
        "config.yaml: alarms.rules: no alarm rule for SPO2, HR, NIBP, RR"
    )
    rules = [r for r in MINIMAL_RULES if r["signal"] != "RR"]
    assert _error({"beds": bed, "alarms": {"rules": rules}}).endswith("no alarm rule for RR")


@pytest.mark.parametrize("bad", [".nan", ".inf", "-.inf"])
def test_nan_and_inf_limits_are_config_errors(tmp_path: Path, bad: str) -> None:
    text = (REPO / "config.yaml").read_text().replace("limit: 92,", f"limit: {bad},", 1)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert str(info.value).endswith("alarms.rules[0].limit: input should be a finite number")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "limit: 85, allowed: [75, 90]",
            "limit: -1",
            "limit of SPO2_DESAT must be between 0 and 100",
        ),
        ("limit: 92, allowed: [85, 96]", "limit: 70, allowed: [85, 96]", "between 85 and 96"),
        ("limit: 140, allowed: [110, 200]", "limit: 1e308", "between 0 and 300"),
    ],
)
def test_limits_outside_their_range_are_config_errors(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = (REPO / "config.yaml").read_text()
    assert old in text
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text.replace(old, new, 1)))
    assert message in str(info.value) and "alarms.rules[" in str(info.value)


def test_serial_device_without_port(good: dict[str, Any]) -> None:
    good["beds"][0]["device"] = {"kind": "datex_s5"}
    assert _error(good) == "config.yaml: beds[0].device.port: field required"


def test_unknown_device_kind(good: dict[str, Any]) -> None:
    good["beds"][0]["device"]["kind"] = "philips"
    msg = _error(good)
    assert msg.startswith("config.yaml: beds[0].device: ")
    assert "'philips'" in msg


def test_misspelt_key(good: dict[str, Any]) -> None:
    good["beds"][0]["device"]["sed"] = 3
    assert _error(good) == "config.yaml: beds[0].device.sed: extra inputs are not permitted"


def test_port_out_of_range(good: dict[str, Any]) -> None:
    good["server"]["port"] = 70000
    assert _error(good) == "config.yaml: server.port: input should be less than or equal to 65535"


def test_host_not_an_address(good: dict[str, Any]) -> None:
    good["server"]["host"] = "my laptop"
    assert _error(good).startswith("config.yaml: server.host: ")


def test_duplicate_bed_ids(good: dict[str, Any]) -> None:
    good["beds"].append(copy.deepcopy(good["beds"][0]))
    assert _error(good) == "config.yaml: beds: duplicate bed id 'chair-1'"


def test_bed_id_unsafe_for_urls(good: dict[str, Any]) -> None:
    good["beds"][0]["id"] = "Chair 1/../x"
    assert _error(good).startswith("config.yaml: beds[0].id: string should match pattern")


def test_no_beds(good: dict[str, Any]) -> None:
    good["beds"] = []
    assert _error(good).startswith("config.yaml: beds: list should have at least 1 item")


def test_rule_on_unknown_signal(good: dict[str, Any]) -> None:
    good["alarms"]["rules"][0]["signal"] = "SPO3"
    msg = _error(good)
    assert msg.startswith("config.yaml: alarms.rules[0].signal: unknown signal 'SPO3' (see ")


def test_rule_name_must_start_with_its_signal(good: dict[str, Any]) -> None:
    good["alarms"]["rules"][0]["name"] = "LOW_SAT"
    assert _error(good) == (
        "config.yaml: alarms.rules[0]: alarm name 'LOW_SAT' must start with 'SPO2_'"
    )


def test_rule_with_bad_priority(good: dict[str, Any]) -> None:
    good["alarms"]["rules"][0]["priority"] = "URGENT"
    assert _error(good).startswith("config.yaml: alarms.rules[0].priority: input should be")


def test_negative_delay(good: dict[str, Any]) -> None:
    good["alarms"]["rules"][0]["delay_s"] = -1
    assert _error(good) == (
        "config.yaml: alarms.rules[0].delay_s: input should be greater than or equal to 0"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found$"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "server:\n  port: 8050\nbeds: [\n  - id: a\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: line ")
    assert "invalid YAML" in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the file is empty"):
        load_config(_write(tmp_path, ""))


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(_write(tmp_path, "- just\n- a list\n"))


def test_relative_store_path_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "beds:\n  - {id: a, name: A, device: {kind: simulator}}\nstore: {path: db/x.db}\n"
        + yaml.safe_dump({"alarms": {"rules": MINIMAL_RULES}}),
    )
    assert Path(load_config(path).store.path) == tmp_path / "db" / "x.db"


def test_the_commented_bed_examples_in_config_yaml_are_valid() -> None:
    """config.yaml documents a bed on each protocol in comments; they must stay loadable."""
    text = (REPO / "config.yaml").read_text()
    lines = [line[len("  # ") :] for line in text.splitlines() if line.startswith("  # ")]
    examples = [line for line in lines if line.startswith(("- id:", "  name:", "  device:"))]
    beds = yaml.safe_load("\n".join(examples))
    assert {b["device"]["kind"] for b in beds} == {"intellivue", "hl7_pcd01"}
    data = yaml.safe_load(text)
    data["beds"] += beds
    assert [b.device.kind for b in parse_config(data).beds][-2:] == ["intellivue", "hl7_pcd01"]
