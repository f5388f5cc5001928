"""The session record reads in clinical language on the review page, the audit page and the
PDF: no Python dicts, no `None`, no epoch numbers; the tables list every step."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from monitor.clock import ManualClock
from monitor.config import AlarmRule, AlarmsConfig, BedConfig, SimulatorDevice
from monitor.exports import export_session
from monitor.model import Reading
from monitor.runtime.bed import BedRuntime
from monitor.session_config import SessionConfig
from monitor.storage.sqlite import SessionStore
from monitor.ui.app import audit_layout
from monitor.ui.pages.review import review_layout
from tests.browser import chromium_available
from tests.helpers import PLAN, QuietDevice

EPOCH = re.compile(r"\b1\d{9}\b")
RULES = [
    AlarmRule(name="SPO2_LOW", signal="SPO2", op="<", limit=92, priority="MEDIUM"),
    AlarmRule(name="NIBP_SYS_HIGH", signal="NIBP_SYS", op=">=", limit=160, priority="HIGH"),
]


def text_of(component: Any) -> str:
    """Every string a Dash component tree shows."""
    if component is None or isinstance(component, (bool, int, float)):
        return "" if component is None or isinstance(component, bool) else str(component)
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return "\n".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def assert_clinical(text: str) -> None:
    assert "{'" not in text and "None" not in text, text
    assert EPOCH.search(text) is None, EPOCH.search(text)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[SessionStore, int]:
    """A session with every kind of step a nurse and a physician take."""
    clock = ManualClock(start=1_790_000_000.0)
    store = SessionStore(tmp_path / "s.db")
    bed = BedConfig(id="b", name="Chair B", device=SimulatorDevice(kind="simulator"))
    hub = BedRuntime(bed, QuietDevice(), store, clock, AlarmsConfig(rules=RULES))

    def at(signal: str, value: float, unit: str) -> None:
        hub.ingest(Reading("b", clock.now(), signal, value, unit))

    s = hub.create_session(PLAN, "nurse-a")
    for sbp in (120, 124):
        at("NIBP_SYS", sbp, "mmHg")
        for signal, value, unit in (("HR", 70, "/min"), ("SPO2", 97, "%"), ("RR", 14, "/min")):
            at(signal, value, unit)
        clock.advance(180)
    hub.confirm_baseline("nurse-a")
    hub.start_infusion("dr-b", "baseline taken by hand", role="physician")
    hub.assess({"CADSS6": 4, "RASS": 0, "PAIN_NRS": 6, "note": "calm, talking"}, "nurse-a")
    for i in range(40):
        at("SPO2", 90.0 if i < 30 else 97.0, "%")
        if i == 12:
            hub.acknowledge("nurse-a")
            hub.pause_audio("nurse-a")
        clock.advance(1)
    hub.change_limit("SPO2_LOW", 90, "dr-b", "COPD: usual SpO2 91")
    hub.change_rate(0.5, "nurse-a")
    hub.give("medication", "nurse-a", drug="Ondansetron", dose="4 mg IV")
    hub.pause_infusion("nurse-a")
    clock.advance(120)
    hub.resume_infusion("nurse-a")
    clock.advance(600)
    hub.stop_infusion("nurse-a")
    store.flush()
    store.audit(clock.now(), "dr-b", "export", {"session": s.id, "format": "pdf"})
    return store, s.id


def test_review_and_audit_pages_read_in_clinical_words(recorded: tuple[SessionStore, int]) -> None:
    store, session_id = recorded
    page = text_of(review_layout(store, session_id, RULES, SessionConfig()))
    assert_clinical(page)
    for words in (
        "SpO₂",  # registry labels, not codes
        "Ondansetron",
        "4 mg IV",
        "COPD: usual SpO2 91",  # the reason typed, in the notes and the limit change
        "SPO2_LOW: 92 → 90",
        "0.5 mg/kg/h",
        "calm, talking",
        "Infusion paused",
    ):
        assert words in page, words
    assert re.search(r"nurse-a after 0:\d\d", page)  # time to acknowledge as m:ss
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page)  # clock times with the date
    audit = text_of(audit_layout(store))
    assert_clinical(audit)
    assert "Alarm sound paused" in audit and "Alarm limit changed" in audit


@pytest.mark.skipif(not chromium_available(), reason="the PDF is printed by Chromium")
def test_pdf_record_reads_in_clinical_words(
    recorded: tuple[SessionStore, int], tmp_path: Path
) -> None:
    store, session_id = recorded
    out = tmp_path / "record.pdf"
    export_session(store, session_id, "pdf", out, RULES, include_simulated=True)
    if dump := os.environ.get("RECORD_PDF"):  # for looking at it
        shutil.copy(out, dump)
    reader = PdfReader(str(out))
    first = reader.pages[0].extract_text()
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Summary" in first and "Dose" in first  # page one is the summary
    assert "Ondansetron" in text and "Assessments" in text and "Alarm history" not in first
    assert_clinical(text)
