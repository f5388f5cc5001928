"""Logins, roles on every page and callback, audit of logins, and security headers.

Flask-Login keeps the user in the cookie, the station keeps the login itself (logins.py),
Flask-WTF guards the login and logout form posts against CSRF, and Flask-Limiter keeps a
generous per-address limit on login attempts (names lock on their own). Every callback is
registered through `Access.callback` with the permission it needs (monitor/access.py);
every Dash request names its callback, and the gate checks that permission before Dash runs
anything. A callback registered without one is refused (a test walks the app's callback
map). Only what depends on the request's data (a limit change from the alarm form, an
override) is checked again inside, through `Access.require`.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dash import Dash
from flask import Flask, Response, g, redirect, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from monitor.access import ALL_PERMISSIONS, allowed, pseudonym
from monitor.config import ServerConfig
from monitor.feed import CommandError
from monitor.files import private_folder
from monitor.lockout import LoginLockout
from monitor.ports import Accounts
from monitor.ui.logins import ENDED, current_login, login_again, login_page
from monitor.ui.logins import register as register_logins

SECRET_ENV = "MONITOR_SECRET_KEY"
PUBLIC = ("/login", "/assets/login.css", "/health")
PAGE_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("/bed/", "live"),
    ("/stream/", "live"),
    ("/sessions", "review"),
    ("/review/", "review"),
    ("/patients/", "review"),
    ("/follow-ups", "review"),
    ("/infusions-due", "review"),
    ("/instructor", "training"),
    ("/debrief/", "training"),
    ("/audit", "audit"),
    ("/admin", "admin"),
)


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
    permissions: dict[str, str] = field(default_factory=dict)  # callback key -> permission

    def user(self) -> str:
        if not self.enabled:
            return self.station
        return str(current_user.name) if current_user.is_authenticated else "anonymous"

    def role(self) -> str | None:
        if not self.enabled:
            return None
        return str(current_user.role) if current_user.is_authenticated else None

    def acting_role(self) -> str | None:
        """The role a clinical step is decided for: the user's; with logins off, the
        loopback station's, which may do everything (a physician's steps included)."""
        return "physician" if not self.enabled else self.role()

    def can(self, permission: str) -> bool:
        if not self.enabled:
            return True
        return current_user.is_authenticated and allowed(current_user.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise CommandError(f"not permitted for your role ({self.role()}): {permission}")

    def pseudonym(self, patient_ref: str) -> str:
        return pseudonym(patient_ref, self.secret)

    # -- declaring what each callback needs ------------------------------------------------

    def callback(self, app: Dash, permission: str, *args: Any, **kwargs: Any) -> Any:
        """`app.callback`, recording the permission the gate checks for it."""
        before = set(app.callback_map)
        register = app.callback(*args, **kwargs)  # Dash maps the callback here already
        self._declare(app, before, permission)
        return register

    def clientside(self, app: Dash, permission: str, *args: Any, **kwargs: Any) -> None:
        """`app.clientside_callback` (never reaches the server, but is declared all the same)."""
        before = set(app.callback_map)
        app.clientside_callback(*args, **kwargs)
        self._declare(app, before, permission)

    def _declare(self, app: Dash, before: set[str], permission: str) -> None:
        if permission not in ALL_PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        for key in set(app.callback_map) - before:
            self.permissions[key] = permission


def load_secret(folder: Path) -> bytes:
    """The cookie key: from the environment, else from a 0600 file made once beside the
    session log."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env.encode()
    path = folder / "secret_key"
    if not path.exists():
        private_folder(folder)
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


