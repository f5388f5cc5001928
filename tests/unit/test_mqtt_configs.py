"""The shipped chair-agent and central-station examples load."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.agent_config import load_agent_config
from monitor.config import ConfigError, load_config
from monitor.device_config import IntelliVueDevice, MqttDevice
from tests.helpers import REPO


def test_the_central_example_has_three_mqtt_chairs() -> None:
    config = load_config(REPO / "deploy" / "central.yaml")
    assert [b.id for b in config.beds] == ["chair-1", "chair-2", "chair-3"]
    assert all(isinstance(b.device, MqttDevice) for b in config.beds)


def test_the_chair_example_loads_once_its_password_file_exists(tmp_path: Path) -> None:
    text = (REPO / "deploy" / "chair-1.yaml").read_text()
    with pytest.raises(ConfigError, match=r"broker.password_file: no such file"):
        load_agent_config(REPO / "deploy" / "chair-1.yaml")
    (tmp_path / "chair-1.secret").write_text("pw\n")
    (tmp_path / "chair.yaml").write_text(text.replace("../devices", str(REPO / "devices")))
    config = load_agent_config(tmp_path / "chair.yaml")
    assert config.broker.secret() == "pw" and config.spool == str(tmp_path / "spool/chair-1.db")


def test_a_chair_can_read_an_intellivue(tmp_path: Path) -> None:
    (tmp_path / "chair.secret").write_text("pw\n")
    (tmp_path / "chair.yaml").write_text(
        "broker: {host: 127.0.0.1, username: chair-2, password_file: chair.secret}\n"
        "clinic: north\nbed: chair-2\n"
        "device: {kind: intellivue, port: /dev/ttyUSB0}\n"
    )
    config = load_agent_config(tmp_path / "chair.yaml")
    assert isinstance(config.device, IntelliVueDevice) and config.device.baudrate == 115200


def test_a_password_is_never_shown() -> None:
    dev = MqttDevice.model_validate(
        {"kind": "mqtt", "clinic": "c", "broker": {"password": "s3cret"}}
    )
    assert "s3cret" not in str(dev.model_dump(mode="json"))


def test_the_central_takes_password_files_from_its_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "deploy" / "central.yaml").read_text()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "central.yaml").write_text(text)
    (tmp_path / "site" / "central.secret").write_text("pw\n")
    (tmp_path / "devices" / "simulator" / "scenarios").mkdir(parents=True)  # its training
    monkeypatch.chdir(tmp_path)  # started from elsewhere: the file is still found
    config = load_config("site/central.yaml")
    broker = config.beds[0].device.broker  # type: ignore[union-attr]
    assert broker.password_file == str(tmp_path / "site" / "central.secret")
    assert broker.secret() == "pw"
