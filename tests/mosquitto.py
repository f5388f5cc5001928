"""A private Mosquitto for the chair-agent tests: its own port, users, ACL and (optionally) TLS.

Never the system service: each broker lives in a temp folder, on a free 127.0.0.1 port, and
can be stopped and started again on the same port (a broker outage).
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

CLINIC = "test-clinic"
CHAIRS = tuple(f"chair-{i}" for i in range(1, 7))
CENTRAL = "central"
START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def password_of(user: str) -> str:
    return f"pw-{user}"


def make_certs(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1: (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.crt", "server.key",
                                                      "server.csr", "server.crt"))  # fmt: skip
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for cmd in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=test clinic CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, cmd)], check=True, capture_output=True)
    return ca, cert, key


class PrivateBroker:
    """One mosquitto process with password auth and a per-chair ACL; `chairs` are the users
    besides the central (the tests' six by default)."""

    def __init__(self, folder: Path, tls: bool = False, chairs: Sequence[str] = CHAIRS) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (make test installs it)")
        self.binary, self.folder = binary, folder
        self.port = free_port()
        self.tls_port: int | None = None
        self.ca: Path | None = None
        folder.mkdir(parents=True, exist_ok=True)
        passwd, acl = folder / "passwd", folder / "acl"
        # written in clear, then hashed in one call (-U): one process for 200 chairs too
        passwd.write_text("".join(f"{u}:{password_of(u)}\n" for u in (CENTRAL, *chairs)))
        subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, capture_output=True)
        # each chair writes only under its own topic and reads only its own commands
        acl.write_text(
            f"user {CENTRAL}\ntopic read ikm/v1/#\ntopic write ikm/v1/+/+/cmd\n\n"
            f"pattern write ikm/v1/{CLINIC}/%u/#\npattern read ikm/v1/{CLINIC}/%u/cmd\n"
        )
        lines = [
            f"user {getpass.getuser()}",  # as root, stay root: the files are in a private dir
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"acl_file {acl}",
            "persistence false",
            f"log_dest file {folder / 'mosquitto.log'}",
            f"listener {self.port} 127.0.0.1",
        ]
        if tls:
            self.ca, cert, key = make_certs(folder / "tls")
            self.tls_port = free_port()
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {self.ca}",
                f"certfile {cert}",
                f"keyfile {key}",
            ]
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        ports = [p for p in (self.port, self.tls_port) if p is not None]
        while ports:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited {self.proc.returncode}: {err.strip()}")
            try:
                socket.create_connection(("127.0.0.1", ports[0]), timeout=0.2).close()
                ports.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto not listening on {ports[0]}") from None
                time.sleep(0.02)  # polling the port: nothing to wait on

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""
