"""Logins, roles on every page and callback, audit of logins, and security headers.

Flask-Login keeps the session, Flask-WTF guards the login and logout form posts against CSRF,
and Flask-Limiter rate-limits login attempts. Every Dash callback request names its outputs;
the gate maps them to a permission (monitor/access.py) before Dash runs anything, and refuses
by default: a new callback without a mapping is refused until it gets one (a test walks the
app's callback map). Commands that need more than their callback's permission (a limit
change, an override) are checked again inside, through `Access.require`.
"""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dash import Dash
from flask import Response, redirect, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from monitor.access import allowed, check_password, pseudonym
from monitor.config import ServerConfig
from monitor.feed import CommandError
from monitor.store import SessionStore

log = logging.getLogger(__name__)

SECRET_ENV = "MONITOR_SECRET_KEY"
PUBLIC = ("/login", "/assets/login.css")
# Callbacks by their first output's component id (or pattern-matching type): most specific
# first. Anything not listed is refused.
CALLBACK_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("sound-enable", "any"),
    ("page", "any"),
    ("ov-", "live"),
    ("bed-", "live"),
    ("s-msg", "session"),
    ("limit-msg", "alarm"),  # the limit change itself needs "limits": checked inside
    ("in-", "training"),
    ("db-", "training"),
    ("sl-", "review"),
    ("rv-download", "export"),
    ("rv-", "review"),
)
PAGE_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("/bed/", "live"),
    ("/sessions", "review"),
    ("/review/", "review"),
    ("/instructor", "training"),
    ("/debrief/", "training"),
    ("/audit", "audit"),
    ("/admin", "admin"),
)


def _first_output_id(output: str) -> str:
    text = output.removeprefix("..")
    if text.startswith("{"):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "{"
            depth -= ch == "}"
            if depth == 0:
                try:
                    return str(json.loads(text[: i + 1]).get("type", ""))
                except json.JSONDecodeError:
                    return ""
        return ""
    return text.split(".", 1)[0]


def callback_permission(output: str) -> str | None:
    """The permission a callback needs, from its output spec; None if it has none."""
    ident = _first_output_id(output)
    for prefix, permission in CALLBACK_PERMISSIONS:
        if ident == prefix or (prefix.endswith("-") and ident.startswith(prefix)):
            return permission
    return None


def page_permission(path: str) -> str:
    for prefix, permission in PAGE_PERMISSIONS:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return permission
    return "live" if path == "/" else "any"


class StaffUser(UserMixin):  # type: ignore[misc]
    def __init__(self, name: str, role: str) -> None:
        self.id = name
        self.name = name
        self.role = role


