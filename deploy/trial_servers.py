"""The trial clinic's servers and files (deploy/trial_clinic.py): Mosquitto, PostgreSQL, the
generated passwords and the run's copies of the committed configs.

Everything lives under the data folder (./data/trial by default, ignored by git); the
committed files in deploy/ are never written to.
"""

from __future__ import annotations

import getpass
import glob
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
CHAIRS = ("chair-1", "chair-2", "chair-3")
CENTRAL_USER = "central"
PG_SUPERUSER = "postgres"
DB_ROLE = DB_NAME = "monitor"
READY_TIMEOUT_S = 30.0


class Failed(Exception):
    """One line naming the component that could not start."""


def tool(name: str) -> str | None:
    """A server tool on PATH, else in /usr/sbin or the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin")
    if found:
        return found

    def version(p: str) -> int:
        major = Path(p).parts[-3]
        return int(major) if major.isdigit() else 0

    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return versions[-1] if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port(port: int, what: str) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise Failed(f"{what}: port {port} on 127.0.0.1 is taken") from None


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def secret(path: Path) -> str:
    """The password in `path`, made at the first run (readable by this user only)."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def as_root_runs(user: str, cmd: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if os.geteuid() == 0 else cmd


class Broker:
    """Mosquitto on loopback: the committed policy and ACL, this run's port and passwords."""

    name = "broker"

    def __init__(self, data: Path, port: int) -> None:
        self.folder, self.port = data / "mosquitto", port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        binary, passwd_tool = tool("mosquitto"), tool("mosquitto_passwd")
        if binary is None or passwd_tool is None:
            raise Failed("broker: mosquitto is not installed (make central installs it)")
        check_port(self.port, "broker")
        self.folder.mkdir(parents=True, exist_ok=True)
        passwd = self.folder / "passwd"
        # rebuilt each run from the secrets made at the first: the two never disagree
        for user in (CENTRAL_USER, *CHAIRS):
            flags = ["-b", "-c"] if user == CENTRAL_USER else ["-b"]
            password = secret(self.folder.parent / f"{user}.secret")
            subprocess.run([passwd_tool, *flags, str(passwd), user, password],
                           check=True, capture_output=True)  # fmt: skip
        policy = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
        conf = self.folder / "mosquitto.conf"
        conf.write_text(policy + "\n".join((
            "# added by deploy/trial_clinic.py for this run",
            f"user {getpass.getuser()}",  # as root, stay root: the files are private to it
            f"password_file {passwd}",
            f"acl_file {DEPLOY / 'mosquitto' / 'acl'}",
            f"log_dest file {self.folder / 'mosquitto.log'}",
            f"listener {self.port} 127.0.0.1",
        )) + "\n", encoding="utf-8")  # fmt: skip
        self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not listening(self.port):  # each try waits on the socket
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failed(f"broker: mosquitto did not start (see {self.folder}/mosquitto.log)")
        return f"mosquitto on 127.0.0.1:{self.port} (users central, chair-1..3; no anonymous)"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        stop_process(self.proc)


