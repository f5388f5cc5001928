"""The HL7 v2 PCD-01 codec: framing, observations, units, routing and ACKs.

The messages are written for these tests. The first follows the ORU^R01 layout of IHE PCD
TF-2 §3.1 (PCD-01 Communicate PCD Data): MSH, PID, PV1, OBR, then OBX headers for the
MDS/VMD/channel (OBX-4 `1.0.0.0`, OBX-11 `X`) followed by the metrics, OBX-18 the device's
EUI-64. The second is shaped like a Mindray eGateway push (protocols.md §3.3): PV1-3 carries
the bed, MSH-21 the PCD profile id, and a pump reports alongside the monitor.
"""

from __future__ import annotations

import random

import pytest

from devices.protocols.hl7_pcd01 import Pcd01Decoder, Routes, location_key
from monitor.model import DeviceEvent, Reading

T = "20250314101500+0100"
EPOCH = 1741943700.0  # 2025-03-14 09:15:00 UTC


def _mllp(text: str) -> bytes:
    return b"\x0b" + text.encode() + b"\x1c\r"


def _message(obx: list[str], control: str = "MSG0001", pv1: str = "ICU^^3^CLINIC") -> str:
    head = [
        f"MSH|^~\\&|GATEWAY^ACDE48234567ABCD^EUI-64|CLINIC|||{T}||ORU^R01^ORU_R01|{control}|P|2.6"
        "|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        "PID|||P123^^^Clinic^PI||Doe^Jane",
        f"PV1||O|{pv1}",
        f"OBR|1|||182777000^monitoring of patient^SCT|||{T}",
    ]
    return "\r".join(head + obx) + "\r"


# Modelled on PCD TF-2 §3.1: containment headers, then metrics under them.
TF2_OBX = [
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X",
    "OBX|2||69798^MDC_DEV_ECG_VMD^MDC|1.1.0.0|||||||X",
    "OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    f"|||{T}||||ACDE48234567ABCD^MONITOR",
    "OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R"
    f"|||{T}||||ACDE48234567ABCD^MONITOR",
    "OBX|5|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.3.1.1|128|266016^MDC_DIM_MMHG^MDC|||||R",
    "OBX|6|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.3.1.2|79|mm[Hg]^mm[Hg]^UCUM|||||R",
    "OBX|7|NM|151708^MDC_CONC_AWAY_CO2_ET^MDC|1.4.1.1|5.2|kPa^kPa^UCUM|||||R",
    "OBX|8|NM|150344^MDC_TEMP^MDC|1.5.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R",
    "OBX|9|NM|151594^MDC_CO2_RESP_RATE^MDC|1.4.1.2|14|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
]

# Shaped like a gateway's push: a monitor and a syringe pump in one message for one bed.
GATEWAY_OBX = [
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.3.1.147842|88|264864^MDC_DIM_BEAT_PER_MIN^MDC"
    f"|||||R|||{T}",
    "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|-999"
    f"|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{T}",
    f"OBX|3|NM|108^MNDRY_ECG_PAUSE_RATE^99MNDRY|1.3.1.108|0||||||R|||{T}",
    "OBX|4|NM|157784^MDC_FLOW_FLUID_PUMP^MDC|2.1.1.1|12.5|265266^MDC_DIM_MILLI_L_PER_HR^MDC"
    f"|||||R|||{T}||||0012AB34CD56EF78^SYRINGE",
    "OBX|5|NM|157864^MDC_VOL_FLUID_DELIV^MDC|2.1.1.2|3.2|263762^MDC_DIM_MILLI_L^MDC|||||R",
    "OBX|6|NM|157760^MDC_CONC_DRUG^MDC|2.1.1.3|1|264306^MDC_DIM_MILLI_G_PER_ML^MDC|||||R",
    "OBX|7|ST|184330^MDC_DRUG_NAME_TYPE^MDC|2.1.1.4|Ketamine||||||R",
    "OBX|8|CWE|184508^MDC_PUMP_STAT^MDC|2.1.1.5|^pump-status-infusing||||||R",
]


def _decode(data: bytes, routes: Routes | None = None) -> tuple[Pcd01Decoder, list]:
    decoder = Pcd01Decoder("chair-1", routes)
    return decoder, decoder.feed(data)


def _values(items: list) -> dict[str, tuple[float, str]]:
    return {r.signal: (r.value, r.unit) for r in items if isinstance(r, Reading)}


def _msa(ack: bytes) -> list[str]:
    assert ack.startswith(b"\x0b") and ack.endswith(b"\x1c\r")
    (msa,) = [s for s in ack[1:-2].decode().split("\r") if s.startswith("MSA")]
    return msa.split("|")


def test_a_tf2_shaped_message_gives_readings_in_canonical_units() -> None:
    decoder, items = _decode(_mllp(_message(TF2_OBX)))
    assert _values(items) == {
        "HR": (72.0, "/min"),
        "SPO2": (97.0, "%"),
        "NIBP_SYS": (128.0, "mmHg"),
        "NIBP_DIA": (79.0, "mmHg"),
        "ETCO2": (pytest.approx(39.0, abs=0.01), "mmHg"),  # 5.2 kPa
        "TEMP": (36.8, "°C"),
        "RR": (14.0, "/min"),
    }
    assert {r.t for r in items} == {EPOCH}  # OBX-14, else OBR-7, both with their offset
    assert [r.source for r in items if r.signal == "RR"] == ["co2"]
    assert decoder.stats.good == 1 and decoder.stats.unknown_codes == 0
    (ack,) = decoder.take_acks()
    assert _msa(ack)[:3] == ["MSA", "AA", "MSG0001"]


