"""What serving the live pages costs: 30 simulated chairs watched by 120 viewers for 60 s.

Starts `python dashboard.py` with N simulated chairs (logins off, loopback) in a child process
and measures it from outside; its CPU is utime + stime of the process, every thread, from
/proc/<pid>/stat, as % of one core. First with nobody watching, then with the prober alone:
a nurse's ordinary requests once a second, each on a new connection and timed (a bed page and
its route callback, /_dash-layout, /health, the fallback poll, which starts the broadcaster).
Then the viewers, 4 per chair by default: 1 central page (/stream/all), 3 bed pages
(/stream/<chair>). Each fetches what a browser with an empty cache fetches once (the page,
its scripts and styles, /_dash-layout, /_dash-dependencies, the route callback), then reads
its page's server-sent event stream message by message. Over the window, the prober still
running: the station's CPU, messages and bytes (of the stream's body) per viewer·s, the
longest silence, how often each chair's new values came. Last, the viewers gone, Debian's
Chromium (Playwright, 1920×1080) on the central page: the CPU of its processes, from /proc,
and the states each chair's card painted per second (window.monitorStream.painted).

Goals (the acceptance item): the station under 25 % of one core, no refused connection,
every ordinary request answered within 1 s; the central page under 25 % of a core in
Chromium, showing every second's values. Verdicts are printed, not enforced: only errors (an
answer other than 200, a refused, stalled or ended stream, a viewer 2 s without a message, a
browser console error) end it with exit code 1, before any figure is printed. The viewers
run in this process, on the station's machine; what else ran on it is printed too.

    python bench/viewers.py [--chairs 30] [--viewers-per-chair 4] [--seconds 60]
                            [--browser-seconds 30] [--smoke]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.ui.stream import max_streams, server_threads  # noqa: E402
from tests.child_station import Served, free_port  # noqa: E402
from tests.dash_requests import UPDATE_URL, find_component  # noqa: E402
from tests.helpers import config_dict  # noqa: E402

HOST = "127.0.0.1"
TICK = os.sysconf("SC_CLK_TCK")
GOAL_CPU = 25.0  # % of one core: the station, and Chromium on a central page
GOAL_LATENCY_S = 1.0
SILENCE_ALLOWED_S = 2.0  # without any message: a beat comes every second when nothing changes
STALL_S = 10.0  # a stream read that waits this long has stalled
RAMP_S = 0.025  # between two viewers' first requests: pages open over seconds, not at once
SETTLE_S = 2.0  # after the station started or the last viewer connected, before a window
VERDICT = {True: "met", False: "NOT met"}
ASSET = re.compile(rb'(?:src|href)="(/[^"]+)"')


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # progress; the figures go to stdout at the end


def stat_fields(pid: int | str) -> list[str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()  # the name in () may hold spaces


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, every thread included."""
    return sum(int(f) for f in stat_fields(pid)[11:13])


def machine_busy() -> int:
    """Ticks all cores spent busy (all but idle and iowait): shows another job on the machine."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(ticks) - ticks[3] - ticks[4]


def share(ticks: float, seconds: float) -> float:
    return 100.0 * ticks / TICK / seconds


def measured(pid: int, work: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run `work`; returns its result, and the CPU of the station and of everything else on
    the machine meanwhile (this process included)."""
    t0, c0, m0 = time.monotonic(), cpu_ticks(pid), machine_busy()
    result = work()
    span, station = time.monotonic() - t0, cpu_ticks(pid) - c0
    return result, share(station, span), share(machine_busy() - m0 - station, span)


def fetch(conn: http.client.HTTPConnection, path: str, body: bytes | None = None) -> bytes:
    """One request on a kept-alive connection; anything but 200 is an error."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request("GET" if body is None else "POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{path}: HTTP {resp.status}: {data[:120]!r}")
    return data


def route_body(page: str) -> bytes:
    """What the Dash renderer posts to draw a page's content (the route callback)."""
    return json.dumps(
        {
            "output": "page.children",
            "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": page}],
            "changedPropIds": ["url.pathname"],
            "state": [],
        }
    ).encode()


