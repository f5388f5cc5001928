"""The workflow steps by name: one table for the bed page, the replay tool and the tests.

`create` is not here: a new session needs its record first, which the caller makes (the
runtime in the session log; the replay in memory) before `BedCore.open_session`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.domain.bed import BedCore
from monitor.feed import CommandError

Step = Callable[[BedCore, str, float, dict[str, Any]], object]


def _role(args: dict[str, Any]) -> str | None:
    return args.get("role", "nurse")


def _override(args: dict[str, Any]) -> str:
    return str(args.get("override_reason", ""))


STEPS: dict[str, Step] = {
    "baseline": lambda core, user, now, a: core.confirm_baseline(user, now),
    "start": lambda core, user, now, a: core.start_infusion(
        user, _override(a), list(a.get("ticked", [])), _role(a), now
    ),
    "rate": lambda core, user, now, a: core.change_rate(
        a.get("rate_mg_kg_h"), user, _override(a), _role(a), now
    ),
    "pause": lambda core, user, now, a: core.pause_infusion(user, now),
    "resume": lambda core, user, now, a: core.resume_infusion(user, now),
    "stop": lambda core, user, now, a: core.stop_infusion(user, now),
    "bolus": lambda core, user, now, a: core.bolus(
        a.get("mg_per_kg"), user, _override(a), _role(a), now
    ),
    "medication": lambda core, user, now, a: core.medication(
        str(a.get("drug", "")), str(a.get("dose", "")), user, now
    ),
    "intervention": lambda core, user, now, a: core.intervention(str(a.get("what", "")), user, now),
    "assess": lambda core, user, now, a: core.assess(a["scores"], user, now),
    "discharge": lambda core, user, now, a: core.discharge(
        list(a.get("ticked", [])), user, _override(a), _role(a), now
    ),
    "close": lambda core, user, now, a: core.close_session(user, str(a.get("reason", "")), now),
}


def session_step(core: BedCore, step: str, user: str, now: float, args: dict[str, Any]) -> object:
    """Run one workflow step on the core; CommandError when it is unknown or refused."""
    try:
        run = STEPS[step]
    except KeyError:
        raise CommandError(f"unknown session command {step!r}") from None
    return run(core, user, now, args)
