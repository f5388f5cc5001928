"""The `device:` entry of a bed in config.yaml: one pydantic model per kind of device.

Kept apart from config.py so that a protocol's registry entry (devices.protocols) can name its
config model without importing the whole station config, and with it the session and PK code
(scipy): decoding a capture stays light. The core still never imports `devices`; the registry
points here, and tests/unit/test_protocol_registry.py checks that both sides agree.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

VIRTUAL_PORT = "virtual"


class DeviceModel(BaseModel):
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


# A new wire protocol adds its model here and its entry in devices.protocols.
DeviceConfig = Annotated[SimulatorDevice | DatexS5Device, Field(discriminator="kind")]
DEVICE_KINDS = ("simulator", "datex_s5")