def test_a_gateway_message_with_a_pump() -> None:
    decoder, items = _decode(_mllp(_message(GATEWAY_OBX, "GW-7")))
    assert _values(items) == {"HR": (88.0, "/min")}  # PR -999 is "no value", not a reading
    (pump,) = [e for e in items if isinstance(e, DeviceEvent)]
    assert pump.kind == "pump" and pump.t == EPOCH
    assert pump.detail == {
        "rate_ml_h": 12.5,
        "volume_infused_ml": 3.2,
        "concentration_mg_ml": 1.0,
        "drug": "Ketamine",
        "status": "pump-status-infusing",
        "device": "0012AB34CD56EF78",
    }
    s = decoder.stats
    assert (s.no_value, s.unknown_codes, s.codes) == (1, 1, {"MNDRY_ECG_PAUSE_RATE": 1})
    assert _msa(decoder.take_acks()[0])[1] == "AA"  # an unknown code is ignored, not an error


def test_an_unknown_unit_is_refused_and_answered_ae() -> None:
    obx = "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|0.97|{ratio}^{ratio}^UCUM|||||R"
    bad_value = "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.2|fast|264864|||||R"
    decoder, items = _decode(_mllp(_message([obx, bad_value, TF2_OBX[7]])))
    assert _values(items) == {"TEMP": (36.8, "°C")}  # the good OBX still counts
    assert decoder.stats.bad_units == 1 and decoder.stats.content_errors == 1
    msa = _msa(decoder.take_acks()[0])
    assert msa[1] == "AE" and "not convertible to %" in msa[3] and "not a number" in msa[3]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MSX|^~\\&|GW\rOBX|1", "malformed"),
        ("PID|||1\r", "malformed"),
        ("MSH|^~\\&|GW|F|||20250314||ADT^A01|C9|P|2.6\rPV1||I|ICU^^3", "ADT A01"),
        ("MSH|^~\\&|GW|F|||20250314||ORU^R01||P|2.6\r", "control id"),
    ],
)
def test_a_bad_msh_or_message_type_is_answered_ar(text: str, reason: str) -> None:
    decoder, items = _decode(_mllp(text))
    assert items == [] and decoder.stats.rejected == 1 and decoder.stats.good == 0
    msa = _msa(decoder.take_acks()[0])
    assert msa[1] == "AR" and reason in msa[3]


def test_routing_by_location_or_device() -> None:
    routes = Routes({location_key("icu^^3"): "chair-3"}, {"0012AB34CD56EF78": "chair-9"})
    decoder, items = _decode(_mllp(_message(TF2_OBX)), routes)
    assert {r.bed for r in items} == {"chair-3"}
    _, items = _decode(_mllp(_message(GATEWAY_OBX, pv1="WARD^^1")), routes)
    assert {i.bed for i in items} == {"chair-9"}  # the pump's EUI-64 in OBX-18
    decoder, items = _decode(_mllp(_message(TF2_OBX[:4], pv1="WARD^^1")), routes)
    assert items == [] and decoder.stats.unrouted == 1
    assert _msa(decoder.take_acks()[0])[1] == "AE"


def test_mllp_resyncs_after_garbage_and_a_cut_frame() -> None:
    one = _mllp(_message(TF2_OBX[2:4], "A"))
    two = _mllp(_message(TF2_OBX[2:4], "B"))
    stream = b"\r\nnoise\xff\x00" + one[:40] + two + b"junk" + one
    decoder = Pcd01Decoder("chair-1")
    items = [i for k in range(0, len(stream), 7) for i in decoder.feed(stream[k : k + 7])]
    assert len(items) == 4 and decoder.stats.good == 2  # B, then A again; the cut A is lost
    assert decoder.stats.malformed == 1 and decoder.stats.garbage_bytes == len("noise") + 2 + 4
    assert [_msa(a)[2] for a in decoder.take_acks()] == ["B", "A"]


def test_plain_text_files_and_a_reset() -> None:
    text = (_message(TF2_OBX[2:4], "A") + "\n" + _message(TF2_OBX[2:4], "B")).replace("\r", "\n")
    decoder = Pcd01Decoder("chair-1", framing="auto")
    items = decoder.feed(text.encode()) + decoder.finish()
    assert len(items) == 4 and decoder.stats.good == 2
    decoder = Pcd01Decoder("chair-1")
    decoder.feed(_mllp(_message(TF2_OBX))[:50])
    decoder.reset()  # the link dropped mid-frame: the start is forgotten
    assert decoder.feed(_mllp(_message(TF2_OBX))[50:]) == []
    assert len(decoder.feed(_mllp(_message(TF2_OBX)))) == 7


def test_random_bytes_never_raise() -> None:
    rng = random.Random(7)
    decoder = Pcd01Decoder("chair-1")
    for _ in range(200):
        decoder.feed(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
    decoder.reset()
    assert len(decoder.feed(_mllp(_message(TF2_OBX)))) == 7
