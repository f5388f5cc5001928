"""Entry point: load the config, start one runtime per bed, and serve the dashboard.

python dashboard.py [--config FILE] [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import yaml

from devices.factory import build_device, scenario_library
from monitor.clock import Clock, ScaledClock, SystemClock
from monitor.config import DEFAULT_CONFIG, Config, ConfigError, load_config, parse_config
from monitor.runtime.bed import BedRuntime
from monitor.runtime.service import ListenError, Notifier, listen
from monitor.runtime.ward import Ward
from monitor.storage.backends import open_session_log, store_key
from monitor.storage.sqlite import SessionStore, StoreError

if TYPE_CHECKING:
    from dash import Dash

log = logging.getLogger("dashboard")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class Station:
    """Everything one dashboard process runs: the session log, the beds and the web app."""

    config: Config
    clock: Clock
    store: SessionStore
    ward: Ward
    app: Dash

    def start(self) -> None:
        self.store.start()
        self.ward.start()

    def stop(self) -> None:
        self.ward.stop()
        self.store.close()


def build_station(
    config: Config,
    clock: Clock | None = None,
    start: bool = False,
    started: Callable[[Ward], None] | None = None,
) -> Station:
    """Wire devices, bed runtimes, the store and the web app. Raises ConfigError or StoreError.
    With `start`, the beds start monitoring before the web app is built, then `started` runs."""
    library = scenario_library(config.training)
    shared = clock is not None  # tests drive every bed on one clock they control
    clock = clock or SystemClock()
    beds = []
    for bed in config.beds:
        # training time belongs to a simulated bed; every other bed runs on real time
        trains = library and (
            bed.device.kind == "simulator" or getattr(bed.device, "virtual", False)
        )
        bed_clock = ScaledClock(1.0) if trains and not shared else clock
        beds.append((bed, bed_clock, build_device(bed, bed_clock, library)))
    store = open_session_log(config.store.path, config.store.url, config.store.flush_interval_s)
    runtimes = [
        BedRuntime(bed, dev, store, bed_clock, config.alarms, session=config.session)
        for bed, bed_clock, dev in beds
    ]
    ward = Ward(runtimes, clock, config.training.speed)
    if start:  # monitoring begins before the web face (about 2 s of imports) is built
        store.start()
        ward.start()
        if started is not None:
            started(ward)
    from monitor.ui.app import create_app

    shown = config.model_dump(mode="json")  # what an admin may see: no secrets live in it
    app = create_app(
        ward,
        config.server.station,
        store,
        config.alarms.rules,
        server=config.server,
        config_text=yaml.safe_dump(shown, sort_keys=False),
        session=config.session,
        # the secret key lives beside the SQLite session log, or in that folder with PostgreSQL
        state_dir=Path(config.store.path).parent,
    )
    return Station(config, clock, store, ward, app)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Serve the ketamine infusion monitoring dashboard.",
        epilog="example:\n  python dashboard.py --config config.yaml --port 8050",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", default=str(DEFAULT_CONFIG), help="the station's config file (config.yaml)"
    )
    p.add_argument("--host", help="IP address to bind (overrides server.host)")
    p.add_argument(
        "--port", type=int, help="TCP port to listen on, 1 to 65535 (overrides server.port)"
    )
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)  # unwinds into the finally below, which flushes the session log


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        config = load_config(args.config)
        overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
        if overrides:
            raw = config.model_dump()
            raw["server"].update(overrides)
            config = parse_config(raw, source="command line")
        log_to_file(config.server.log_file, args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    host, port = config.server.host, config.server.port
    try:  # before any bed starts: a port already taken is one line, not a traceback
        sockets = listen(host, port)
    except ListenError as err:
        print(f"{args.config}: {err}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    notifier = Notifier()  # systemd's READY=1 and WATCHDOG=1, once the beds evaluate
    try:
        station = build_station(
            config, start=True, started=lambda ward: notifier.start(lambda: ward.health()[0])
        )
    except (ConfigError, StoreError) as err:
        where = f"{store_key(config.store.url)}: " if isinstance(err, StoreError) else ""
        print(f"{args.config}: {where}{err}", file=sys.stderr)
        return 2
    import scipy.linalg  # noqa: F401  the PK model's, now, not on a bed's first infusion
    from waitress import serve

    from monitor.ui.stream import server_threads

    log.info("serving %d bed(s) on http://%s:%d", len(config.beds), host, port)
    try:
        threads = server_threads(len(config.beds))
        serve(
            station.app.server,
            sockets=sockets,
            threads=threads,
            connection_limit=max(100, 2 * threads),
            ident="monitor",
        )
    finally:
        notifier.stop()
        station.stop()
    return 0


def log_to_file(path: str | None, source: str) -> None:
    """server.log_file: the log in a file as well, reopened after logrotate moves it."""
    if not path:
        return
    try:
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as err:
        why = err.strerror or err
        raise ConfigError(f"{source}: server.log_file: cannot open {path}: {why}") from None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
