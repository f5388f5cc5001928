"""Philips IntelliVue Data Export: real-time sample arrays (waves), both directions.

An extended poll of NOM_MOC_VMO_METRIC_SA_RT (protocols.md §2.4 step 5, code 9) is answered
with one object per wave. The Programming Guide's chapter "Data Export Protocol: Wave Objects"
("Wave Object Attributes") defines what this module reads of each object:

* Sample Array Specification, NOM_ATTR_SA_SPECN (0x096D): SaSpec = array_size u16,
  SampleType {sample_size u8, significant_bits u8}, SaFlags u16.
* Scale and Range Specification, NOM_ATTR_SCALE_SPECN_I16 (0x096F): ScaleRangeSpec16 =
  lower_absolute_value FLOAT, upper_absolute_value FLOAT, lower_scaled_value u16,
  upper_scaled_value u16 (a straight line from scaled to absolute values).
* Sample Period, NOM_ATTR_TIME_PD_SAMP (0x098D): a RelativeTime (1/8 ms).
* Unit Code, NOM_ATTR_UNIT_CODE (0x0996).
* Sample Array Observed Value, NOM_ATTR_SA_VAL_OBS (0x096E): SaObsValue = physio_id u16,
  state u16, array {length u16, the samples}; the compound form NOM_ATTR_SA_CMPD_VAL_OBS
  (0x0967) is count u16, length u16, then SaObsValue[].

The monitor sends the static attributes (specification, scale, period, unit) in the first
result of a poll and only the observed values after that, so they are kept per object handle.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor.model import Waveform

NOM_MOC_VMO_METRIC_SA_RT = 0x0009
NOM_ATTR_SA_VAL_OBS = 0x096E
NOM_ATTR_SA_CMPD_VAL_OBS = 0x0967
NOM_ATTR_SA_SPECN = 0x096D
NOM_ATTR_SCALE_SPECN_I16 = 0x096F
NOM_ATTR_TIME_PD_SAMP = 0x098D
NOM_ATTR_UNIT_CODE = 0x0996

SA_SPEC = struct.Struct(">HBBH")  # array_size, sample_size, significant_bits, flags
SCALE_RANGE_16 = struct.Struct(">IIHH")  # lower/upper absolute (FLOAT), lower/upper scaled
SA_OBS_HEAD = struct.Struct(">HHH")  # physio_id, state, array length
SIGNED_SAMPLES = 255  # significant_bits value for two's-complement samples
STATE_INVALID = 0x8000

# Partition-2 physio ids of the waves (guide, "Wave Objects"; protocols.md §2.7) -> station
# waveform (monitor/signals.py WAVEFORMS). Lead II (NOM_ECG_ELEC_POTL_II 0x0102) has no
# station waveform yet, so it is counted and not drawn under another lead's name.
NOM_PLETH = 0x4BB4
NOM_ECG_ELEC_POTL_I = 0x0101
NOM_ECG_ELEC_POTL_II = 0x0102
WAVE_PHYSIO: dict[int, str] = {NOM_PLETH: "PLETH", NOM_ECG_ELEC_POTL_I: "ECG1"}

# Unit codes (partition 4) a wave may arrive in -> factor to the station waveform's unit.
UNIT_DIMLESS, UNIT_PERCENT = 512, 544
UNIT_MILLI_VOLT, UNIT_MICRO_VOLT = 4274, 4275
WAVE_UNITS: dict[str, dict[int, float]] = {
    # the pleth is a relative amplitude: the strip shows its shape, not a quantity
    "PLETH": {UNIT_DIMLESS: 1.0, UNIT_PERCENT: 1.0},
    "ECG1": {UNIT_MILLI_VOLT: 1000.0, UNIT_MICRO_VOLT: 1.0},
}
JOIN_S = 0.05  # a block starting this close to the last one's end continues it
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(slots=True)
class WaveObject:
    """What the monitor has told of one wave object (its static attributes)."""

    array_size: int | None = None
    sample_size: int = 16
    significant_bits: int = 16
    scale: tuple[float, float, int, int] | None = None
    period_ticks: int | None = None
    unit: int | None = None


@dataclass(frozen=True, slots=True)
class SampleArray:
    handle: int
    physio_id: int
    state: int
    raw: bytes


def raw_samples(obj: WaveObject, raw: bytes) -> np.ndarray:
    """The sample words as integers, masked to their significant bits (SampleType)."""
    if obj.sample_size not in (8, 16):
        raise ValueError(f"sample size {obj.sample_size} bits")
    width = obj.sample_size // 8
    if obj.array_size is not None and len(raw) != obj.array_size * width:
        raise ValueError("sample array length differs from its specification")
    if obj.significant_bits == SIGNED_SAMPLES:
        return np.frombuffer(raw, ">i1" if width == 1 else ">i2").astype(np.int64)
    words = np.frombuffer(raw, ">u1" if width == 1 else ">u2").astype(np.int64)
    if obj.significant_bits < obj.sample_size:
        words &= (1 << obj.significant_bits) - 1
    return words


def scaled(obj: WaveObject, words: np.ndarray) -> np.ndarray:
    """ScaleRangeSpec16: the line through (lower scaled, lower absolute) and (upper scaled,
    upper absolute)."""
    assert obj.scale is not None
    lo_abs, hi_abs, lo, hi = obj.scale
    if hi == lo:
        raise ValueError("scale range with equal scaled values")
    return lo_abs + (words - lo) * ((hi_abs - lo_abs) / (hi - lo))


def read_wave_attributes(
    objects: dict[int, WaveObject],
    handle: int,
    avas: list[tuple[int, bytes]],
    float_type: Callable[[int], float | str],
) -> list[SampleArray]:
    """Update the handle's static attributes; return its observed sample arrays."""
    obj = objects.setdefault(handle, WaveObject())
    out: list[SampleArray] = []
    for attr, value in avas:
        if attr == NOM_ATTR_SA_SPECN:
            obj.array_size, obj.sample_size, obj.significant_bits, _ = SA_SPEC.unpack_from(value)
        elif attr == NOM_ATTR_SCALE_SPECN_I16:
            lo_abs, hi_abs, lo, hi = SCALE_RANGE_16.unpack_from(value)
            lo_f, hi_f = float_type(lo_abs), float_type(hi_abs)
            if isinstance(lo_f, str) or isinstance(hi_f, str):
                raise ValueError("scale range without numbers")
            obj.scale = (lo_f, hi_f, lo, hi)
        elif attr == NOM_ATTR_TIME_PD_SAMP:
            obj.period_ticks = struct.unpack_from(">I", value)[0]
        elif attr == NOM_ATTR_UNIT_CODE:
            obj.unit = struct.unpack_from(">H", value)[0]
        elif attr == NOM_ATTR_SA_VAL_OBS:
            out.append(_sa_obs(handle, value, 0)[0])
        elif attr == NOM_ATTR_SA_CMPD_VAL_OBS:
            count, _ = struct.unpack_from(">HH", value)
            pos = 4
            for _ in range(count):
                array, pos = _sa_obs(handle, value, pos)
                out.append(array)
    return out


