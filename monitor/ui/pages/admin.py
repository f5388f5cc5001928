"""The admin page: staff accounts with their locks and open logins, and the configuration.

Accounts are added, disabled and reset with `python -m monitor users` (a password never
passes through a web form); here an admin unlocks a locked name and ends all of a user's
logins at once (a lost badge, a shared screen). Both are audited.
"""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Input, Output, ctx, html, no_update

from monitor.lockout import LoginLockout
from monitor.ports import Accounts
from monitor.record_words import clock, clock_time
from monitor.ui.auth import Access


def layout(store: Accounts, lockout: LoginLockout | None, config_text: str) -> Any:
    return html.Div(
        [
            html.H2("Users"),
            html.P("Add, disable or reset users with: python -m monitor users …"),
            html.Div(users_table(store, lockout), id="ad-users"),
            html.P(id="ad-msg", role="status"),
            html.H2("Configuration"),
            html.Pre(config_text, className="config-text"),
        ]
    )


def users_table(store: Accounts, lockout: LoginLockout | None) -> Any:
    now = time.time()
    locked = lockout.locked(now) if lockout is not None else {}
    logins = store.open_logins()
    rows = []
    for u in store.users():
        until = locked.get(u.name.lower())
        state = "disabled" if u.disabled else "active"
        actions = []
        if until is not None:
            state += f", locked until {clock_time(until)}"
            actions.append(_button("Unlock", "ad-unlock", u.name))
        if logins.get(u.name):
            actions.append(_button("Log out everywhere", "ad-logout", u.name))
        cells = (u.name, u.role, state, str(logins.get(u.name, 0)), clock(u.created_at))
        rows.append(html.Tr([*(html.Td(c) for c in cells), html.Td(actions)]))
    head = ("user", "role", "state", "open logins", "created", "")
    return html.Table([html.Tr([html.Th(h) for h in head]), *rows], className="alarm-list")


def _button(label: str, kind: str, user: str) -> Any:
    return dmc.Button(label, id={"type": kind, "user": user}, size="xs", variant="outline")


def register(app: Any, store: Accounts, lockout: LoginLockout | None, access: Access) -> None:
    @access.callback(
        app,
        "admin",
        Output("ad-users", "children"),
        Output("ad-msg", "children"),
        Input({"type": "ad-unlock", "user": ALL}, "n_clicks"),
        Input({"type": "ad-logout", "user": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def act(_unlocks: list[int | None], _logouts: list[int | None]) -> tuple[Any, str]:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return no_update, no_update  # a button re-rendered, not clicked
        name, now = str(trigger["user"]), time.time()
        if trigger["type"] == "ad-unlock":
            was = lockout is not None and lockout.unlock(name, now)
            store.audit(now, access.user(), "login_unlocked", {"user": name})
            message = f"{name} unlocked." if was else f"{name} was not locked."
        else:
            ended = store.end_logins(name, now, "everywhere")
            store.audit(now, access.user(), "logins_ended", {"user": name, "logins": ended})
            message = f"Ended {ended} login{'s' * (ended != 1)} of {name}."
        return users_table(store, lockout), message
