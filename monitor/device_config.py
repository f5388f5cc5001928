"""The `device:` entry of a bed in config.yaml: one pydantic model per kind of device.

Kept apart from config.py so that a protocol's registry entry (devices.protocols) can name its
config model without importing the whole station config, and with it the session and PK code
(scipy): decoding a capture stays light. The core still never imports `devices`; the registry
points here, and tests/unit/test_protocol_registry.py checks that both sides agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr, model_validator

from monitor.config_numbers import NumbersNotBooleans

VIRTUAL_PORT = "virtual"


class DeviceModel(NumbersNotBooleans):
    """Strict like every config section (config_base.Strict), without its imports."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SimulatorDevice(DeviceModel):
    """The in-process simulated monitor."""

    kind: Literal["simulator"]
    seed: int = 0
    interval_s: float = Field(1.0, gt=0, le=10)
    nibp_interval_s: float = Field(180.0, ge=30, le=3600)


class DatexS5Device(DeviceModel):
    """A GE Datex-Ohmeda S/5 family monitor on a serial port.

    `port` is a device path or pyserial URL; `virtual` starts the simulated DRI monitor on a
    pseudo-terminal and reads it through the same serial code path (training and tests).
    """

    kind: Literal["datex_s5"]
    port: str = Field(min_length=1)
    baudrate: int = Field(19200, gt=0)
    rtscts: bool = True
    interval_s: int = Field(5, ge=1, le=60)
    nibp_interval_s: float = Field(180.0, ge=30, le=3600)
    """The monitor's NIBP cycle: sizes the trend and when a cuff value counts as old."""
    seed: int = 0
    """For `port: virtual` only: the simulated patient."""

    @property
    def virtual(self) -> bool:
        return self.port == VIRTUAL_PORT


class IntelliVueDevice(DeviceModel):
    """A Philips IntelliVue monitor's MIB/RS-232 port with Data Export set to "Fix 115200".

    The station associates, answers the monitor's MDS create and keeps an extended poll of
    the numerics running (protocols.md §2.4). `port: virtual` starts the simulated IntelliVue
    on a pseudo-terminal (training and tests).
    """

    kind: Literal["intellivue"]
    port: str = Field(min_length=1)
    baudrate: int = Field(115200, gt=0)
    rtscts: bool = False  # the MIB port has no flow-control lines (protocols.md §2.2)
    interval_s: int = Field(1, ge=1, le=60)
    """How often the monitor sends numerics (the extended poll gives one result a second)."""
    nibp_interval_s: float = Field(180.0, ge=30, le=3600)
    seed: int = 0
    """For `port: virtual` only: the simulated patient."""

    @property
    def virtual(self) -> bool:
        return self.port == VIRTUAL_PORT


class Hl7Pcd01Device(DeviceModel):
    """A bed fed by a monitoring gateway that pushes HL7 v2 ORU^R01 (IHE PCD-01) over MLLP.

    The station listens on `host:port`; beds sharing a gateway share the listener, and each
    message goes to the bed whose `location` (PV1-3, point of care^room^bed) or `equipment`
    (a device's EUI-64 in OBX-18) it names.
    """

    kind: Literal["hl7_pcd01"]
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(2575, gt=0, lt=65536)
    location: str | None = Field(None, min_length=1)
    equipment: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{16}$")
    interval_s: float = Field(5.0, gt=0, le=60)
    """How often the gateway pushes a bed's values (for staleness)."""
    nibp_interval_s: float = Field(180.0, ge=30, le=3600)

    @model_validator(mode="after")
    def _routed(self) -> Hl7Pcd01Device:
        if self.location is None and self.equipment is None:
            raise ValueError("give location (PV1-3) or equipment (EUI-64) to route messages")
        return self


TOPIC_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # one MQTT topic level: no wildcards, no slash


class BrokerTls(DeviceModel):
    """TLS to the broker: the CA that signed its certificate; a client certificate if asked."""

    ca_file: str = Field(min_length=1)
    cert_file: str | None = None
    key_file: str | None = None


class Broker(DeviceModel):
    """An MQTT broker (Mosquitto) and this client's credentials on it."""

    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(1883, gt=0, lt=65536)
    username: str | None = None
    password: SecretStr | None = None  # shown as ****** wherever the config is shown
    password_file: str | None = None
    keepalive_s: int = Field(5, ge=1, le=60)
    """Bounds how soon a vanished chair is noticed: the broker's will, or 2 x this silent."""
    tls: BrokerTls | None = None

    @model_validator(mode="after")
    def _one_password(self) -> Broker:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        return self

    def secret(self) -> str | None:
        """The password, read from its file when it lives in one (a one-line OSError)."""
        if self.password_file is not None:
            with open(self.password_file, encoding="utf-8") as f:
                return f.read().strip()
        return None if self.password is None else self.password.get_secret_value()

    def resolved(self, base: Path) -> Broker:
        """This entry with its relative file names taken from `base`, the config file's
        folder, as store.path is: never from wherever the process was started."""

        def at(name: str | None) -> str | None:
            return name if name is None or Path(name).is_absolute() else str(base / name)

        tls = self.tls
        if tls is not None:
            files = ("ca_file", "cert_file", "key_file")
            tls = tls.model_copy(update={k: at(getattr(tls, k)) for k in files})
        return self.model_copy(update={"password_file": at(self.password_file), "tls": tls})


class MqttDevice(DeviceModel):
    """A chair whose agent publishes over MQTT (python -m devices agent); the central station
    subscribes to the chair's topics and runs the bed core here."""

    kind: Literal["mqtt"]
    broker: Broker = Field(default_factory=Broker)
    clinic: str = Field(pattern=TOPIC_ID)
    topic_id: str | None = Field(None, pattern=TOPIC_ID)
    """The chair's topic level; the bed's id when left out."""
    source: Literal["live", "simulated"] = "live"
    """What the agent reads. A simulated chair also gets the pump and instructor commands."""
    interval_s: float = Field(1.0, gt=0, le=60)
    nibp_interval_s: float = Field(180.0, ge=30, le=3600)


# A new wire protocol adds its model here and its entry in devices.protocols.
DeviceConfig = Annotated[
    SimulatorDevice | DatexS5Device | IntelliVueDevice | MqttDevice | Hl7Pcd01Device,
    Field(discriminator="kind"),
]
DEVICE_KINDS = ("simulator", "datex_s5", "intellivue", "mqtt", "hl7_pcd01")