class _QuietWhenPassive(SecureCookieSessionInterface):
    """No cookie on a passive request (a poll, a live stream). Such a request still in flight
    when the user logs out would otherwise answer with the old login cookie and log the
    browser back in."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        return not g.get("passive", False) and super().should_set_cookie(app, session)


def install(app: Dash, store: Accounts, server_config: ServerConfig, folder: Path) -> Access:
    """Wire logins (when `server.auth`), roles and security headers into the Flask server."""
    server = app.server
    secret = load_secret(folder)
    server.secret_key = secret
    server.session_interface = _QuietWhenPassive()
    idle_s = server_config.idle_timeout_min * 60
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # the gate below ends an idle session (and audits it); the cookie outlives it by a
        # minute, so a browser never drops it first and the logout goes unrecorded
        PERMANENT_SESSION_LIFETIME=idle_s + 60,
        WTF_CSRF_CHECK_DEFAULT=False,  # Dash posts JSON; only our own forms carry a token
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_SECURE=server_config.behind_tls_proxy,
    )
    if server_config.behind_tls_proxy:  # one proxy in front: its X-Forwarded-* are trusted
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    access = Access(server_config.station, server_config.auth, secret)
    policy: list[str] = []

    @server.after_request
    def headers(response: Response) -> Response:
        if not policy:
            policy.append(_csp(app))  # after every callback is registered
        response.headers["Content-Security-Policy"] = policy[0]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin: Flask-WTF checks the Referer of a form post over HTTPS (the login)
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    if not server_config.auth:
        # Loopback only: refuse other Host names, so no web page can rebind its own name
        # to this address and post commands as the station.
        server.config["TRUSTED_HOSTS"] = ["127.0.0.1", "localhost", "::1"]
        return access

    logins = LoginManager(server)
    csrf = CSRFProtect(server)
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://")
    lockout = LoginLockout(
        server_config.login_failures_before_lock, server_config.login_lock_min * 60
    )
    server.extensions["monitor_lockout"] = lockout  # the admin page unlocks here

    @logins.user_loader
    def load(name: str) -> StaffUser | None:
        account = store.user(name)
        if account is None or account.disabled:
            return None
        return StaffUser(account.name, account.role)

    @server.errorhandler(CSRFError)
    def bad_token(err: CSRFError) -> tuple[str, int]:
        return login_page("The form expired; please try again."), 400

    @server.errorhandler(429)
    def too_many(err: Exception) -> tuple[str, int]:
        store.audit(time.time(), request.form.get("username", "?"), "login_rate_limited", {})
        return login_page("Too many login attempts from here: wait a minute."), 429

    per_address = f"{server_config.login_attempts_per_minute} per minute"
    register_logins(
        server, store, lockout, csrf, limiter.limit(per_address, methods=["POST"]), StaffUser
    )
    touch_every_s = min(5.0, idle_s / 10)  # a write per click would be wasted

    @server.before_request
    def gate() -> Any:
        path = request.path
        if path in PUBLIC:
            return None
        if not current_user.is_authenticated:
            return _refuse(path, 401, "log in first")
        now = time.time()
        found = current_login(store)
        if found is None or found[1].ended_at is not None or found[1].user != current_user.name:
            why = (found[1].end_reason or "ended") if found is not None else "ended"
            return _refuse(path, 401, ENDED.get(why, ENDED["ended"]), login_again(why))
        key, login = found
        if now - login.last_active > idle_s:
            store.end_login(key, now, "idle")
            idle = {"idle_s": round(now - login.last_active)}
            store.audit(now, current_user.name, "logout_idle", idle)
            return _refuse(path, 401, "logged out after inactivity", login_again("idle"))
        passive = path.startswith("/stream/")
        if path == "/_dash-update-component":
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return _refuse(path, 400, "a callback request is a JSON object")
            passive = _passive(body)
            permission = access.permissions.get(str(body.get("output", "")))
            if permission is None or not allowed(current_user.role, permission):
                return _refuse(path, 403, f"not permitted: {permission}")
        if passive:
            # a poll or a live stream neither keeps a login alive nor sends a cookie, which,
            # answered after a logout, would log the browser back in
            g.passive = True
        elif now - login.last_active >= touch_every_s:
            store.touch_login(key, now)
        if path == "/_dash-update-component":
            return None
        if path.startswith("/stream/"):
            if not allowed(current_user.role, page_permission(path)):
                return _refuse(path, 403, f"not permitted for your role ({current_user.role})")
            g.login_alive = lambda: _still_open(store, key, idle_s)  # a stream outlives this
            return None
        if request.method != "GET":  # our only other form post is the logout
            return None if path == "/logout" else _refuse(path, 403, "not a known form")
        if not path.startswith(("/_dash", "/assets/")) and not allowed(
            current_user.role, page_permission(path)
        ):
            return _refuse(path, 403, f"not permitted for your role ({current_user.role})")
        return None

    return access


def _still_open(store: Accounts, key: str, idle_s: float) -> bool:
    """A live stream's login has not ended, by any means, nor gone idle."""
    login = store.login(key)
    if login is None or login.ended_at is not None:
        return False
    return time.time() - login.last_active <= idle_s


PUSHED = ("bed-changes.data",)  # set by live.js when the stream says something changed


def _passive(body: dict[str, Any]) -> bool:
    """A poll (only Intervals fired) or a redraw the live push asked for is not activity: it
    must not keep a session alive."""
    changed = body.get("changedPropIds") or []
    return bool(changed) and all(str(p).endswith(".n_intervals") or p in PUSHED for p in changed)


def _refuse(path: str, status: int, why: str, login: str = "/login") -> Any:
    """JSON for the app's own requests (a script there follows `login`), else a page."""
    if (
        path.startswith("/_dash")
        or request.method != "GET"
        or path.startswith(("/assets/", "/stream/"))
    ):
        body = {"error": why, **({"login": login} if status == 401 else {})}
        return Response(json.dumps(body), status, mimetype="application/json")
    if status == 401:
        sep = "&" if "?" in login else "?"
        return redirect(f"{login}{sep}next={quote(path)}")
    return Response(_plain_page("Not permitted", why), status, mimetype="text/html")


def _plain_page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='/assets/login.css'>"
        f"</head><body><main class='login'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(body)}</p><p><a href='/'>Back</a></p></main></body></html>"
    )
