"""The chair agent's config file (python -m devices agent --config chair.yaml).

The chair's device uses the same models as a bed of the station (monitor/device_config.py);
a bad file is one line naming the key (exit code 2), like the station's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError

from monitor.config import ConfigError, one_line
from monitor.device_config import (
    TOPIC_ID,
    Broker,
    DatexS5Device,
    DeviceModel,
    IntelliVueDevice,
    SimulatorDevice,
)

# What an agent can read: a monitor or the simulator; an mqtt bed is the central's side.
ChairDevice = Annotated[
    SimulatorDevice | DatexS5Device | IntelliVueDevice, Field(discriminator="kind")
]


class AgentConfig(DeviceModel):
    broker: Broker
    clinic: str = Field(pattern=TOPIC_ID)
    bed: str = Field(pattern=TOPIC_ID)
    """The chair's id: its topic level and, on the broker, its user name."""
    spool: str = "./spool/chair.db"
    """SQLite file of unacknowledged messages; relative to the config file's folder."""
    scenarios: str | None = None
    """Training scenarios a simulated chair can run on the instructor's command."""
    device: ChairDevice


def _relative(base: Path, path: str | None) -> str | None:
    return None if path is None or Path(path).is_absolute() else str(base / path)


def load_agent_config(path: Path) -> AgentConfig:
    """Read and check the file, with paths resolved against its folder; ConfigError if bad."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{source}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(one_line(err, source).replace("device.simulator.", "device.")) from None
    base = path.resolve().parent
    broker = config.broker.resolved(base)
    tls = broker.tls
    for key, file in (
        ("broker.password_file", broker.password_file),
        ("broker.tls.ca_file", tls and tls.ca_file),
        ("broker.tls.cert_file", tls and tls.cert_file),
        ("broker.tls.key_file", tls and tls.key_file),
    ):
        if file and not Path(file).is_file():
            raise ConfigError(f"{source}: {key}: no such file {file}")
    return config.model_copy(
        update={
            "broker": broker,
            "spool": _relative(base, config.spool) or config.spool,
            "scenarios": _relative(base, config.scenarios) or config.scenarios,
        }
    )
