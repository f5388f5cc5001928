"""The session gates through the bed page's own callbacks, as a nurse and a physician post
them: refusals name what failed, and only a physician's reason overrides (audited)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dashboard import build_station
from monitor.access import hash_password
from monitor.config import parse_config
from monitor.ui.form_errors import FIELDS
from tests.dash_requests import UPDATE_URL, session_body
from tests.integration.test_access import PASSWORD, auth_config, login


def _press(client: Any, app: Any, button: str, **fields: Any) -> tuple[str, str]:
    reply = client.post(UPDATE_URL, json=session_body(app, "chair-1", button, **fields))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    response = reply.get_json()["response"]
    out = response["s-msg"]
    beside = {f: response[f]["error"] for f in FIELDS if response.get(f, {}).get("error")}
    if out["className"] == "form-msg error" and beside:  # the same words beside one field
        assert list(beside.values()) == [out["children"]], beside
    ERRORS_BESIDE.clear()
    ERRORS_BESIDE.update(beside)
    return out["children"], out["className"]


ERRORS_BESIDE: dict[str, str] = {}  # the field errors of the last press


def test_gates_through_the_bed_page_callbacks(tmp_path: Path) -> None:
    station = build_station(parse_config(auth_config(tmp_path)))
    try:
        for role in ("nurse", "physician"):
            station.store.add_user(role, role, hash_password(PASSWORD), time.time())
        app = station.app
        nurse = app.server.test_client()
        login(nurse, "nurse")
        plan = {"weight": 70, "plan_rate": 0.35, "conc": 2, "duration": 240}
        # 16: a value outside its range is refused with the range; nothing is recorded
        assert _press(nurse, app, "s-create", **(plan | {"weight": 500})) == (
            "weight: 500 is outside 20 to 300 kg",
            "form-msg error",
        )
        assert ERRORS_BESIDE == {"s-weight": "weight: 500 is outside 20 to 300 kg"}
        # 14: no concentration, no session
        no_conc = {k: v for k, v in plan.items() if k != "conc"}
        assert _press(nurse, app, "s-create", **no_conc)[0].startswith("concentration: required")
        assert station.store.sessions("chair-1") == []
        assert _press(nurse, app, "s-create", **plan)[1] == "form-msg ok"
        # 10: the start fails closed; a nurse's reason is not an override
        held, _ = _press(nurse, app, "s-start")
        assert held.startswith("hold: no confirmed baseline")
        assert (
            "not permitted for your role (nurse): override"
            in _press(nurse, app, "s-start", override="in a hurry")[0]
        )
        # 11: a bolus before the infusion is refused
        refused, _ = _press(nurse, app, "s-bolus", bolus_dose=0.5)
        assert refused.startswith("bolus: no infusion running (the session is pre-infusion)")
        # 10 and 12: a physician overrides the start; a rate past the maximum needs one too
        doctor = app.server.test_client()
        login(doctor, "physician")
        started = _press(doctor, app, "s-start", override="baseline taken by hand, 118/76")
        assert started == ("Infusion started.", "form-msg ok")
        too_fast, _ = _press(doctor, app, "s-rate", new_rate=1.5)
        assert "rate 1.5 mg/kg/h is above the maximum 1" in too_fast
        assert list(ERRORS_BESIDE) == ["s-new-rate"]  # beside the field that was typed
        assert _press(doctor, app, "s-rate", new_rate=1.5, override="protocol B")[1] == (
            "form-msg ok"
        )
        station.store.flush()
        (session,) = station.store.sessions("chair-1")
        overrides = [e for e in station.store.events(session.id) if e.kind == "override"]
        assert [(e.user, e.payload["command"], e.payload["role"]) for e in overrides] == [
            ("physician", "hold", "physician"),
            ("physician", "rate", "physician"),
        ]
    finally:
        station.store.close()