def load_page(conn: http.client.HTTPConnection, page: str) -> tuple[int, str]:
    """What a browser with an empty cache fetches once for a page. Returns the bytes and the
    query its stream opens with (a bed page's trend ends at a cursor the stream carries on)."""
    html = fetch(conn, page)
    size = len(html) + sum(len(fetch(conn, a.decode())) for a in set(ASSET.findall(html)))
    size += len(fetch(conn, "/_dash-layout"))
    deps = fetch(conn, "/_dash-dependencies")
    if not any(d["output"] == "page.children" for d in json.loads(deps)):
        raise RuntimeError("/_dash-dependencies: no route callback for page.children")
    drawn = fetch(conn, UPDATE_URL, route_body(page))
    size += len(deps) + len(drawn)
    live = find_component(json.loads(drawn)["response"]["page"]["children"], "bed-live")
    if live is None:
        return size, ""
    return size, f"?seq={live['props']['data-seq']}&epoch={live['props']['data-epoch']}"


@dataclass
class Viewer:
    """One page: loads once, then reads its stream until told to stop."""

    bed: str  # what its stream follows: "all" (a central page) or a chair
    load_bytes: int = 0
    connected: float = 0.0  # when its hello came (monotonic)
    error: str = ""
    # each message: when it came, its event, its bytes, the chairs it brought new values for
    messages: list[tuple[float, str, int, tuple[str, ...]]] = field(default_factory=list)

    @property
    def page(self) -> str:
        return "/" if self.bed == "all" else f"/bed/{self.bed}"

    def run(self, port: int, stop: threading.Event) -> None:
        try:
            with closing(http.client.HTTPConnection(HOST, port, timeout=30)) as conn:
                self.load_bytes, query = load_page(conn, self.page)
            with closing(http.client.HTTPConnection(HOST, port, timeout=STALL_S)) as conn:
                path = f"/stream/{self.bed}{query}"
                conn.request("GET", path, headers={"Accept": "text/event-stream"})
                resp = conn.getresponse()
                kind = resp.getheader("Content-Type", "")
                if resp.status != 200 or not kind.startswith("text/event-stream"):
                    raise RuntimeError(f"refused: HTTP {resp.status} {kind}: {resp.read(99)!r}")
                self.read(resp, stop)
        except Exception as err:  # main reports every failure
            self.error = f"{self.page} viewer: {type(err).__name__}: {err}"

    def read(self, resp: http.client.HTTPResponse, stop: threading.Event) -> None:
        event, data, size = "message", b"", 0
        while not stop.is_set():
            line = resp.readline()
            if not line:
                raise RuntimeError(f"the stream ended early after {len(self.messages)} messages")
            size += len(line)
            if line.startswith(b"event: "):
                event = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif line in (b"\n", b"\r\n"):  # the end of a message
                now = time.monotonic()
                if not self.messages:
                    if event != "hello":
                        raise RuntimeError(f"the stream began with {event!r}, not hello")
                    self.connected = now
                self.messages.append((now, event, size, values_in(event, data)))
                event, data, size = "message", b"", 0


def values_in(event: str, data: bytes) -> tuple[str, ...]:
    """The chairs a message brings new values (a state) for."""
    message = json.loads(data) if event != "beat" else {}
    if "beds" in message:  # the central station's: several chairs at once
        return tuple(bed for bed, part in message["beds"].items() if "state" in part)
    return (message["bed"],) if "state" in message else ()


def longest(times: list[float]) -> float:
    return max(b - a for a, b in zip(times, times[1:], strict=False))


def group_figures(kind: str, group: list[Viewer], w0: float, w1: float) -> list[str]:
    """Messages, bytes, silences and new values per viewer over the window [w0, w1)."""
    span = w1 - w0
    msgs, frames, sizes, gaps, values, stale = [], [], [], [], [], []
    for viewer in group:
        inside = [m for m in viewer.messages if w0 <= m[0] < w1]
        states: dict[str, list[float]] = defaultdict(list)
        for t, _, _, beds in inside:
            for bed in beds:
                states[bed].append(t)
        shown = {m for _, _, _, beds in viewer.messages for m in beds}  # from the hello on
        msgs.append(len(inside) / span)
        frames.append(sum(m[1] == "frame" for m in inside) / span)
        sizes.append(sum(m[2] for m in inside) / span)
        gaps.append(longest([w0, *(m[0] for m in inside), w1]))
        values.append(min(len(states[c]) for c in shown) / span)
        stale.append(max(longest([w0, *states[c], w1]) for c in shown))
    if max(gaps) > SILENCE_ALLOWED_S:
        raise RuntimeError(f"a {kind} viewer heard nothing for {max(gaps):.1f} s")
    return [
        f"  {kind:<7} {len(group):>3} viewers: {mean(msgs):.2f} msg/s ({mean(frames):.2f} "
        f"frames), {mean(sizes):,.0f} bytes/viewer·s (min {min(sizes):,.0f}, max "
        f"{max(sizes):,.0f}); page load once {mean(v.load_bytes for v in group) / 1e6:.2f} MB",
        f"          longest silence {max(gaps):.2f} s; new values per chair·s min "
        f"{min(values):.2f}, longest wait for a chair's new values {max(stale):.2f} s",
    ]


