"""Monitoring-core tools.

    python -m monitor pk --model clements|domino --weight KG --infusion RATE@START-END
                         [--infusion ...] [--bolus MG_PER_KG@MIN] --at M1,M2,...
        predicted plasma and effect-site concentrations as CSV (minute,cp_ng_ml,ce_ng_ml);
        RATE in mg/kg/h, times in minutes from the start.

python -m monitor users add|list|disable|reset [NAME] [--role ROLE] [--password-stdin]
    the people who may log in (roles nurse, physician, instructor, admin); passwords are
    stored as scrypt hashes in the session log, never in config.yaml.
python -m monitor replay --config FILE READINGS.csv [--commands COMMANDS.jsonl]
                         [--baseline SIG=VALUE ...] [--events OUT.jsonl] [--bed NAME]
    run recorded readings (and nurse commands) through the station's bed in simulated
    time; transitions as CSV (time,bed,alarm,priority,state,value) on stdout, every event
    as JSON lines to --events, the alarm burden on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import math
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from monitor.access import ROLES, AccessError, check_role, check_username, hash_password
from monitor.cli import number_in, subcommand
from monitor.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from monitor.exports import FORMATS, ExportError, export_session, import_readings
from monitor.gates import RATE_MG_KG_H, WEIGHT_KG
from monitor.pk import DEFAULT_KE0_PER_MIN, MODELS, Bolus, Infusion, PkSimulator
from monitor.replay import ReplayInputError, read_commands, read_readings, replay
from monitor.signals import REGISTRY
from monitor.storage.backends import open_session_log
from monitor.storage.sqlite import SessionStore, StoreError

MAX_BOLUS_MG_KG = 2.0  # the highest bolus guard config.yaml allows (session.dose)
KE0_MAX = 5.0  # /min; the default is 0.114 (config.yaml session.ke0_per_min)


def _infusion(text: str) -> Infusion:
    try:
        rate, span = text.split("@")
        start, end = span.split("-")
        inf = Infusion(float(rate), float(start), float(end))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected RATE@START-END, e.g. 0.75@0-40"
        ) from None
    lo, hi = RATE_MG_KG_H
    if not lo <= inf.rate_mg_kg_h <= hi:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the rate must be {lo:g} to {hi:g} mg/kg/h (as the station allows)"
        )
    if inf.start_min < 0 or inf.end_min <= inf.start_min:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= START < END minutes")
    return inf


def _bolus(text: str) -> Bolus:
    try:
        dose, at = text.split("@")
        bolus = Bolus(float(dose), float(at))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MG_PER_KG@MIN, e.g. 0.1@0") from None
    if not 0 < bolus.mg_per_kg <= MAX_BOLUS_MG_KG or bolus.at_min < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the dose must be more than 0 and at most {MAX_BOLUS_MG_KG:g} mg/kg,"
            " the time >= 0 min"
        )
    return bolus


def _minutes(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected minutes like 10,40,90") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more minutes >= 0")
    return values


_weight = number_in("the weight", *WEIGHT_KG, "kg")
_ke0 = number_in("ke0", 0, KE0_MAX, "/min", above_lo=True)


def _open_log(config_path: str) -> tuple[Config, SessionStore] | None:
    """The config and its session log, or None after printing the one-line reason."""
    try:
        config = load_config(config_path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return None
    try:
        return config, open_session_log(config.store.path, config.store.url, 0.5)
    except StoreError as err:
        where = f"{config_path}: store.url: " if config.store.url else ""
        print(f"{where}{err}", file=sys.stderr)
        return None


class ExportProgress:
    """A progress bar on stderr, shown once the export has really started (a refused export
    prints its one-line reason and nothing else)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: tqdm | None = None

    def __call__(self, fraction: float) -> None:
        if self.bar is None:
            self.bar = tqdm(total=100, desc=self.label, unit="%", file=sys.stderr, leave=False)
        self.bar.update(round(fraction * 100) - self.bar.n)

    def __enter__(self) -> ExportProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def store_command(args: argparse.Namespace) -> int:
    """import / export against the config's session log; every failure is one line."""
    opened = _open_log(args.config)
    if opened is None:
        return 2
    config, store = opened
    try:
        if args.command == "import":
            if not args.readings.is_file():
                raise ExportError(f"{args.readings}: file not found")
            beds = [b.id for b in config.beds]
            if args.bed not in beds:
                raise ExportError(
                    f"--bed {args.bed}: no such bed in {args.config} ({', '.join(beds)})"
                )
            result = import_readings(
                store, args.readings, args.bed, args.source, config.server.station
            )
            for reason, n in sorted(result.skipped.items()):
                print(f"skipped {n} readings: {reason}", file=sys.stderr)
            print(f"imported {result.readings} readings into session {result.session_id}")
            print(result.session_id)
        else:
            with ExportProgress(f"session {args.session} → {args.format}") as progress:
                paths = export_session(
                    store,
                    args.session,
                    args.format,
                    args.out,
                    config.alarms.rules,
                    include_simulated=args.include_simulated,
                    progress=progress,
                )
            detail = {"session": args.session, "format": args.format}
            store.audit(time.time(), f"cli:{getpass.getuser()}", "export", detail)
            for path in paths:
                print(path)
    except (ExportError, ReplayInputError, StoreError) as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From stdin with --password-stdin (scripts, CI), else asked twice on the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise AccessError("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise AccessError("the passwords differ")
    return first


def users_command(args: argparse.Namespace) -> int:
    """add / list / disable / reset users in the config's session log."""
    opened = _open_log(args.config)
    if opened is None:
        return 2
    store = opened[1]
    operator = f"cli:{getpass.getuser()}"
    now = time.time()
    try:
        if args.action == "list":
            for account in store.users():
                state = "disabled" if account.disabled else "active"
                print(f"{account.name}\t{account.role}\t{state}")
            return 0
        name = check_username(args.name)
        if args.action == "add":
            role = check_role(args.role or "")
            store.add_user(name, role, hash_password(_new_password(args)), now)
            store.audit(now, operator, "user_added", {"user": name, "role": role})
        elif args.action == "disable":
            store.update_user(name, disabled=True)
            ended = store.end_logins(name, now, "disabled")  # at once, not at the next login
            store.audit(now, operator, "user_disabled", {"user": name, "logins_ended": ended})
        else:
            store.update_user(name, pw_hash=hash_password(_new_password(args)))
            ended = store.end_logins(name, now, "password_reset")
            store.audit(now, operator, "password_reset", {"user": name, "logins_ended": ended})
        print(f"{args.action}: {name}")
        return 0
    except (AccessError, StoreError) as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        store.close()


def pk_command(args: argparse.Namespace) -> int:
    sim = PkSimulator(MODELS[args.model], args.weight, args.ke0)
    print("minute,cp_ng_ml,ce_ng_ml")
    for p in sim.predict(args.infusion or [], args.at, args.bolus or []):
        print(f"{p.minute:g},{p.cp_ng_ml:.3f},{p.ce_ng_ml:.3f}")
    return 0


def _opened(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise ReplayInputError(f"{path}: file not found") from None


def _baselines(items: list[str]) -> dict[str, float]:
    """--baseline SIG=VALUE pairs; a bad one is a one-line error."""
    out = {}
    for item in items:
        code, _, raw = item.partition("=")
        sig = REGISTRY.get(code)
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if sig is None or not sig.plausible(value):
            raise ReplayInputError(
                f"--baseline {item}: expected SIG=VALUE within the signal's range"
            )
        out[code] = value
    return out


EXAMPLES = {
    "replay": "example:\n  python -m monitor replay --config config.yaml readings.csv"
    " --baseline NIBP_SYS=128 --events events.jsonl > transitions.csv",
    "pk": "example:\n  python -m monitor pk --weight 70 --infusion 0.75@0-40 --bolus 0.1@0"
    " --at 10,40,90",
    "import": "example:\n  python -m monitor import --bed chair-1 --source simulated readings.csv",
    "export": "example:\n  python -m monitor export 12 --format pdf --out session-12.pdf",
    "users": "examples:\n  python -m monitor users add dr-lee --role physician\n"
    "  echo 'long passphrase here' | python -m monitor users reset dr-lee --password-stdin",
}


def _sub(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    return subcommand(sub, name, help_text, EXAMPLES[name])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitor",
        description="Monitoring-core tools: alarm replay, PK estimates, session import and"
        " export, user accounts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    config_help = "the station's config file (default: %(default)s)"
    rep = _sub(sub, "replay", "run recorded readings through the alarms: what would have alarmed?")
    rep.add_argument("--config", default=str(DEFAULT_CONFIG), help=config_help)
    rep.add_argument("--bed", default="replay", help="bed name written in the output")
    rep.add_argument(
        "--commands", type=Path, metavar="COMMANDS.jsonl",
        help='nurse commands, one JSON object a line: {"t", "command", "user", "role", "args"}',
    )  # fmt: skip
    rep.add_argument(
        "--baseline", action="append", default=[], metavar="SIG=VALUE",
        help="an assumed baseline in the signal's unit, e.g. NIBP_SYS=128 (mmHg); repeatable",
    )  # fmt: skip
    rep.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write every event here")
    rep.add_argument(
        "readings", type=Path, metavar="READINGS.csv",
        help="time,signal,value,unit (epoch seconds, registry units) or a session export",
    )  # fmt: skip
    pk = _sub(sub, "pk", "predicted ketamine plasma and effect-site concentrations (model)")
    pk.add_argument("--model", choices=sorted(MODELS), default="clements", help="PK model")
    lo, hi = WEIGHT_KG
    pk.add_argument(
        "--weight", type=_weight, required=True, metavar="KG",
        help=f"body weight in kg, {lo:g} to {hi:g}",
    )  # fmt: skip
    rlo, rhi = RATE_MG_KG_H
    pk.add_argument(
        "--infusion", type=_infusion, action="append", metavar="RATE@START-END",
        help=f"rate {rlo:g} to {rhi:g} mg/kg/h from START to END minutes; repeatable",
    )  # fmt: skip
    pk.add_argument(
        "--bolus", type=_bolus, action="append", metavar="MG_PER_KG@MIN",
        help=f"a bolus of at most {MAX_BOLUS_MG_KG:g} mg/kg at MIN minutes; repeatable",
    )  # fmt: skip
    pk.add_argument(
        "--at", type=_minutes, required=True, metavar="M1,M2,...",
        help="minutes from the start at which to predict (>= 0)",
    )  # fmt: skip
    pk.add_argument(
        "--ke0", type=_ke0, default=DEFAULT_KE0_PER_MIN, metavar="PER_MIN",
        help=f"effect-site equilibration rate, /min, more than 0 and at most {KE0_MAX:g}"
        " (default: %(default)s)",
    )  # fmt: skip
    imp = _sub(sub, "import", "store a readings CSV as a new, closed session of a bed")
    imp.add_argument(
        "readings", type=Path, metavar="READINGS.csv",
        help="time,signal,value,unit (epoch seconds) or a session export",
    )  # fmt: skip
    imp.add_argument("--bed", required=True, help="a bed id from the config")
    imp.add_argument(
        "--source", choices=("live", "simulated"), default="live",
        help="where the readings came from (default: %(default)s)",
    )  # fmt: skip
    imp.add_argument("--config", default=str(DEFAULT_CONFIG), help=config_help)
    exp = _sub(sub, "export", "write a stored session to a file")
    exp.add_argument("session", type=int, metavar="SESSION", help="the session's number")
    exp.add_argument("--format", choices=FORMATS, required=True, help="the file's format")
    exp.add_argument("--out", type=Path, required=True, help="the file to write")
    exp.add_argument("--config", default=str(DEFAULT_CONFIG), help=config_help)
    exp.add_argument(
        "--include-simulated",
        action="store_true",
        help="allow a simulated session into a clinical format (vital, hl7, pdf); it is marked",
    )
    users = _sub(sub, "users", "manage the people who may log in")
    users.add_argument(
        "action", choices=("add", "list", "disable", "reset"), help="what to do",
    )  # fmt: skip
    users.add_argument("name", nargs="?", default="", metavar="NAME", help="the user name")
    users.add_argument("--role", choices=ROLES, help="the role, for add")
    users.add_argument(
        "--password-stdin", action="store_true",
        help="read the new password from the first line of stdin (scripts)",
    )  # fmt: skip
    users.add_argument("--config", default=str(DEFAULT_CONFIG), help=config_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "users":
        return users_command(args)
    if args.command == "pk":
        return pk_command(args)
    if args.command in ("import", "export"):
        return store_command(args)

    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    logging.getLogger("monitor.runtime").setLevel(logging.ERROR)  # the CSV and events say it all
    try:
        baseline = _baselines(args.baseline)
        commands = []
        if args.commands is not None:
            with _opened(args.commands) as f:
                commands = read_commands(f, str(args.commands))
        with ExitStack() as stack:
            f = stack.enter_context(_opened(args.readings))
            events = None
            if args.events is not None:
                events = stack.enter_context(args.events.open("w", encoding="utf-8"))
            rows = read_readings(f, str(args.readings))
            result = replay(rows, config, args.bed, sys.stdout, commands, baseline, events)
    except ReplayInputError as err:
        print(err, file=sys.stderr)
        return 2
    except OSError as err:
        print(f"{err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    hours = result.hours
    burden = ", ".join(f"{p} {v:.1f}/h" for p, v in result.burden().items())
    print(
        f"{result.readings} readings over {hours:.2f} h; alarms per hour: {burden}", file=sys.stderr
    )
    for reason, n in sorted(result.skipped.items()):
        print(f"skipped {n} readings: {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
