"""A patient's series: 12 infusions over 6 months, recorded through the station's commands,
then the series page, follow-up entry, the due lists and who may see them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import Station
from monitor.access import ROLES, hash_password
from monitor.clock import ManualClock
from monitor.review import summarize, summary_items
from monitor.series_rows import series_sessions
from monitor.ui.pages import due, series
from tests.dash_requests import callback_body
from tests.helpers import PLAN
from tests.integration.test_access import PASSWORD, login
from tests.series_course import (
    DAY,
    PATIENT,
    course,
    gateway_station,
    record_course,
    record_infusion,
)

pytestmark = pytest.mark.slow
Recorded = tuple[Station, list[int], ManualClock]
START = time.time() - 200 * DAY  # six months of infusions 15 days apart, ending in the past


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    station, clock = gateway_station(tmp_path_factory.mktemp("series"), START, auth=True)
    for role in ROLES:
        station.store.add_user(role, role, hash_password(PASSWORD), time.time())
    ids = record_course(station, clock, course(12))
    yield station, ids, clock
    station.store.close()


def text(node: Any) -> str:
    """The words a Dash component tree shows."""
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, (list, tuple)):
        return " ".join(text(n) for n in node)
    return text(getattr(node, "children", None))


def _find(node: Any, component_id: str) -> Any:
    if getattr(node, "id", None) == component_id:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def _key(station: Station) -> str:
    return station.app.server.extensions["monitor_access"].pseudonym(PATIENT)


def test_twelve_infusions_make_one_series_from_the_records_own_summary(
    recorded: Recorded,
) -> None:
    station, ids, _ = recorded
    access = station.app.server.extensions["monitor_access"]
    key = _key(station)
    assert len(ids) == 12 and re.fullmatch(r"P-[0-9A-F]{6}", key)
    assert [s.id for s in series_sessions(station.store, access.pseudonym, key)] == ids
    page = series.series_layout(station.store, station.config.alarms.rules, access, key)
    table = _find(page, "pt-table")
    rows = table.children[1:]
    assert len(rows) == 12
    plans = course(12)
    for sid, row, plan in zip(ids, rows, plans, strict=True):
        cells = [text(c) for c in row.children]
        # the record's own summary, as the review page and the PDF print it
        record = dict(summary_items(summarize(station.store, sid, station.config.alarms.rules)))
        given = re.search(r"\(([0-9.]+) mg/kg\)", record["Dose"]).group(1)  # type: ignore[union-attr]
        assert cells[4] == given  # mg/kg
        assert given == f"{plan.rate_mg_kg_h * 40 / 60:.2f}"  # 40 min at the set rate
        assert record["Pain NRS"] == f"before {plan.pain_before}, at the end {plan.pain_end}"
        assert (cells[6], cells[7]) == (str(plan.pain_before), str(plan.pain_end))
        first, week = plan.follow_up_pain
        assert cells[8].startswith(f"{first} (1") and f"{week} (7" in cells[8]
        assert cells[10] == f"+{plan.hr_rise:.0f} /min" == record["Peak ΔHR"]
        assert cells[9] == "+12 mmHg"
        assert ("ondansetron" in cells[14]) == plan.antiemetic
    days = [text(r.children[-1]) for r in rows]
    assert days[0] == "–" and set(days[1:]) == {"15"}


def test_follow_up_entry_names_the_field_and_refuses_an_open_session(
    recorded: Recorded,
) -> None:
    station, ids, _ = recorded
    client = station.app.server.test_client()
    login(client, "nurse")

    def record(session_id: int, **values: Any) -> dict[str, Any]:
        form = {"fu-save.n_clicks": 1, "fu-pain.value": 3, "fu-relief.value": 5,
                "fu-pgic.value": "3", "fu-effects.value": ["nausea"], "fu-note.value": "",
                "rv-session.data": session_id} | values  # fmt: skip
        body = callback_body(station.app, "fu-msg", form)
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200, answer.text
        return answer.get_json()["response"]

    before = len(station.store.events(ids[0]))
    refused = record(ids[0], **{"fu-pain.value": 12})
    assert refused["fu-msg"]["children"] == "pain NRS: a whole number from 0 to 10"
    assert refused["fu-pain"]["error"] == "pain NRS: a whole number from 0 to 10"
    assert len(station.store.events(ids[0])) == before  # nothing recorded
    done = record(ids[0])
    assert done["fu-msg"]["children"] == "Follow-up recorded (see the table below)."
    redrawn = str(done["rv-section-after_discharge"]["children"])  # the record's own table
    assert "pain NRS 3 · 5 days of relief · PGIC 3 · side effects: nausea" in redrawn
    assert station.store.events(ids[0])[-1].kind == "follow_up"
    hub = station.ward.runtime("chair-1")
    open_id = hub.create_session(PLAN | {"patient_ref": PATIENT}, "nurse").id
    try:
        still_open = record(open_id)
        assert "still open" in still_open["fu-msg"]["children"]
    finally:
        hub.close_session("nurse", "test: left open")


def test_due_lists_and_the_plan(recorded: Recorded) -> None:
    station, ids, clock = recorded
    access = station.app.server.extensions["monitor_access"]
    cfg = station.config.session
    # every infusion of the course had both calls: nothing of it is due
    assert not any(
        f"Session {i} " in text(due.follow_ups_layout(station.store, cfg, access)) + " "
        for i in ids
    )
    uncalled = record_infusion(station, clock, course(1)[0])  # about 20 days ago, no calls
    station.store.flush()
    listed = _find(due.follow_ups_layout(station.store, cfg, access), "due-follow-ups")
    lines = [[text(c) for c in row.children] for row in listed.children[1:]]
    assert [(line[0], line[3]) for line in lines] == [
        ("24 h", f"Session {uncalled}"),
        ("7 d", f"Session {uncalled}"),
    ]
    assert _save_plan(station, (14, 30), "0.6 mg/kg/h next", uncalled) == "Plan saved."
    key = _key(station)
    infusions = text(due.infusions_layout(station.store, access))
    assert key in infusions and "0.6 mg/kg/h next" in infusions
    assert "due now" in infusions  # the last infusion was about 20 days ago: in the window


def _save_plan(station: Station, days: tuple[int, int], note: str, last: int) -> str:
    """A physician plans the next infusion on the series page; returns the page's answer."""
    client = station.app.server.test_client()
    login(client, "physician")
    values = {"pt-save.n_clicks": 1, "pt-from.value": days[0], "pt-to.value": days[1],
              "pt-note.value": note, "pt-key.data": _key(station),
              "pt-last.data": last}  # fmt: skip
    answer = client.post(
        "/_dash-update-component", json=callback_body(station.app, "pt-msg", values)
    )
    return str(answer.get_json()["response"]["pt-msg"]["children"])


