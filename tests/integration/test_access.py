"""Access control: logins, roles on every page and callback, audit, safe defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboard import Station, build_station
from monitor.access import PERMISSIONS, ROLES, AccessError, allowed, check_password, hash_password
from monitor.config import ConfigError, parse_config
from monitor.feed import CommandError
from monitor.ports import StoreError
from monitor.ui.auth import Access, page_permission
from tests.dash_requests import callback_body
from tests.helpers import MINIMAL_RULES, PLAN, REPO, config_dict

PASSWORD = "correct horse battery"
BEDS = "beds: [{id: a, name: A, device: {kind: simulator}}]\n" + yaml.safe_dump(
    {"alarms": {"rules": MINIMAL_RULES}}
)
PAGES = ("/", "/bed/chair-1", "/sessions", "/review/1", "/instructor", "/debrief/chair-1", "/audit",
         "/admin")  # fmt: skip


def auth_config(tmp: Path, **server: Any) -> dict[str, Any]:
    data = config_dict(tmp / "s.db")
    data["server"].update({"auth": True, **server})
    data["training"] = {"enabled": True, "scenarios": str(REPO / "devices/simulator/scenarios")}
    return data


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    st = build_station(parse_config(auth_config(tmp_path)))
    for role in ROLES:
        st.store.add_user(role, role, hash_password(PASSWORD), time.time())
    yield st
    st.store.close()


def login(client: Any, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def declared(station: Station) -> dict[str, str]:
    access = station.app.server.extensions["monitor_access"]
    assert isinstance(access, Access)
    return access.permissions


def callback_request(client: Any, output: str) -> Any:
    body = {"output": output, "outputs": [], "inputs": [], "changedPropIds": []}
    return client.post("/_dash-update-component", json=body)


def test_passwords_are_hashed_with_scrypt() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    assert check_password(stored, PASSWORD) and not check_password(stored, PASSWORD + "x")
    assert hash_password(PASSWORD) != stored  # salted
    with pytest.raises(AccessError, match="at least 10 characters"):
        hash_password("short")


def test_no_open_bind_without_logins(tmp_path: Path) -> None:
    data = config_dict(tmp_path / "s.db")
    data["server"]["host"] = "0.0.0.0"
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert str(info.value) == (
        "config.yaml: server: binding 0.0.0.0 needs auth: true (logins and roles);"
        " refusing to start"
    )
    data["server"]["auth"] = True
    assert parse_config(data).server.host == "0.0.0.0"
    config = tmp_path / "c.yaml"
    config.write_text(f"store: {{path: {tmp_path / 's.db'}}}\n{BEDS}")
    result = subprocess.run(
        [sys.executable, "dashboard.py", "--config", str(config), "--host", "0.0.0.0"],
        cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "command line: server: binding 0.0.0.0 needs auth: true (logins and roles);"
        " refusing to start"
    ]


def test_every_callback_and_page_refuses_an_anonymous_request(station: Station) -> None:
    client = station.app.server.test_client()
    outputs = list(station.app.callback_map)
    assert len(outputs) >= 12  # every page's callbacks are registered
    for output in outputs:
        assert output in declared(station), f"{output} declares no permission"
        assert callback_request(client, output).status_code == 401, output
    assert client.get("/assets/login.css").status_code == 200  # the login page's own style
    assert client.get("/assets/monitor.css").status_code == 401
    for path in (*PAGES, "/_dash-layout", "/_dash-dependencies"):
        response = client.get(path)
        assert response.status_code in (302, 401), path
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next=")


def test_role_matrix(station: Station) -> None:
    outputs = list(station.app.callback_map)
    for role in ROLES:
        client = station.app.server.test_client()
        assert login(client, role).status_code == 302
        for output in outputs:
            permitted = allowed(role, declared(station)[output])
            refused = callback_request(client, output).status_code == 403
            assert refused != permitted, (role, output)
        for path in PAGES:
            permitted = allowed(role, page_permission(path))
            assert (client.get(path).status_code == 403) != permitted, (role, path)
    assert "limits" in PERMISSIONS["physician"] and "limits" not in PERMISSIONS["nurse"]
    assert PERMISSIONS["instructor"] == {"any", "training"}


def test_failures_lock_the_name_not_the_address_and_an_admin_unlocks(station: Station) -> None:
    client = station.app.server.test_client()
    for _ in range(4):
        assert login(client, "nurse", "wrong password!").status_code == 401
    refused = login(client, "nurse", "wrong password!")  # the 5th locks the name
    assert refused.status_code == 429 and "try again after" in refused.get_data(as_text=True)
    right = login(client, "nurse")  # even the right password, until the lock ends
    assert right.status_code == 429 and "Too many wrong passwords for nurse" in right.text
    # the same address (behind a proxy, the whole clinic's) still logs others in
    assert login(station.app.server.test_client(), "physician").status_code == 302
    actions = [a for _, user, a, _ in station.store.audit_log() if user == "nurse"]
    assert actions.count("login_failed") == 5
    assert "login_locked" in actions and "login_refused_locked" in actions
    # the admin page shows the lock and unlocks it (audited)
    admin = station.app.server.test_client()
    login(admin, "admin")
    assert "locked until" in str(_admin_table(station, admin))
    answer = _admin_click(station, admin, "ad-unlock", "nurse")
    assert answer["response"]["ad-msg"]["children"] == "nurse unlocked."
    assert login(client, "nurse").status_code == 302
    unlocked = [(u, a) for _, u, a, d in station.store.audit_log() if a == "login_unlocked"]
    assert unlocked == [("admin", "login_unlocked")]


def _admin_table(station: Station, client: Any) -> Any:
    from monitor.ui.pages.admin import users_table

    return users_table(station.store, station.app.server.extensions["monitor_lockout"])


def _admin_click(station: Station, client: Any, kind: str, user: str) -> Any:
    output = next(k for k in station.app.callback_map if k.startswith("..ad-users"))
    names = [u.name for u in station.store.users()]
    clicked = {(kind, user): 1}
    inputs = [
        [
            {"id": {"type": t, "user": n}, "property": "n_clicks", "value": clicked.get((t, n))}
            for n in names
        ]
        for t in ("ad-unlock", "ad-logout")
    ]
    body = {
        "output": output,
        "outputs": [
            {"id": "ad-users", "property": "children"},
            {"id": "ad-msg", "property": "children"},
        ],
        "inputs": inputs,
        "changedPropIds": [f'{{"type":"{kind}","user":"{user}"}}.n_clicks'],
        "state": [],
    }  # fmt: skip
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return response.get_json()


def test_login_needs_the_form_token_and_a_live_account(station: Station) -> None:
    client = station.app.server.test_client()
    response = client.post("/login", data={"username": "nurse", "password": PASSWORD})
    assert response.status_code == 400  # no CSRF token
    station.store.update_user("nurse", disabled=True)
    assert login(client, "nurse").status_code == 401
    assert login(client, "physician").status_code == 302
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={})
    assert response.status_code == 400  # logout is a form post with a token too


def test_idle_sessions_end_and_polling_does_not_keep_them_alive(tmp_path: Path) -> None:
    st = build_station(parse_config(auth_config(tmp_path, idle_timeout_min=0.02)))  # 1.2 s
    try:
        st.store.add_user("nurse", "nurse", hash_password(PASSWORD), time.time())
        client = st.app.server.test_client()
        login(client, "nurse")
        tick = {"output": "bed-poll.children", "outputs": [], "inputs": [],
                "changedPropIds": ["bed-tick.n_intervals"]}  # fmt: skip
        pushed = {"output": "bed-alarm-list.children", "outputs": [], "inputs": [],
                  "changedPropIds": ["bed-changes.data"]}  # fmt: skip
        for _ in range(5):
            client.post("/_dash-update-component", json=tick)
            client.post("/_dash-update-component", json=pushed)
            client.get("/stream/chair-1/poll?after=")
            time.sleep(0.3)
        assert client.get("/").status_code == 302  # logged out despite the polling
        actions = [a for _, _, a, _ in st.store.audit_log()]
        assert "logout_idle" in actions and "login" in actions
    finally:
        st.store.close()


def test_security_headers(station: Station) -> None:
    response = station.app.server.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self' 'sha256-" in csp
    assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_users_cli(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"store: {{path: {tmp_path / 's.db'}}}\n{BEDS}")

    def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "users", *args, "--config", str(config)],
            cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    ok = users("add", "alice", "--role", "physician", "--password-stdin", stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    assert users("list").stdout == "alice\tphysician\tactive\n"
    short = users("add", "bob", "--role", "nurse", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and short.stderr == "a password needs at least 10 characters\n"
    again = users("add", "alice", "--role", "nurse", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 2 and "exists" in again.stderr
    assert users("add", "eve", "--role", "king", "--password-stdin").returncode == 2
    assert users("disable", "alice").returncode == 0
    assert users("list").stdout == "alice\tphysician\tdisabled\n"
    assert users("reset", "alice", "--password-stdin", stdin=PASSWORD + "!\n").returncode == 0
    assert users("list").stdout == "alice\tphysician\tactive\n"
    assert PASSWORD not in (tmp_path / "s.db").read_bytes().decode("latin-1")


def test_pages_show_a_pseudonym_never_the_patient_reference(station: Station) -> None:
    hub = station.ward.runtime("chair-1")
    hub.create_session(PLAN | {"weight_kg": 70}, "n")
    client = station.app.server.test_client()
    login(client, "physician")
    inputs = [
        {"id": i, "property": p, "value": v}
        for i, p, v in (
            ("sl-bed", "value", None), ("sl-patient", "value", ""), ("sl-source", "value", None),
            ("sl-high", "checked", False), ("sl-sort", "value", "newest"),
            ("sl-from", "value", ""), ("sl-to", "value", ""),
        )
    ]  # fmt: skip
    body = {
        "output": next(k for k in station.app.callback_map if k.startswith("sl-table")),
        "outputs": {"id": "sl-table", "property": "children"},
        "inputs": inputs,
        "changedPropIds": ["sl-sort.value"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=body)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "K-0042" not in text
    assert re.search(r'"P-[0-9A-F]{6}"', text)


def test_each_role_lands_on_a_page_it_may_open(station: Station) -> None:
    for role, home in (("nurse", "/"), ("instructor", "/instructor"), ("admin", "/admin")):
        client = station.app.server.test_client()
        response = login(client, role)
        assert response.headers["Location"] == home
        assert client.get(home).status_code == 200


def test_requests_the_gate_does_not_know_are_refused(station: Station) -> None:
    client = station.app.server.test_client()
    login(client, "physician")
    assert client.post("/_dash-update-component", json=[1, 2]).status_code == 400
    assert client.post("/anything", data={}).status_code == 403
    assert callback_request(client, "no-such.children").status_code == 403


def test_without_logins_only_loopback_host_names_are_served(tmp_path: Path) -> None:
    st = build_station(parse_config(config_dict(tmp_path / "s.db")))
    try:
        client = st.app.server.test_client()
        assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
        assert client.get("/", headers={"Host": "rebound.example:8050"}).status_code == 400
    finally:
        st.store.close()


def _logout(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": token})


def _users_cli(station: Station, *args: str) -> None:
    config = Path(station.store.path).with_name("c.yaml")
    config.write_text(f"store: {{path: {station.store.path}}}\n{BEDS}")
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "users", *args, "--config", str(config)],
        cwd=REPO, input=PASSWORD + "!\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("ending", ["logout", "password reset", "disable", "everywhere"])
def test_a_cookie_is_refused_once_its_login_has_ended(station: Station, ending: str) -> None:
    client = station.app.server.test_client()
    login(client, "nurse")
    assert client.get("/bed/chair-1").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    if ending == "logout":
        _logout(client)
    elif ending == "password reset":  # from the users CLI, another process
        _users_cli(station, "reset", "nurse", "--password-stdin")
    elif ending == "disable":
        _users_cli(station, "disable", "nurse")
    else:  # an admin's "log out everywhere"
        admin = station.app.server.test_client()
        login(admin, "admin")
        answer = _admin_click(station, admin, "ad-logout", "nurse")
        assert answer["response"]["ad-msg"]["children"] == "Ended 1 login of nurse."
    # a captured copy of the cookie (or a request in flight at the logout) brings it back
    client.set_cookie("session", cookie.value)
    assert client.get("/bed/chair-1").status_code in (302, 401)
    refused = client.post("/_dash-update-component", json={"output": "bed-ack.children"})
    assert refused.status_code == 401
    if ending == "everywhere":
        audit = [(u, a) for _, u, a, _ in station.store.audit_log() if a == "logins_ended"]
        assert audit == [("admin", "logins_ended")]


def test_an_ended_login_takes_the_browser_to_the_login_page_with_the_reason(
    tmp_path: Path,
) -> None:
    st = build_station(parse_config(auth_config(tmp_path, idle_timeout_min=0.02)))  # 1.2 s
    try:
        st.store.add_user("nurse", "nurse", hash_password(PASSWORD), time.time())
        client = st.app.server.test_client()
        login(client, "nurse")
        time.sleep(1.5)
        page = client.get("/bed/chair-1")  # a page: sent to the login page, with why
        assert page.status_code == 302
        assert page.headers["Location"] == "/login?why=idle&next=/bed/chair-1"
        text = client.get(page.headers["Location"]).get_data(as_text=True)
        assert "logged out after a time without activity" in text
        login(client, "nurse")
        st.store.end_logins("nurse", time.time(), "everywhere")  # an admin, elsewhere
        poll = client.get("/stream/chair-1/poll?after=")  # the page's script follows `login`
        assert poll.status_code == 401 and poll.get_json()["login"] == "/login?why=everywhere"
    finally:
        st.store.close()


def test_cookies_are_secure_behind_the_tls_proxy(tmp_path: Path) -> None:
    st = build_station(parse_config(auth_config(tmp_path, behind_tls_proxy=True)))
    try:
        st.store.add_user("nurse", "nurse", hash_password(PASSWORD), time.time())
        client = st.app.server.test_client()
        origin = "https://monitor.clinic.example"
        proxied = {"headers": {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https",
                               "Referer": origin + "/login"}, "base_url": origin}  # fmt: skip
        page = client.get("/login", **proxied).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        form = {"username": "nurse", "password": PASSWORD, "csrf_token": token}
        answer = client.post("/login", data=form, **proxied)
        assert answer.status_code == 302
        cookie = answer.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert answer.headers["Referrer-Policy"] == "same-origin"  # the browser sends it
    finally:
        st.store.close()


def test_an_instructor_cannot_replay_a_patients_session(station: Station) -> None:
    live = station.store.create_session("chair-2", "live", time.time() - 600, PLAN, "nurse")
    station.store.close_session(live.id, time.time() - 60, "nurse")
    hub = station.ward.runtime("chair-1")
    with pytest.raises(CommandError, match="needs the review permission"):
        hub.training_command("replay", "instructor", str(live.id))
    station.store.flush()
    refused = [(u, a) for _, u, a, _ in station.store.audit_log() if a == "refused"]
    assert refused == [("instructor", "refused")]
    # through the instructor console: the same refusal, on the page
    client = station.app.server.test_client()
    login(client, "instructor")
    values = {"in-replay.n_clicks": 1, "in-bed.value": "chair-1",
              "in-replay-session.value": str(live.id)}  # fmt: skip
    answer = client.post(
        "/_dash-update-component", json=callback_body(station.app, "in-status", values)
    )
    assert "needs the review permission" in answer.get_data(as_text=True)
    with pytest.raises(CommandError, match="no readings"):  # a reviewer gets past the check
        hub.training_command("replay", "dr", str(live.id), may_review=True)


def test_the_record_files_are_the_station_users_own(tmp_path: Path) -> None:
    import stat

    from monitor.exports import export_session
    from monitor.storage.sqlite import SessionStore

    data_dir = tmp_path / "data" / "clinic"
    st = build_station(
        parse_config(auth_config(tmp_path) | {"store": {"path": str(data_dir / "s.db")}})
    )
    try:
        hub = st.ward.runtime("chair-1")
        hub.create_session(PLAN | {"weight_kg": 70}, "nurse")
        st.store.flush()
        mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
        log = data_dir / "s.db"
        files = [log, log.with_name("s.db-wal"), log.with_name("s.db-shm")]
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert mode(data_dir) == mode(data_dir.parent) == 0o700
        assert mode(data_dir / "secret_key") == 0o600
        session = SessionStore(log).sessions("chair-1")[0]
        written = export_session(st.store, session.id, "csv", tmp_path / "exports" / "s.csv")
        assert [mode(p) for p in written] == [0o600, 0o600]
        assert mode(tmp_path / "exports") == 0o700
    finally:
        st.store.close()
    os.chmod(log, 0o664)  # a log others may write is refused, in one line
    with pytest.raises(StoreError) as info:
        build_station(parse_config(auth_config(tmp_path) | {"store": {"path": str(log)}}))
    assert str(info.value) == (
        f"{log}: group- or world-writable (mode 0664); refusing to start (chmod 600 {log})"
    )
