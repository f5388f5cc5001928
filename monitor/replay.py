"""Replay: the station's bed pipeline, offline, on recorded readings and commands.

The readings are the `time,signal,value,unit` CSV that `python -m devices decode` and the
session export write. They run through the live station's own bed core (BedCore): the same
per-signal validation, the same alarm engine and technical alarms, and the same session
gates. Time advances in 1-s ticks between readings, so an alarm due inside a gap is stamped
on time, and a gap in every signal longer than the bed's stale limit is a lost feed, as live.
Commands (`--commands`, JSON lines) are the station's own nurse and physician commands.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from monitor.config import BedConfig, Config
from monitor.domain.bed import BedCore
from monitor.domain.commands import session_step
from monitor.feed import CommandError
from monitor.model import AlarmPhase, AlarmTransition, Priority, Reading, SessionInfo
from monitor.session import SESSION_EVENTS, SessionEvent
from monitor.signals import REGISTRY

READINGS_HEADER = ["time", "signal", "value", "unit"]
# A session export: local ISO 8601 time with its offset, and the epoch seconds beside it.
EXPORT_HEADER = ["time", "epoch", "signal", "value", "unit"]
TRANSITIONS_HEADER = ["time", "bed", "alarm", "priority", "state", "value"]
ROLES = ("nurse", "physician")
TICK_S = 1.0


class ReplayInputError(Exception):
    """The readings or commands file is not as expected; the message names the line."""


@dataclass(frozen=True, slots=True)
class Command:
    t: float
    command: str
    user: str
    role: str
    args: dict[str, Any]


@dataclass
class ReplayResult:
    readings: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first_t: float | None = None
    last_t: float | None = None
    onsets: Counter[str] = field(default_factory=Counter)
    onsets_by_alarm: Counter[str] = field(default_factory=Counter)

    @property
    def hours(self) -> float:
        if self.first_t is None or self.last_t is None:
            return 0.0
        return (self.last_t - self.first_t) / 3600

    def burden(self) -> dict[str, float]:
        """Alarms raised per hour, per priority."""
        hours = self.hours
        return {
            p.name: (self.onsets[p.name] / hours if hours else math.nan)
            for p in sorted(Priority, reverse=True)
        }


def _csv_rows(lines: Iterable[str], source: str) -> Iterator[list[str]]:
    """CSV rows; a file that is not text (a raw capture given by mistake) is one line."""
    reader = csv.reader(lines)
    n = 0
    try:
        for n, row in enumerate(reader, start=1):  # noqa: B007 (n names the bad line)
            yield row
    except UnicodeDecodeError:
        raise ReplayInputError(
            f"{source}: line {n + 1}: not a text CSV (binary data); decode a monitor capture"
            " first with python -m devices decode"
        ) from None
    except csv.Error as err:
        raise ReplayInputError(f"{source}: line {n + 1}: not a readable CSV ({err})") from None


def read_readings(lines: Iterable[str], source: str) -> Iterator[tuple[float, str, float, str]]:
    """(time, signal, value, unit) rows; raises ReplayInputError naming the bad line."""
    rows = _csv_rows(lines, source)
    header = next(rows, None)
    if header == EXPORT_HEADER:  # a session export: its epoch column is the time
        rows = ([r[1], *r[2:]] if len(r) == 5 else r for r in rows)
    elif header != READINGS_HEADER:
        raise ReplayInputError(
            f"{source}: line 1: expected the header {','.join(READINGS_HEADER)}"
            f" or {','.join(EXPORT_HEADER)}"
        )
    for n, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != 4:
            raise ReplayInputError(f"{source}: line {n}: expected 4 fields, got {len(row)}")
        try:
            t, value = float(row[0]), float(row[2])
        except ValueError:
            raise ReplayInputError(f"{source}: line {n}: time and value must be numbers") from None
        if not math.isfinite(t):
            raise ReplayInputError(f"{source}: line {n}: time must be a finite number")
        yield t, row[1], value, row[3]


def read_commands(lines: Iterable[str], source: str) -> list[Command]:
    """One JSON object a line: {"t", "command", "user", "role", "args"}; one-line errors."""
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}: line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise ReplayInputError(f"{where}: not JSON ({err.msg})") from None
        if not isinstance(raw, dict):
            raise ReplayInputError(f"{where}: expected a JSON object")
        t, name, args = raw.get("t"), raw.get("command"), raw.get("args", {})
        if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
            raise ReplayInputError(f"{where}: t must be a number (unix seconds)")
        if name not in COMMANDS:
            raise ReplayInputError(f"{where}: unknown command {name!r}")
        if raw.get("role") not in ROLES:
            raise ReplayInputError(f"{where}: role must be one of {', '.join(ROLES)}")
        if not isinstance(args, dict):
            raise ReplayInputError(f"{where}: args must be a JSON object")
        out.append(Command(float(t), name, str(raw.get("user") or "replay"), raw["role"], args))
    return sorted(out, key=lambda c: c.t)


# replay's command names -> the station's workflow steps (monitor.domain.commands)
SESSION_STEPS = {
    "create_session": "create",
    "confirm_baseline": "baseline",
    "start_infusion": "start",
    "change_rate": "rate",
    "pause_infusion": "pause",
    "resume_infusion": "resume",
    "stop_infusion": "stop",
    "give": "give",
    "intervention": "intervention",
    "assess": "assess",
    "discharge": "discharge",
    "close_session": "close",
}
COMMANDS = (*SESSION_STEPS, "acknowledge", "pause_audio", "reset_alarms", "change_limit")


def _run(core: BedCore, c: Command, now: float) -> object:
    """One command, through the same steps as the bed page's."""
    args = dict(c.args, role=c.role)
    step = SESSION_STEPS.get(c.command)
    if step == "give":
        step = "bolus" if args.pop("kind", None) == "bolus" else "medication"
    elif step == "assess":
        args = {"scores": c.args, "role": c.role}
    if step == "create":
        plan = core.check_plan(c.args)
        info = SessionInfo(
            1, core.bed, "live", now, None, plan["weight_kg"], plan["planned_rate_mg_kg_h"],
            "pre-infusion", plan.get("patient_ref", ""), plan.get("indication", ""),
            plan.get("regimen", ""), plan.get("concentration_mg_ml", 0.0),
        )  # fmt: skip
        created = SessionEvent(now, "session_created", c.user, dict(plan, source="live"))
        core.open_session(info, [created], now)
        return info
    if step is not None:
        return session_step(core, step, c.user, now, args)
    if c.command == "acknowledge":
        return core.acknowledge(c.user, now)
    if c.command == "pause_audio":
        return core.pause_audio(c.user, now)
    if c.command == "reset_alarms":
        return core.reset_alarms(c.user, now)
    if c.role != "physician":  # change_limit, as on the station
        raise CommandError(f"not permitted for your role ({c.role}): limits")
    try:
        limit = float(args.get("limit"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CommandError("change_limit: limit must be a number") from None
    name, reason = str(args.get("name")), str(args.get("reason") or "")
    return core.change_limit(name, limit, c.user, reason, now)


def intervals_of(bed: BedConfig) -> dict[str, float]:
    """How often each signal arrives on this bed's device (sizes the stale limit)."""
    dev = bed.device
    out = {code: float(dev.interval_s) for code in REGISTRY if not REGISTRY[code].intermittent}
    out.update(
        {code: float(dev.nibp_interval_s) for code in REGISTRY if REGISTRY[code].intermittent}
    )
    return out


def replay(
    rows: Iterable[tuple[float, str, float, str]],
    config: Config,
    bed: str,
    out: TextIO | None,
    commands: Iterable[Command] = (),
    baseline: dict[str, float] | None = None,
    events: TextIO | None = None,
) -> ReplayResult:
    """Feed `rows` (and `commands`) through one bed in simulated time; write alarm transitions
    as CSV to `out` and every event as JSON lines to `events`."""
    writer = csv.writer(out, lineterminator="\n") if out is not None else None
    if writer:
        writer.writerow(TRANSITIONS_HEADER)
    result = ReplayResult()
    # readings and commands in time order; at the same second, the reading first
    merged = heapq.merge(
        ((row[0], 0, row) for row in rows),
        ((c.t, 1, c) for c in commands),
        key=lambda x: (x[0], x[1]),
    )  # streamed: a long recording is never held in memory
    first = next(merged, None)
    if first is None:
        return result
    # the bed of that id in the config sets the stale limit; else the first bed
    template = next((b for b in config.beds if b.id == bed), config.beds[0])

    def emit(ev: dict[str, Any]) -> None:
        if events is not None:
            events.write(json.dumps(ev, sort_keys=True) + "\n")

    def listen(item: object) -> None:
        if isinstance(item, AlarmTransition):
            if item.state is AlarmPhase.ACTIVE:
                result.onsets[item.priority.name] += 1
                result.onsets_by_alarm[item.name] += 1
            value = None if item.value is None else round(item.value, 6)
            if writer:
                shown = "" if item.value is None else f"{item.value:.10g}"
                writer.writerow(
                    [f"{item.t:.10g}", bed, item.name, item.priority.name, item.state, shown]
                )
            ev = {"t": item.t, "kind": "alarm", "alarm": item.name, "priority": item.priority.name}
            emit(ev | {"state": str(item.state), "value": value, "reason": item.reason})
        elif isinstance(item, SessionEvent) and item.kind in SESSION_EVENTS:
            emit({"t": item.t, "kind": "session", "event": item.kind, "user": item.user})

    core = BedCore(
        bed, bed, intervals_of(template), config.alarms, config.session, now=first[0]
    )  # the live bed's core, with no store, thread, device or clock
    if baseline:
        core.alarms.set_baseline(baseline)
    now, next_tick = first[0], first[0] + TICK_S
    for t, _, item in itertools.chain([first], merged):
        while next_tick <= t:  # time moves on: delays, a lost feed, escalation
            now = next_tick
            core.tick(now)
            next_tick += TICK_S
        now = max(now, t)
        if isinstance(item, Command):
            _command(core, item, now, emit, listen)
        else:
            _, signal, value, unit = item
            if result.first_t is None:
                result.first_t = t
            result.last_t = t
            reason = core.accept(Reading(bed, t, signal, value, unit), now)
            if reason is None:
                result.readings += 1
            else:
                result.skipped[reason] += 1
        for event in core.take():
            listen(event)
    return result


def _command(
    core: BedCore,
    c: Command,
    now: float,
    emit: Callable[[dict[str, Any]], None],
    listen: Callable[[object], None],
) -> None:
    before = core.phase
    try:
        _run(core, c, now)
    except CommandError as err:
        for event in core.take():  # a refusal is logged before it is reported
            listen(event)
        emit({"t": now, "kind": "command", "command": c.command, "ok": False, "reason": str(err)})
        return
    for event in core.take():
        listen(event)
    emit({"t": now, "kind": "command", "command": c.command, "ok": True, "reason": ""})
    if core.phase != before:
        emit({"t": now, "kind": "phase", "phase": core.phase})
