"""config.yaml as pydantic models: the one place that knows its shape.

A bad file raises ConfigError whose message is one line naming the key and the problem,
e.g. ``config.yaml: beds[0].device.port: field required``.
"""

from __future__ import annotations

import ipaddress
import math
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.access import is_loopback
from monitor.config_base import Strict, reject_duplicates, signal_or_score

# The device models live in device_config.py; their names stay importable from here.
from monitor.device_config import (  # noqa: F401
    DEVICE_KINDS,
    VIRTUAL_PORT,
    DatexS5Device,
    DeviceConfig,
    IntelliVueDevice,
    MqttDevice,
    SimulatorDevice,
)
from monitor.session import SCALES
from monitor.session_config import SessionConfig
from monitor.signals import REGISTRY

DEFAULT_CONFIG = Path("config.yaml")


class ConfigError(Exception):
    """A configuration problem, already phrased as one line for the operator."""


class ServerConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    station: str = Field("station-1", min_length=1, max_length=64)
    """Acting user for audit entries when logins are off (loopback only)."""
    auth: bool = False
    """Logins and roles. Required to bind anything but a loopback address."""
    idle_timeout_min: float = Field(15, gt=0, le=720)
    login_attempts_per_minute: int = Field(30, ge=1, le=600)
    """Per address, generous: behind a proxy every browser may share one address."""
    login_failures_before_lock: int = Field(5, ge=3, le=20)
    """Wrong passwords in a row that lock a user's name; each further lock lasts twice as
    long (up to an hour) until a right password or an admin's unlock."""
    login_lock_min: float = Field(1, gt=0, le=60)
    behind_tls_proxy: bool = False
    """The station is reached through a TLS reverse proxy on this machine: cookies are
    marked Secure, and the client's address is read from the proxy's X-Forwarded-For."""
    log_file: str | None = None
    """The station's log as a file too, besides stderr (systemd's journal); relative to the
    config file. Reopened when logrotate moves it away (copytruncate is not needed)."""

    @model_validator(mode="after")
    def _no_open_bind_without_logins(self) -> ServerConfig:
        if not self.auth and not is_loopback(self.host):
            raise ValueError(
                f"binding {self.host} needs auth: true (logins and roles); refusing to start"
            )
        return self

    @field_validator("host")
    @classmethod
    def _host_is_address(cls, v: str) -> str:
        if v == "localhost":
            return v
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an IP address or 'localhost'") from None
        return v