def _sa_obs(handle: int, data: bytes, pos: int) -> tuple[SampleArray, int]:
    physio, state, length = SA_OBS_HEAD.unpack_from(data, pos)
    pos += SA_OBS_HEAD.size
    if pos + length > len(data):
        raise ValueError("sample array longer than its attribute")
    return SampleArray(handle, physio, state, data[pos : pos + length]), pos + length


def waveform(bed: str, t: float, signal: str, obj: WaveObject, array: SampleArray) -> Waveform:
    """The station's block: float32 samples in the waveform's unit; NaN where invalid."""
    assert obj.period_ticks and obj.unit is not None
    factor = WAVE_UNITS[signal][obj.unit]
    values = scaled(obj, raw_samples(obj, array.raw)) * factor
    if values.size and float(np.max(np.abs(values))) > FLOAT32_MAX:
        raise ValueError("scale range gives samples beyond a float32")
    if array.state & STATE_INVALID:
        values[:] = np.nan
    rate_hz = 8000 / obj.period_ticks
    return Waveform(bed, t, signal, rate_hz, values.astype(np.float32))


# -- the monitor's side ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveSpec:
    """How the virtual monitor (and the tests) describe one wave object."""

    physio_id: int
    period_ticks: int  # RelativeTime per sample: 64 = 8 ms (125 Hz), 16 = 2 ms (500 Hz)
    unit: int
    scale: tuple[float, float, int, int]  # lower/upper absolute, lower/upper scaled
    significant_bits: int = 12

    @property
    def rate_hz(self) -> float:
        return 8000 / self.period_ticks

    def to_words(self, values: np.ndarray) -> np.ndarray:
        """Absolute values back to the scaled words, refusing what the range cannot hold."""
        lo_abs, hi_abs, lo, hi = self.scale
        words = np.rint(lo + (values - lo_abs) * ((hi - lo) / (hi_abs - lo_abs)))
        if words.size and (words.min() < 0 or words.max() >= 1 << self.significant_bits):
            raise ValueError("wave values outside the scale range")
        return words.astype(">u2")


PLETH_SPEC = WaveSpec(NOM_PLETH, 64, UNIT_DIMLESS, (0.0, 100.0, 0, 4000))
ECG_I_SPEC = WaveSpec(NOM_ECG_ELEC_POTL_I, 16, UNIT_MILLI_VOLT, (-2.0, 2.0, 0, 4000))