def probe(port: int, until: float, chair: str) -> list[tuple[str, float]]:
    """Every second, each ordinary request on a new connection; returns (what, seconds)."""
    timings: list[tuple[str, float]] = []
    after = ""
    due = time.monotonic()
    while due < until:
        for what, path, body in (
            ("bed page", f"/bed/{chair}", None),
            ("route callback", UPDATE_URL, route_body(f"/bed/{chair}")),
            ("/_dash-layout", "/_dash-layout", None),
            ("/health", "/health", None),  # every bed's last alarm evaluation, as JSON
            ("poll", f"/stream/{chair}/poll?after={after}", None),
        ):
            start = time.perf_counter()
            try:
                with closing(http.client.HTTPConnection(HOST, port, timeout=10)) as conn:
                    data = fetch(conn, path, body)
            except Exception as err:
                raise RuntimeError(f"ordinary request {path}: {type(err).__name__}: {err}") from err
            timings.append((what, time.perf_counter() - start))
            if what == "poll":
                after = str(json.loads(data)["last"])
        due += 1.0
        time.sleep(max(0.0, due - time.monotonic()))
    return timings


def latency(timings: list[tuple[str, float]]) -> str:
    ordered = sorted(s for _, s in timings)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"max {ordered[-1]:.3f} s, p99 {p99:.3f} s"


def serve_viewers(served: Served, args: argparse.Namespace, chairs: list[str]) -> list[str]:
    """Nobody watching, the prober alone, then the viewers and the prober: report lines."""
    pid, port, calm = served.proc.pid, int(served.url.rsplit(":", 1)[1]), args.baseline_seconds
    time.sleep(SETTLE_S)
    note(f"{calm:g} s with nobody watching, then {calm:g} s with the prober alone")
    _, baseline, rest0 = measured(pid, lambda: time.sleep(calm))
    probe(port, time.monotonic() + 0.5, chairs[0])  # one round unmeasured: first answers cost more
    alone, prober, rest1 = measured(pid, lambda: probe(port, time.monotonic() + calm, chairs[0]))
    lines = [
        f"station: {len(chairs)} simulated chairs, {server_threads(len(chairs))} server "
        f"threads, {max_streams(len(chairs))} stream slots; this machine: {os.cpu_count()} cores",
        f"station CPU, nobody watching: {baseline:.1f} % of a core (the rest of the machine "
        f"{rest0:.1f} %)",
        f"the prober alone (it starts the broadcaster): station {prober:.1f} %, the rest "
        f"{rest1:.1f} %; its requests {latency(alone)}",
    ]

    viewers = [Viewer(b) for c in chairs for b in ["all"] + [c] * (args.viewers_per_chair - 1)]
    note(f"{len(viewers)} viewers opening their pages and streams")
    stop = threading.Event()
    threads = [threading.Thread(target=v.run, args=(port, stop), daemon=True) for v in viewers]
    opened = time.monotonic()
    try:
        for thread in threads:
            thread.start()
            time.sleep(RAMP_S)
        while not all(v.connected or v.error for v in viewers):
            if time.monotonic() - opened > 120:
                raise RuntimeError("viewers not connected within 120 s")
            time.sleep(0.05)
        failed = [v.error for v in viewers if v.error]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(viewers)} viewers failed: {failed[0]}")
        connected_in = max(v.connected for v in viewers) - opened
        time.sleep(SETTLE_S)
        note(f"window: {args.seconds:g} s with {len(viewers)} viewers and the prober")
        w0, mine0 = time.monotonic(), os.times()
        timings, station, rest = measured(pid, lambda: probe(port, w0 + args.seconds, chairs[0]))
        w1, mine1 = time.monotonic(), os.times()
    finally:
        stop.set()
        for thread in threads:
            thread.join(STALL_S + 5)
    failed = [v.error for v in viewers if v.error]
    late = [v for v, t in zip(viewers, threads, strict=True) if t.is_alive()]
    failed += [f"{v.page} viewer: still reading {STALL_S + 5:g} s after the window" for v in late]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(viewers)} viewers failed: {failed[0]}")

    span = w1 - w0
    lines += [
        f"viewers: {len(viewers)} connected, 0 refused, all in {connected_in:.1f} s "
        f"({RAMP_S * 1000:.0f} ms apart)",
        f"window {span:.0f} s: station CPU {station:.1f} % of a core (goal < {GOAL_CPU:.0f} %): "
        f"{VERDICT[station < GOAL_CPU]}; the viewers' streams add {station - prober:.1f} %",
    ]
    for kind, central in (("central", True), ("bed", False)):
        group = [v for v in viewers if (v.bed == "all") == central]
        lines += group_figures(kind, group, w0, w1) if group else []
    slowest = {w: max(s for x, s in timings if x == w) for w, _ in timings}
    load = (mine1.user + mine1.system - mine0.user - mine0.system) / span * 100
    lines += [
        f"  ordinary requests: {len(timings)} answered, 0 refused; {latency(timings)} "
        f"(goal <= {GOAL_LATENCY_S:g} s): {VERDICT[max(slowest.values()) <= GOAL_LATENCY_S]}",
        "          slowest: " + ", ".join(f"{w} {s:.3f} s" for w, s in slowest.items()),
        f"  the viewers and the prober (this process): {load:.1f} % of a core; the rest of "
        f"the machine: {rest - load:.1f} %",
    ]
    return lines


