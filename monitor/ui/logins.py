"""Logging in and out: the form, the lockout of a name, and the login the station keeps.

A login is a row of the session log (store.open_login); the cookie carries a random token
whose hash names it. Logging out, a password reset, disabling the user, an admin's "log out
everywhere" and inactivity end the row, and a cookie naming an ended login is refused at
once: nothing depends on the browser forgetting it. Every lock, unlock and ending is audited.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, redirect, request, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect, generate_csrf

from monitor.access import check_password
from monitor.lockout import LoginLockout
from monitor.model import LoginRecord
from monitor.ports import Accounts
from monitor.record_words import clock_time

LOGIN_KEY = "login"  # the cookie's field holding the login's token
HOME = {"instructor": "/instructor", "admin": "/admin"}  # others start on the ward

# why a login ended -> what the login page tells the user
ENDED = {
    "logout": "You logged out.",
    "idle": "You were logged out after a time without activity.",
    "password_reset": "Your password was reset: log in with the new one.",
    "disabled": "Your account was disabled.",
    "everywhere": "An administrator ended your logins.",
    "ended": "Your login has ended: log in again.",
}


def login_id(token: str) -> str:
    """The stored name of a login: the token's hash, so a copy of the log opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def current_login(store: Accounts) -> tuple[str, LoginRecord] | None:
    """The login this request's cookie names, if the station still keeps it open."""
    token = session.get(LOGIN_KEY)
    if not isinstance(token, str):
        return None
    key = login_id(token)
    record = store.login(key)
    return (key, record) if record is not None else None


def login_again(why: str) -> str:
    """The login page's address, saying why. The refused cookie is left as it is: every
    request it comes with (a page, a poll, a stream) is refused for the same reason until
    the next login replaces it."""
    return f"/login?why={quote(why)}"


def register(
    server: Flask,
    store: Accounts,
    lockout: LoginLockout,
    csrf: CSRFProtect,
    limit: Callable[[Callable[..., Any]], Callable[..., Any]],
    staff_user: Callable[[str, str], Any],
) -> None:
    """The /login and /logout routes."""

    @server.route("/login", methods=["GET", "POST"])
    @limit
    def login() -> Any:
        if request.method == "GET":
            return login_page(ENDED.get(request.args.get("why", ""), ""))
        csrf.protect()
        name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        now = time.time()
        until = lockout.locked_until(name, now)
        if until is not None:
            store.audit(now, name or "?", "login_refused_locked", {"until": round(until)})
            return login_page(_locked(name, until)), 429
        account = store.user(name)
        if account is None or account.disabled or not check_password(account.pw_hash, password):
            store.audit(now, name or "?", "login_failed", {})
            locked = lockout.failed(name, now)
            if locked is None:
                return login_page("Unknown user or wrong password."), 401
            detail = {"until": round(locked), "failures": lockout.failures}
            store.audit(now, name or "?", "login_locked", detail)
            return login_page(_locked(name, locked)), 429
        lockout.succeeded(name)
        token = secrets.token_urlsafe(32)
        store.open_login(login_id(token), account.name, now)
        login_user(staff_user(account.name, account.role))
        session.permanent = True
        session[LOGIN_KEY] = token
        store.audit(now, name, "login", {"role": account.role})
        home = HOME.get(account.role, "/")
        target = request.args.get("next") or home
        safe = urlsplit(target)
        return redirect(target if not safe.netloc and target.startswith("/") else home)

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        csrf.protect()
        now = time.time()
        found = current_login(store) if current_user.is_authenticated else None
        if found is not None:
            store.end_login(found[0], now, "logout")
            store.audit(now, current_user.name, "logout", {})
        logout_user()
        session.clear()
        return redirect(login_again("logout"))


def _locked(name: str, until: float) -> str:
    return f"Too many wrong passwords for {name}: try again after {clock_time(until)}."


def login_page(message: str = "") -> str:
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
