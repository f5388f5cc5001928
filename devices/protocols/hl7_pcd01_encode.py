"""ORU^R01 (IHE PCD-01) messages as a gateway pushes them: the virtual gateway's encoder.

Sans-I/O: readings in, MLLP-framed bytes out. Written against this package's own decoder
(hl7_pcd01.py): PV1-3 names the chair, OBX-3 the MDC code and reference id, OBX-6 a unit
the decoder reads, OBX-18 the pump's EUI-64 in the EI form of IHE PCD TF-2 Rev. 8.0 B.8.
MSH-15/16 are AL/NE as TF-2 B.1 asks of a PCD-01 sender.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.protocols.hl7_pcd01 import PUMP_RATE, PUMP_STATUS, frame
from monitor.model import Reading
from monitor.signals import REGISTRY

# canonical unit -> the MDC dimension (code^name) gateways send
UNIT_CODES = {
    "/min": "264864^MDC_DIM_BEAT_PER_MIN",
    "%": "262688^MDC_DIM_PERCENT",
    "mmHg": "266016^MDC_DIM_MMHG",
    "°C": "268192^MDC_DIM_DEGC",
}
PUMP_EUI = "0012AB34CD56EF78"  # the virtual syringe pump's EUI-64


@dataclass(frozen=True, slots=True)
class PumpState:
    """What a pump reports with the monitor's values: its rate and whether it runs."""

    rate_ml_h: float
    status: str = "pump-status-infusing"


def hl7_time(t: float) -> str:
    """Epoch seconds as an HL7 TS in UTC, to the millisecond."""
    stamp = datetime.fromtimestamp(t, UTC)
    return stamp.strftime("%Y%m%d%H%M%S.") + f"{stamp.microsecond // 1000:03d}+0000"


def oru_r01(
    control: str,
    location: str,
    t: float,
    readings: Iterable[Reading],
    pump: PumpState | None = None,
    sender: str = "VIRTUAL_GATEWAY",
) -> bytes:
    """One ORU^R01 for one chair, MLLP-framed; readings whose unit has no code are left out."""
    ts = hl7_time(t)
    segments = [
        f"MSH|^~\\&|{sender}|CLINIC|||{ts}||ORU^R01^ORU_R01|{control}|P|2.6|||AL|NE"
        "||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        f"PV1||O|{location}",
        f"OBR|1|||182777000^monitoring of patient^SCT|||{ts}",
    ]
    obx: list[str] = []
    for r in readings:
        unit = UNIT_CODES.get(r.unit)
        spec = REGISTRY.get(r.signal)
        if unit is None or spec is None:
            continue
        obx.append(
            f"NM|{spec.mdc_code}^{spec.mdc_name}^MDC|1.1.1.{len(obx) + 1}|{r.value:g}"
            f"|{unit}^MDC|||||R|||{hl7_time(r.t)}"
        )
    if pump is not None:
        obx.append(
            f"NM|{PUMP_RATE}^MDC_FLOW_FLUID_PUMP^MDC|2.1.1.1|{pump.rate_ml_h:g}"
            f"|265266^MDC_DIM_MILLI_L_PER_HR^MDC|||||R|||{ts}||||{PUMP_EUI}^^{PUMP_EUI}^EUI-64"
        )
        obx.append(f"CWE|{PUMP_STATUS}^MDC_PUMP_STAT^MDC|2.1.1.2|^{pump.status}||||||R|||{ts}")
    segments += [f"OBX|{i}|{text}" for i, text in enumerate(obx, 1)]
    return frame(("\r".join(segments) + "\r").encode())