def chromium_ticks() -> dict[int, tuple[str, int]]:
    """CPU ticks (reaped children included) of every process under a Chromium this process
    started, by pid, with its kind (--type: renderer, gpu-process, ...; the browser has none)."""
    parents: dict[int, int] = {}
    procs: dict[int, tuple[str, list[bytes], int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = stat_fields(entry.name)
            # Chromium rewrites its command line as one string: split on spaces too
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").split() or [b""]
        except OSError:
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        procs[pid] = (Path(argv[0].decode(errors="replace")).name, argv, ticks)
    found = {}
    for pid, (_, argv, ticks) in procs.items():
        chain = [pid]  # the process and its ancestors, up to this one
        while chain[-1] in parents and chain[-1] != os.getpid():
            chain.append(parents[chain[-1]])
        if chain[-1] == os.getpid() and any("chrom" in procs[p][0] for p in chain[:-1]):
            kind = next((a[7:].decode() for a in argv if a.startswith(b"--type=")), "browser")
            found[pid] = (kind, ticks)  # not the Playwright driver, nor the station
    return found


STATE = (
    "() => ({open: window.monitorStream.open, frames: window.monitorStream.frames, "
    "polls: window.monitorStream.polls, painted: window.monitorStream.painted})"
)


def until(page: Any, expression: str, seconds: float) -> None:
    """Poll from here: wait_for_function compiles a string in the page; its CSP refuses."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise RuntimeError(f"not seen within {seconds:g} s: {expression}")
        time.sleep(0.05)


def sample(page: Any, seconds: float) -> list[dict[str, Any]]:
    """The page's hook, every second for `seconds`."""
    t0, samples = time.monotonic(), [page.evaluate(STATE)]
    while time.monotonic() < t0 + seconds:
        time.sleep(max(0.0, t0 + len(samples) - time.monotonic()))
        samples.append(page.evaluate(STATE))
    return samples


def watch_central(served: Served, chairs: list[str], seconds: float) -> list[str]:
    """Chromium on the central page: its CPU and each chair's paints per second."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    errors: list[str] = []
    pid = served.proc.pid
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(served.url + "/")
            until(page, "() => window.monitorStream && window.monitorStream.open", 30)
            every = f"() => Object.keys(window.monitorStream.painted).length >= {len(chairs)}"
            until(page, every, 30)
            time.sleep(SETTLE_S)  # the first drawing of sparks and strips is behind us
            note(f"browser: central page in Chromium for {seconds:g} s")
            before, t0 = chromium_ticks(), time.monotonic()
            samples, station, rest = measured(pid, lambda: sample(page, seconds))
            after, t1 = chromium_ticks(), time.monotonic()
        finally:
            browser.close()
    if errors or not before:
        raise RuntimeError(f"browser console error: {errors[0]}" if errors else "no Chromium")
    if not all(s["open"] for s in samples) or samples[-1]["polls"] != samples[0]["polls"]:
        raise RuntimeError("the central page lost its stream during the window")

    span = t1 - t0
    kinds: dict[str, int] = defaultdict(int)
    for proc, (kind, ticks) in after.items():
        kinds[kind] += ticks - before.get(proc, (kind, 0))[1]
    cpu = share(sum(kinds.values()), span)
    counts = [[s["painted"].get(c, 0) for c in chairs] for s in samples]
    paints = [b - a for a, b in zip(counts[0], counts[-1], strict=True)]
    quiet = max(  # per chair: one-second samples that brought it no new state
        sum(b[i] == a[i] for a, b in zip(counts, counts[1:], strict=False))
        for i in range(len(chairs))
    )
    by_kind = sorted(kinds.items(), key=lambda kv: -kv[1])
    return [
        f"browser: Chromium on the central page ({len(chairs)} chairs, 1920×1080), "
        f"{span:.0f} s, the viewers gone:",
        f"  CPU {cpu:.1f} % of a core (goal < {GOAL_CPU:.0f} %): {VERDICT[cpu < GOAL_CPU]}; "
        + ", ".join(f"{k} {share(v, span):.1f}" for k, v in by_kind),
        f"  {(samples[-1]['frames'] - samples[0]['frames']) / span:.2f} frames/s; paints per "
        f"chair·s min {min(paints) / span:.2f}, mean {mean(paints) / span:.2f}; "
        f"1-s samples without a new paint: at most {quiet} of {len(samples) - 1}",
        f"  every second's values (each chair >= {int(span) - 1} paints in {span:.0f} s): "
        f"{VERDICT[min(paints) >= int(span) - 1]}",
        f"  meanwhile the station {station:.1f} % of a core, the rest of the machine "
        f"{rest - cpu:.1f} %",
    ]


def station_log(log: Path) -> str:
    text = log.read_text()
    if "Traceback" in text:
        raise RuntimeError(f"the station logged an error: {text[text.index('Traceback') :][-600:]}")
    warnings = [line for line in text.splitlines() if " WARNING " in line or " ERROR " in line]
    first = f", the first: {warnings[0]}" if warnings else ""
    return f"station log: {len(warnings)} warnings or errors{first}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chairs", type=int, default=30)
    parser.add_argument("--viewers-per-chair", type=int, default=4, help="of which 1 central")
    parser.add_argument("--seconds", type=float, default=60, help="the viewers' window")
    parser.add_argument("--baseline-seconds", type=float, default=10, help="each calm window")
    parser.add_argument("--browser-seconds", type=float, default=30, help="0: no browser")
    parser.add_argument("--smoke", action="store_true", help="3 chairs, 2 viewers each, 5 s")
    args = parser.parse_args()
    if args.smoke:
        args.chairs, args.viewers_per_chair, args.seconds = 3, 2, 5
        args.baseline_seconds, args.browser_seconds = 2, 5
    if args.viewers_per_chair < 1 or args.chairs < 1:
        parser.error("at least 1 chair and 1 viewer per chair (the central page)")
    chairs = [f"chair-{i + 1}" for i in range(args.chairs)]
    with tempfile.TemporaryDirectory() as tmp:
        config, log = Path(tmp) / "station.yaml", Path(tmp) / "station.log"
        config.write_text(yaml.safe_dump(config_dict(Path(tmp) / "sessions.db", beds=args.chairs)))
        note(f"starting the station with {args.chairs} simulated chairs")
        served = Served(config, free_port(), log)
        try:
            lines = serve_viewers(served, args, chairs)
            time.sleep(SETTLE_S)  # the viewers' streams are given back
            if args.browser_seconds > 0:
                lines += watch_central(served, chairs, args.browser_seconds)
            lines.append(station_log(log))
        finally:
            served.kill(signal.SIGTERM)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # a bench never prints figures after a failure
        print(f"viewers: FAILED: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