def test_who_may_open_a_series(recorded: Recorded) -> None:
    station, _, _ = recorded
    key = _key(station)
    for role, status in (("instructor", 403), ("nurse", 200), ("physician", 200), ("admin", 403)):
        client = station.app.server.test_client()
        login(client, role)
        assert client.get(f"/patients/{key}").status_code == status, role
        assert client.get("/follow-ups").status_code == status, role
    client = station.app.server.test_client()
    login(client, "instructor")
    values = {"pt-csv.n_clicks": 1, "pt-key.data": key}
    refused = client.post(
        "/_dash-update-component", json=callback_body(station.app, "pt-download", values)
    )
    assert refused.status_code == 403


def test_a_simulated_session_never_joins_a_real_patients_series(tmp_path: Path) -> None:
    station, clock = gateway_station(tmp_path, START)
    try:
        record_course(station, clock, course(1))
        plan = PLAN | {"patient_ref": PATIENT}  # the same patient, on a training bed
        simulated = station.store.create_session("chair-1", "simulated", clock.now(), plan, "n")
        station.store.close_session(simulated.id, clock.now() + 60, "n")
        access = station.app.server.extensions["monitor_access"]
        found = series_sessions(station.store, access.pseudonym, _key(station))
        assert simulated.id not in [s.id for s in found] and len(found) == 1
    finally:
        station.store.close()


def test_the_plan_is_offered_on_the_next_sessions_form_never_applied(recorded: Recorded) -> None:
    station, ids, _ = recorded
    _save_plan(station, (21, 28), "0.55 mg/kg/h over 40 min", ids[-1])
    nurse = station.app.server.test_client()
    login(nurse, "nurse")
    typed = {"s-patient.value": PATIENT}
    answer = nurse.post(
        "/_dash-update-component", json=callback_body(station.app, "s-plan-hint", typed)
    )
    hint = answer.get_json()["response"]["s-plan-hint"]["children"]
    assert "every 21-28 days; 0.55 mg/kg/h over 40 min" in hint and "A suggestion" in hint
    spec = station.app.callback_map[next(k for k in station.app.callback_map if "s-plan-hint" in k)]
    assert str(spec["output"]) == "s-plan-hint.children"  # it fills in nothing else
    other = {"s-patient.value": "K-9999"}
    answer = nurse.post(
        "/_dash-update-component", json=callback_body(station.app, "s-plan-hint", other)
    )
    assert answer.get_json()["response"]["s-plan-hint"]["children"] == ""