class StoreConfig(Strict):
    path: str = "./data/sessions.db"
    """SQLite file; a relative path is taken from the config file's folder. With `url`, only
    its folder is used (the dashboard's secret key lives there)."""
    url: str | None = None
    """postgresql://user@host:port/db: the session log on PostgreSQL instead of SQLite."""
    flush_interval_s: float = Field(0.5, gt=0, le=1.0)

    @field_validator("url")
    @classmethod
    def _postgres_without_password(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme != "postgresql":
            raise ValueError(f"{parts.scheme or v!r}: only postgresql://user@host:port/db URLs")
        if parts.password is not None or "password=" in parts.query:
            raise ValueError(
                "no password in the URL (it would show in the config page and the logs);"
                " give it in PGPASSWORD or ~/.pgpass"
            )
        return v


class BedConfig(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=40)
    device: DeviceConfig


Op = Literal[">", ">=", "<", "<="]
PriorityName = Literal["LOW", "MEDIUM", "HIGH"]
# Re-alarm after an acknowledgement while the condition persists (clinical.md §6).
DEFAULT_REMINDER_S = {"HIGH": 120.0, "MEDIUM": 300.0, "LOW": 300.0}
DEFAULT_ESCALATE_S = {"HIGH": None, "MEDIUM": 180.0, "LOW": None}
MAX_AUDIO_PAUSE_S = 120.0  # ISO 80601-2-61 caps SpO2 audio pause at 2 min


class AlarmRule(Strict):
    """One alarm condition for one signal, with its priority and IEC 60601-1-8 behaviour.

    The condition is exactly one of:
      op + limit                     the value beyond an absolute limit;
      op + limit + relative          beyond the confirmed baseline by `limit` % or units
                                     (above it for > and >=, below it for < and <=);
      rise + window_s                risen by `rise` units within the last `window_s`;
      no_value_s                     no valid value for that many seconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(pattern=r"^[A-Z0-9_]+$")
    signal: str
    op: Op | None = None
    limit: float | None = None
    allowed: tuple[float, float] | None = None
    """The range a limit may be set to, here and at run time (default: the signal's plausible
    range, or the scale's). A limit outside it could switch the alarm off."""
    relative: Literal["pct", "abs"] | None = None
    rise: float | None = Field(None, gt=0)
    window_s: float | None = Field(None, gt=0, le=3600)
    no_value_s: float | None = Field(None, gt=0, le=3600)
    priority: PriorityName
    delay_s: float = Field(0.0, ge=0, le=300)
    """Condition delay: how long the condition must hold before the alarm is raised."""
    clear_delay_s: float = Field(0.0, ge=0, le=300)
    """How long the condition must be gone before the alarm ends."""
    hysteresis: float = Field(0.0, ge=0)
    """The value must come back past the limit by this much before the alarm can end."""
    latching: bool | None = None
    """Stays shown after its cause has gone, until reset. Default: HIGH latches."""
    escalate_after_s: float | None = Field(None, gt=0, le=3600)
    """Unacknowledged this long, the alarm goes up one priority. Default: MEDIUM after 180 s."""
    reminder_s: float | None = Field(None, gt=0, le=3600)
    """An acknowledged alarm sounds again after this long if its condition persists."""
    confirm_repeat: bool = False
    """Intermittent measurement (NIBP): prompt to confirm with a repeat reading."""

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, v: str) -> str:
        return signal_or_score(v)

    @model_validator(mode="after")
    def _one_condition(self) -> AlarmRule:
        if not self.name.startswith(self.signal + "_"):
            raise ValueError(f"alarm name {self.name!r} must start with {self.signal + '_'!r}")
        forms = [
            self.op is not None or self.limit is not None,
            self.rise is not None or self.window_s is not None,
            self.no_value_s is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one condition: op+limit, rise+window_s or no_value_s")
        if forms[0] and (self.op is None or self.limit is None):
            raise ValueError("op and limit go together")
        if forms[1] and (self.rise is None or self.window_s is None):
            raise ValueError("rise and window_s go together")
        if self.relative is not None and not forms[0]:
            raise ValueError("relative applies to an op+limit condition")
        if self.relative is not None and self.limit is not None and self.limit < 0:
            raise ValueError("a relative limit is a distance from the baseline: use >= 0")
        if self.limit is not None:
            problem = self.limit_problem(self.limit)
            if problem:
                raise ValueError(problem)
        return self

    @property
    def limit_range(self) -> tuple[float, float]:
        """Where this rule's limit may lie: its `allowed` range inside the plausible one."""
        lo, hi = plausible_range(self.signal)
        if self.relative == "pct":
            lo, hi = 0.0, 100.0
        elif self.relative == "abs":
            lo, hi = 0.0, hi - lo
        if self.allowed is not None:
            lo, hi = max(lo, self.allowed[0]), min(hi, self.allowed[1])
        return lo, hi

    def limit_problem(self, limit: float) -> str | None:
        """One line naming why `limit` is refused, or None."""
        lo, hi = self.limit_range
        if not math.isfinite(limit) or not lo <= limit <= hi:
            return f"the limit of {self.name} must be between {lo:g} and {hi:g}"
        return None

    @property
    def latches(self) -> bool:
        return self.priority == "HIGH" if self.latching is None else self.latching

    @property
    def reminder(self) -> float:
        return self.reminder_s or DEFAULT_REMINDER_S[self.priority]

    @property
    def escalation(self) -> float | None:
        return self.escalate_after_s or DEFAULT_ESCALATE_S[self.priority]


class AlarmsConfig(Strict):
    audio_pause_s: float = Field(MAX_AUDIO_PAUSE_S, gt=0, le=MAX_AUDIO_PAUSE_S)
    rules: list[AlarmRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[AlarmRule]) -> list[AlarmRule]:
        reject_duplicates("alarm name", [r.name for r in rules])
        return rules

    def missing_vitals(self) -> list[str]:
        """The core vital signs with no rule at all: such a rule set cannot protect anyone."""
        have = {r.signal.split("_")[0] for r in self.rules}
        return [v for v in REQUIRED_VITALS if v not in have]


REQUIRED_VITALS = ("SPO2", "HR", "NIBP", "RR")


def plausible_range(code: str) -> tuple[float, float]:
    """A signal's plausible range, or an assessment scale's range."""
    if code in SCALES:
        lo, hi = SCALES[code]
        return float(lo), float(hi)
    sig = REGISTRY[code]
    return sig.low, sig.high


class TrainingConfig(Strict):
    """Training mode: simulated beds can run scenarios, and time can run faster."""

    enabled: bool = False
    scenarios: str = "devices/simulator/scenarios"  # relative to the config file
    speed: float = Field(1.0, gt=0, le=60)


class Config(Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    beds: list[BedConfig] = Field(min_length=1)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig, validate_default=True)
    session: SessionConfig = Field(default_factory=SessionConfig)

    @field_validator("beds")
    @classmethod
    def _unique_bed_ids(cls, beds: list[BedConfig]) -> list[BedConfig]:
        reject_duplicates("bed id", [b.id for b in beds])
        return beds

    @field_validator("alarms")
    @classmethod
    def _covers_the_vitals(cls, alarms: AlarmsConfig) -> AlarmsConfig:
        missing = alarms.missing_vitals()
        if missing:
            raise ValueError(f"rules: no alarm rule for {', '.join(missing)}")
        return alarms

    def bed(self, bed_id: str) -> BedConfig:
        for b in self.beds:
            if b.id == bed_id:
                return b
        raise KeyError(bed_id)


def _dotted(loc: tuple[int | str, ...]) -> str:
    """('beds', 0, 'device', 'datex_s5', 'port') -> 'beds[0].device.port'."""
    out = ""
    prev: int | str | None = None
    for part in loc:
        if prev == "device" and part in DEVICE_KINDS:
            prev = part
            continue  # pydantic's union tag, not a key the operator wrote
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
        prev = part
    return out


def one_line(err: ValidationError, source: str) -> str:
    """A validation error as one line: the source, the dotted key and the problem."""
    first = err.errors()[0]
    msg = first["msg"]
    msg = msg.removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    where = _dotted(tuple(first["loc"]))
    if where and FIELD_NAMED.match(msg):  # a model's check that names its field: one key
        where, msg = f"{where}.{msg.split(': ', 1)[0]}", msg.split(": ", 1)[1]
    extra = len(err.errors()) - 1
    tail = f" (and {extra} more)" if extra else ""
    return f"{source}: {where + ': ' if where else ''}{msg}{tail}".replace("\n", " ")


FIELD_NAMED = re.compile(r"^[a-z_][a-z0-9_]*: ")


def parse_config(data: object, source: str = "config.yaml", base_dir: Path | None = None) -> Config:
    """Validate already-parsed YAML. Relative store paths are resolved against `base_dir`."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(one_line(err, source)) from None
    if base_dir is not None and not Path(config.store.path).is_absolute():
        store = config.store.model_copy(update={"path": str(base_dir / config.store.path)})
        config = config.model_copy(update={"store": store})
    if base_dir is not None and not Path(config.training.scenarios).is_absolute():
        folder = str(base_dir / config.training.scenarios)
        config = config.model_copy(
            update={"training": config.training.model_copy(update={"scenarios": folder})}
        )
    if base_dir is not None:
        config = config.model_copy(
            update={"beds": [_resolve_broker(b, base_dir) for b in config.beds]}
        )
    log_file = config.server.log_file
    if base_dir is not None and log_file and not Path(log_file).is_absolute():
        server = config.server.model_copy(update={"log_file": str(base_dir / log_file)})
        config = config.model_copy(update={"server": server})
    if config.training.enabled and not Path(config.training.scenarios).is_dir():
        raise ConfigError(f"{source}: training.scenarios: no folder {config.training.scenarios}")
    return config


def _resolve_broker(bed: BedConfig, base: Path) -> BedConfig:
    """An mqtt bed's password and TLS files, relative to the config file like store.path."""
    dev = bed.device
    if not isinstance(dev, MqttDevice):
        return bed
    device = dev.model_copy(update={"broker": dev.broker.resolved(base)})
    return bed.model_copy(update={"device": device})


def load_config(path: Path | str = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file; every failure is a one-line ConfigError."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{source}: cannot read: {err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or "invalid YAML"
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(f"{source}: {where}invalid YAML: {problem}") from None
    return parse_config(data, source, base_dir=path.resolve().parent)
