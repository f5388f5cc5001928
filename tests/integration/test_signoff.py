"""Physician review and sign-off of a closed session record, addenda, entered in error.

Driven through the review page's callback with logins on, as each role's browser posts it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import Station, build_station
from monitor.access import ROLES, hash_password
from monitor.config import parse_config
from monitor.model import SessionInfo, StoredEvent
from monitor.record_review import (
    ReviewRefused,
    addendum,
    mark_in_error,
    outcome,
    review_status,
    sign_off,
)
from tests.helpers import PLAN
from tests.integration.test_access import PASSWORD, auth_config, login


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[tuple[Station, int]]:
    station = build_station(parse_config(auth_config(tmp_path)))
    for role in ROLES:
        station.store.add_user(role, role, hash_password(PASSWORD), time.time())
    hub = station.ward.runtime("chair-1")
    session = hub.create_session(PLAN | {"weight_kg": 70}, "nurse")
    hub.close_session("nurse", "patient declined after consent")
    yield station, session.id
    station.store.close()


def review_step(station: Station, user: str, button: str, text: str, session_id: int) -> Any:
    client = station.app.server.test_client()
    login(client, user)
    key = next(k for k in station.app.callback_map if "rv-review-status.children" in k)
    body = {
        "output": key,
        "outputs": [
            {"id": "rv-review-status", "property": "children"},
            {"id": "rv-review-text", "property": "error"},
            {"id": "rv-review-text", "property": "value"},
            {"id": "rv-sign", "property": "disabled"},
        ],
        "inputs": [
            {"id": b, "property": "n_clicks", "value": 1 if b == button else None}
            for b in ("rv-sign", "rv-addendum", "rv-in-error")
        ],
        "changedPropIds": [f"{button}.n_clicks"],
        "state": [
            {"id": "rv-review-text", "property": "value", "value": text},
            {"id": "rv-session", "property": "data", "value": session_id},
        ],
    }
    return client.post("/_dash-update-component", json=body)


def kinds(station: Station, session_id: int) -> list[str]:
    return [e.kind for e in station.store.events(session_id)]


def test_a_physician_signs_a_nurse_cannot_and_a_signed_record_cannot_be_signed_again(
    closed: tuple[Station, int],
) -> None:
    station, sid = closed
    refused = review_step(station, "nurse", "rv-sign", "ok", sid)  # nurses read records
    assert "only a physician can sign off" in refused.get_data(as_text=True)
    assert "review_signed" not in kinds(station, sid)

    answer = review_step(station, "physician", "rv-sign", "Uneventful; plan next in 2 weeks", sid)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "signed by physician" in answer.get_data(as_text=True)
    status = review_status(station.store.events(sid))
    assert status.signed is not None and status.signed.user == "physician"
    assert status.signed.payload == {"comment": "Uneventful; plan next in 2 weeks"}

    # a second sign-off is refused beside the field, the text kept, nothing recorded
    again = review_step(station, "physician", "rv-sign", "changed my mind", sid).get_json()
    assert "add an addendum instead" in again["response"]["rv-review-text"]["error"]
    assert "value" not in again["response"].get("rv-review-text", {})
    assert kinds(station, sid).count("review_signed") == 1

    # what is learned later is kept as an addendum
    review_step(station, "physician", "rv-addendum", "Patient called: nausea at home", sid)
    status = review_status(station.store.events(sid))
    assert [a.payload["text"] for a in status.addenda] == ["Patient called: nausea at home"]
    assert status.signed is not None and "1 addendum" in status.line


def test_entered_in_error_needs_a_reason_and_keeps_the_record(
    closed: tuple[Station, int],
) -> None:
    station, sid = closed
    empty = review_step(station, "physician", "rv-in-error", "  ", sid).get_json()
    assert empty["response"]["rv-review-text"]["error"] == "the reason is required"
    review_step(station, "physician", "rv-in-error", "wrong patient chosen at the chair", sid)
    events = station.store.events(sid)
    status = review_status(events)
    assert status.in_error is not None and status.line.startswith("ENTERED IN ERROR")
    assert status.in_error.payload["reason"] == "wrong patient chosen at the chair"
    assert station.store.session(sid).id == sid and "session_created" in kinds(station, sid)
    again = review_step(station, "physician", "rv-in-error", "twice", sid).get_json()
    assert "already marked" in again["response"]["rv-review-text"]["error"]


def _info(ended: float | None) -> SessionInfo:
    return SessionInfo(7, "b", "live", 1000.0, ended, 70, 0.5, "closed" if ended else "infusing")


def test_review_rules_fail_closed() -> None:
    open_ = _info(None)
    with pytest.raises(ReviewRefused, match="still open"):
        sign_off(open_, [], "physician", "")
    with pytest.raises(ReviewRefused, match="only a physician"):
        sign_off(_info(2000.0), [], "nurse", "")
    with pytest.raises(ReviewRefused, match="only a physician"):
        sign_off(_info(2000.0), [], None, "")  # logins off: nobody to sign
    with pytest.raises(ReviewRefused, match="at most 2000"):
        addendum(_info(2000.0), [], "nurse", "x" * 2001)
    with pytest.raises(ReviewRefused, match="only a physician"):
        mark_in_error(_info(2000.0), [], "instructor", "reason")
    closed_early = [StoredEvent(7, "b", 2000.0, "session_closed", "n", {"reason": "cancelled"})]
    assert outcome(_info(2000.0), closed_early) == "closed early: cancelled"
    discharged = [StoredEvent(7, "b", 1900.0, "discharged", "n", {}), *closed_early[:0]]
    assert outcome(_info(2000.0), discharged) == "discharged"
    assert outcome(open_, []) == "running (infusing)"
