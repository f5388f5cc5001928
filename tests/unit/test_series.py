"""A patient's series: follow-up entry, what falls due, and the plan for the next infusion."""

from __future__ import annotations

import pytest

from monitor.model import SessionInfo, StoredEvent
from monitor.series import (
    DAY_S,
    due_follow_ups,
    follow_up,
    follow_ups,
    latest_plan,
    plan_next,
)
from monitor.session import SessionError

T0 = 1_767_225_600.0
GOOD = {"pain_nrs": 3, "relief_days": 10, "pgic": 2, "side_effects": ["nausea"], "note": ""}


def _info(ended: float | None = T0 + 3 * 3600, source: str = "live", sid: int = 1) -> SessionInfo:
    return SessionInfo(sid, "chair-1", source, T0, ended, 70, 0.5, "closed", "K-0042")  # type: ignore[arg-type]


def _event(kind: str, t: float, payload: dict[str, object], user: str = "nurse") -> StoredEvent:
    return StoredEvent(1, "chair-1", t, kind, user, payload)


def test_a_follow_up_is_validated_and_names_the_field_it_refuses() -> None:
    kind, payload = follow_up(_info(), [], "nurse", GOOD | {"side_effects": ["headache", "nausea"]})
    assert kind == "follow_up" and payload["side_effects"] == ["nausea", "headache"]
    for field, value, says in (
        ("pain_nrs", 11, "pain NRS: a whole number from 0 to 10"),
        ("pain_nrs", "", "pain NRS: not a number"),
        ("relief_days", -1, "days of relief: a whole number from 0 to 365"),
        ("pgic", 0, "PGIC: a whole number from 1 to 7"),
        ("side_effects", ["itch"], "side effects: 'itch' is not one of nausea, dizziness"),
    ):
        with pytest.raises(SessionError) as info:
            follow_up(_info(), [], "nurse", GOOD | {field: value})
        assert str(info.value).startswith(says), (field, str(info.value))


def test_a_follow_up_needs_a_closed_real_session_and_a_clinician() -> None:
    with pytest.raises(SessionError, match="still open"):
        follow_up(_info(ended=None), [], "nurse", GOOD)
    with pytest.raises(SessionError, match="simulated"):
        follow_up(_info(source="simulated"), [], "nurse", GOOD)
    with pytest.raises(SessionError, match="only a nurse or a physician"):
        follow_up(_info(), [], "instructor", GOOD)
    in_error = [_event("entered_in_error", T0 + 4 * 3600, {"reason": "wrong patient"})]
    with pytest.raises(SessionError, match="entered in error"):
        follow_up(_info(), in_error, "physician", GOOD)


def test_follow_ups_fall_due_at_24_h_and_7_days_and_each_contact_answers_one() -> None:
    info, end = _info(), T0 + 3 * 3600
    given = [_event("infusion_start", T0 + 600, {"rate_mg_kg_h": 0.5})]
    assert due_follow_ups(info, [], (24, 168), end + 25 * 3600) == []  # cancelled: none due
    assert due_follow_ups(info, given, (24, 168), end + 23 * 3600) == []
    (due,) = due_follow_ups(info, given, (24, 168), end + 25 * 3600)
    assert (due.label, due.due_at) == ("24 h", end + 24 * 3600)
    assert [d.label for d in due_follow_ups(info, given, (24, 168), end + 8 * DAY_S)] == [
        "24 h",
        "7 d",
    ]
    called = [*given, _event("follow_up", end + 26 * 3600, GOOD)]
    assert [d.label for d in due_follow_ups(info, called, (24, 168), end + 8 * DAY_S)] == ["7 d"]
    assert due_follow_ups(_info(source="simulated"), given, (24,), end + DAY_S * 2) == []
    (contact,) = follow_ups(info, called)
    assert contact.days_after == round(26 / 24, 1) and contact.pain_nrs == 3


def test_the_plan_is_a_physicians_and_times_the_next_infusion_from_the_last() -> None:
    raw = {"interval_min_days": 14, "interval_max_days": 30, "note": "0.5 mg/kg over 4 h"}
    with pytest.raises(SessionError, match="only a physician"):
        plan_next(_info(), [], "nurse", raw)
    with pytest.raises(SessionError, match="interval to \\(days\\): a whole number from 14"):
        plan_next(_info(), [], "physician", raw | {"interval_max_days": 7})
    kind, payload = plan_next(_info(), [], "physician", raw)
    first = (_info(), [_event(kind, T0 + 4 * 3600, payload, "dr-lee")])
    later = (_info(ended=T0 + 20 * DAY_S, sid=2), [])
    plan = latest_plan([first, later])
    assert plan is not None and plan.note == "0.5 mg/kg over 4 h" and plan.user == "dr-lee"
    assert (plan.due_from, plan.due_by) == (T0 + 34 * DAY_S, T0 + 50 * DAY_S)
    assert latest_plan([later]) is None