class Postgres:
    """A cluster in data/pg made at the first run and reused after; a `monitor` database."""

    name = "postgresql"

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port
        self.cluster = data / "pg"
        self.started = False

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        pg_ctl = tool("pg_ctl")
        assert pg_ctl is not None
        cmd = as_root_runs(PG_SUPERUSER, [pg_ctl, "-D", str(self.cluster), *args])
        return subprocess.run(cmd, capture_output=True, text=True, start_new_session=True)

    def start(self) -> str:
        initdb = tool("initdb")
        if initdb is None or tool("pg_ctl") is None:
            raise Failed("postgresql: initdb is not installed (make central installs it)")
        check_port(self.port, "postgresql")
        fresh = not (self.cluster / "PG_VERSION").exists()
        if fresh:
            self._init(initdb)
        log = self.cluster / "server.log"
        options = f"-p {self.port} -k {self.cluster} -c listen_addresses=127.0.0.1"
        done = self._ctl("-l", str(log), "-o", options, "-w", "-t", "30", "start")
        if done.returncode != 0:
            raise Failed(f"postgresql: did not start ({done.stderr.strip()[-120:]}; see {log})")
        self.started = True
        self._database()
        state = "new cluster" if fresh else "cluster reused"
        return f"PostgreSQL on 127.0.0.1:{self.port}, database {DB_NAME} ({state}: {self.cluster})"

    def _init(self, initdb: str) -> None:
        self.cluster.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.cluster, PG_SUPERUSER)
            reach = subprocess.run(as_root_runs(PG_SUPERUSER, ["test", "-w", str(self.cluster)]))
            if reach.returncode != 0:
                raise Failed(f"postgresql: user postgres cannot reach {self.cluster}")
        self.cluster.chmod(0o700)
        # the socket in the cluster's own 0700 folder: only its owner (and root) reach it,
        # so trust there is safe; over TCP the monitor role needs its password
        cmd = [initdb, "-D", str(self.cluster), "-U", PG_SUPERUSER, "-E", "UTF8", "--no-locale",
               "--auth-local=trust", "--auth-host=scram-sha-256"]  # fmt: skip
        done = subprocess.run(as_root_runs(PG_SUPERUSER, cmd), capture_output=True, text=True)
        if done.returncode != 0:
            raise Failed(f"postgresql: initdb failed: {done.stderr.strip()[-160:]}")

    def _database(self) -> None:
        import psycopg
        from psycopg import sql

        password = secret(self.data / "monitor-db.secret")
        with psycopg.connect(host=str(self.cluster), port=self.port, user=PG_SUPERUSER,
                             dbname="postgres", autocommit=True) as conn:  # fmt: skip
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_ROLE,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(DB_ROLE), sql.Literal(password)))  # fmt: skip
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DB_NAME), sql.Identifier(DB_ROLE)))  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql://{DB_ROLE}@127.0.0.1:{self.port}/{DB_NAME}"

    def alive(self) -> bool:
        return self._ctl("status").returncode == 0

    def stop(self) -> None:
        if self.started:
            self._ctl("-m", "fast", "-w", "stop")
            self.started = False


def stop_process(proc: subprocess.Popen[Any] | None, timeout_s: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


HEADER = (
    "# Written by deploy/trial_clinic.py (make central) from deploy/{name} with this run's\n"
    "# ports; edit deploy/{name} instead. Alarm limits are engineering defaults for the\n"
    "# clinic to configure and sign off, not medical advice.\n"
)


def write_configs(data: Path, broker_port: int, http_port: int, pg_url: str) -> list[Path]:
    """This run's copies of deploy/central.yaml and deploy/chair-N.yaml, beside the
    passwords their relative `password_file` names (data/central.yaml first)."""
    scenarios = str(REPO / "devices" / "simulator" / "scenarios")
    central = yaml.safe_load((DEPLOY / "central.yaml").read_text(encoding="utf-8"))
    central["server"]["port"] = http_port
    central["store"] = {**central["store"], "url": pg_url, "path": str(data / "central" / "key")}
    central["training"]["scenarios"] = scenarios
    for bed in central["beds"]:
        bed["device"]["broker"]["port"] = broker_port
    out = [data / "central.yaml"]
    text = yaml.safe_dump(central, sort_keys=False)
    out[0].write_text(HEADER.format(name="central.yaml") + text, encoding="utf-8")
    for chair in CHAIRS:
        agent = yaml.safe_load((DEPLOY / f"{chair}.yaml").read_text(encoding="utf-8"))
        agent["broker"]["port"] = broker_port
        agent["scenarios"] = scenarios
        out.append(data / f"{chair}.yaml")
        text = yaml.safe_dump(agent, sort_keys=False)
        out[-1].write_text(HEADER.format(name=f"{chair}.yaml") + text, encoding="utf-8")
    (data / "central").mkdir(exist_ok=True)
    return out
