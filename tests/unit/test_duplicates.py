"""A duplicate is the same device record twice, not two records in the same second.

A monitor stamps its records with whole seconds; a late record and the next one can share a
second. The bed counts them as two readings, and drops only a record it has already seen.
"""

from __future__ import annotations

from devices.protocols import datex_s5 as dri
from devices.protocols import datex_s5_encode as enc
from monitor.config import AlarmsConfig
from monitor.domain.bed import BedCore
from monitor.model import Reading

T0 = 1_767_225_600.0
VALUES = {"HR": 72, "PR": 72, "SPO2": 98, "RR": 14, "ETCO2": 38, "TEMP": 36.8}


def _core() -> BedCore:
    return BedCore("b", "B", {"HR": 1.0, "SPO2": 1.0}, AlarmsConfig(rules=[]), now=T0)


def _accepted(core: BedCore, readings: list[Reading], now: float) -> list[str | None]:
    return [core.accept(r, now) for r in readings]


def test_two_records_in_one_second_are_two_readings() -> None:
    core = _core()
    first = Reading("b", T0, "HR", 72, "/min", record=7)
    second = Reading("b", T0, "HR", 72, "/min", record=8)  # same second, same value
    assert _accepted(core, [first, second], T0 + 0.9) == [None, None]
    hr = [e for e in core.take() if isinstance(e, Reading) and e.signal == "HR"]
    assert [r.record for r in hr] == [7, 8]
    assert core.rejected == {}


def test_the_same_record_twice_is_a_duplicate() -> None:
    core = _core()
    reading = Reading("b", T0, "HR", 72, "/min", record=7)
    assert core.accept(reading, T0) is None
    again = core.accept(Reading("b", T0, "HR", 72, "/min", record=7), T0 + 0.5)
    assert again == "the same record as the last reading (duplicate)"
    older = core.accept(Reading("b", T0 - 1, "HR", 70, "/min", record=6), T0 + 0.6)
    assert older == "older than the last reading (out of order)"
    assert sum(core.rejected.values()) == 2


def test_without_record_numbers_the_content_tells() -> None:
    core = _core()
    assert core.accept(Reading("b", T0, "SPO2", 97, "%"), T0) is None
    assert core.accept(Reading("b", T0, "SPO2", 96, "%"), T0 + 0.5) is None  # another record
    dup = core.accept(Reading("b", T0, "SPO2", 96, "%"), T0 + 0.6)  # the same one again
    assert dup == "the same record as the last reading (duplicate)"


def test_dri_records_in_one_second_through_the_codec() -> None:
    decoder, core = dri.DriDecoder("b"), _core()
    one = enc.phdb_record(VALUES, int(T0), r_nbr=41)
    two = enc.phdb_record(VALUES | {"HR": 73}, int(T0), r_nbr=42)  # late, then on time
    readings = [e for e in decoder.feed(one + two) if isinstance(e, Reading)]
    assert {r.record for r in readings} == {41, 42}
    assert all(reason is None for reason in _accepted(core, readings, T0 + 0.5))
    hr = [e.value for e in core.take() if isinstance(e, Reading) and e.signal == "HR"]
    assert hr == [72, 73]
    repeated = [e for e in decoder.feed(two) if isinstance(e, Reading)]  # sent again
    assert all(r is not None and "duplicate" in r for r in _accepted(core, repeated, T0 + 0.7))