@dataclass
class Access:
    """Who is acting on this request. With logins off (loopback only) it is the station,
    allowed everything, as on a single bedside screen."""

    station: str
    enabled: bool
    secret: bytes

    def user(self) -> str:
        if not self.enabled:
            return self.station
        return str(current_user.name) if current_user.is_authenticated else "anonymous"

    def role(self) -> str | None:
        if not self.enabled:
            return None
        return str(current_user.role) if current_user.is_authenticated else None

    def can(self, permission: str) -> bool:
        if not self.enabled:
            return True
        return current_user.is_authenticated and allowed(current_user.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise CommandError(f"not permitted for your role ({self.role()}): {permission}")

    def pseudonym(self, patient_ref: str) -> str:
        return pseudonym(patient_ref, self.secret)


def load_secret(folder: Path) -> bytes:
    """The cookie key: from the environment, else from a 0600 file made once beside the
    session log."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env.encode()
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    os.chmod(path, 0o600)
    return path.read_text().strip().encode()


def _csp(app: Dash) -> str:
    scripts = " ".join(app.csp_hashes())  # already quoted: 'sha256-...'
    return (
        "default-src 'self'; "
        f"script-src 'self' {scripts}; "
        "style-src 'self' 'unsafe-inline'; "  # Mantine and Plotly set inline styles
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def install(app: Dash, store: SessionStore, server_config: ServerConfig, folder: Path) -> Access:
    """Wire logins (when `server.auth`), roles and security headers into the Flask server."""
    server = app.server
    secret = load_secret(folder)
    server.secret_key = secret
    idle_s = server_config.idle_timeout_min * 60
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=idle_s,
        WTF_CSRF_CHECK_DEFAULT=False,  # Dash posts JSON; only our own forms carry a token
        WTF_CSRF_TIME_LIMIT=None,
    )
    access = Access(server_config.station, server_config.auth, secret)
    policy: list[str] = []

    @server.after_request
    def headers(response: Response) -> Response:
        if not policy:
            policy.append(_csp(app))  # after every callback is registered
        response.headers["Content-Security-Policy"] = policy[0]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    if not server_config.auth:
        return access

    logins = LoginManager(server)
    csrf = CSRFProtect(server)
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://")

    @logins.user_loader
    def load(name: str) -> StaffUser | None:
        row = store.user(name)
        if row is None or row["disabled"]:
            return None
        return StaffUser(row["name"], row["role"])

    @server.errorhandler(CSRFError)
    def bad_token(err: CSRFError) -> tuple[str, int]:
        return _login_page("The form expired; please try again."), 400

    @server.errorhandler(429)
    def too_many(err: Exception) -> tuple[str, int]:
        store.audit(time.time(), request.form.get("username", "?"), "login_rate_limited", {})
        return _login_page("Too many login attempts: wait a minute and try again."), 429

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(f"{server_config.login_attempts_per_minute} per minute", methods=["POST"])
    def login() -> Any:
        if request.method == "GET":
            return _login_page()
        csrf.protect()
        name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        row = store.user(name)
        if row is None or row["disabled"] or not check_password(row["pw_hash"], password):
            store.audit(time.time(), name or "?", "login_failed", {})
            return _login_page("Unknown user or wrong password."), 401
        login_user(StaffUser(row["name"], row["role"]))
        session.permanent = True
        session["last_active"] = time.time()
        store.audit(time.time(), name, "login", {"role": row["role"]})
        target = request.args.get("next", "/")
        safe = urlsplit(target)
        return redirect(target if not safe.netloc and target.startswith("/") else "/")

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        csrf.protect()
        if current_user.is_authenticated:
            store.audit(time.time(), current_user.name, "logout", {})
        logout_user()
        session.clear()
        return redirect("/login")

    @server.before_request
    def gate() -> Any:
        path = request.path
        if path in PUBLIC:
            return None
        if not current_user.is_authenticated:
            return _refuse(path, 401, "log in first")
        now = time.time()
        last = session.get("last_active")
        if last is not None and now - last > idle_s:
            store.audit(now, current_user.name, "logout_idle", {"idle_s": round(now - last)})
            logout_user()
            session.clear()
            return _refuse(path, 401, "logged out after inactivity")
        body = request.get_json(silent=True) if path == "/_dash-update-component" else None
        if not _passive(body):
            session["last_active"] = now
        if body is not None:
            permission = callback_permission(str(body.get("output", "")))
            if permission is None or not allowed(current_user.role, permission):
                return Response(
                    json.dumps({"error": f"not permitted: {permission}"}),
                    403,
                    mimetype="application/json",
                )
        elif (
            request.method == "GET"
            and not path.startswith(("/_dash", "/assets/"))
            and not allowed(current_user.role, page_permission(path))
        ):
            return _refuse(path, 403, f"not permitted for your role ({current_user.role})")
        return None

    return access


def _passive(body: dict[str, Any] | None) -> bool:
    """A poll (only Intervals fired) is not activity: it must not keep a session alive."""
    if body is None:
        return False
    changed = body.get("changedPropIds") or []
    return bool(changed) and all(str(p).endswith(".n_intervals") for p in changed)


def _refuse(path: str, status: int, why: str) -> Any:
    if path.startswith("/_dash") or request.method != "GET" or path.startswith("/assets/"):
        return Response(json.dumps({"error": why}), status, mimetype="application/json")
    if status == 401:
        return redirect(f"/login?next={path}")
    return Response(_plain_page("Not permitted", why), status, mimetype="text/html")


def _plain_page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='/assets/login.css'>"
        f"</head><body><main class='login'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(body)}</p><p><a href='/'>Back</a></p></main></body></html>"
    )


def _login_page(message: str = "") -> str:
    note = f"<p class='error' role='alert'>{html.escape(message)}</p>" if message else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Log in · Ketamine infusion monitor</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body><main class="login">
<h1>Ketamine infusion monitor</h1>
<form method="post">
<input type="hidden" name="csrf_token" value="{generate_csrf()}">
<label>User <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
 required></label>
<button type="submit">Log in</button>
</form>{note}
<p class="notice">A secondary display: the bedside monitor and the pump remain the primary
alarm systems. Alarm limits are engineering defaults for the clinic to configure, not medical
advice.</p>
</main></body></html>"""
