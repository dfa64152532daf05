"""The consultation page: autosave survives a crash; one answer costs one save and one read."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import ASSESSMENT, CHECKLIST, PROCEDURE, SIGNATURES
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.ui import answer, choose, consultation_page


def test_a_draft_survives_a_crash_and_reopens_intact(
    qtbot: QtBot, disk_clinic: Clinic, clock: FakeClock, tmp_path: Path
) -> None:
    patient = disk_clinic.patients.register(patient_fields())
    c = disk_clinic.consultations.start(patient.id)
    page = consultation_page(qtbot, disk_clinic, c.id)
    page.go_to_step(PROCEDURE)
    QTest.keyClicks(page.procedure.device, "SkinPen Precision")
    page.procedure.needle_depth.setValue(1.25)
    page.procedure.session.setValue(3)
    page.go_to_step(CHECKLIST)
    answer(page.checklist, {"V1": "yes", "V2": "segmental", "V3": "3m_6m", "V10": ["lupus"]})
    QTest.keyClicks(page.procedure.product, "hyaluronic serum")  # typed: saved after a pause
    qtbot.waitUntil(lambda: page.save_state.text().startswith("✔"), timeout=3000)

    # The "crash": the window is never closed and nothing is flushed. Another process opens
    # the same database file.
    other = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER)
    try:
        other.session.login("owner", OWNER_PASSWORD)
        draft = other.consultations.get(c.id)
        assert draft.state == "draft"
        assert draft.procedure.device == "SkinPen Precision"
        assert draft.procedure.needle_depth_mm == 1.25
        assert draft.procedure.session_number == 3
        assert draft.procedure.product == "hyaluronic serum"
        assert dict(draft.answers) == {
            "V1": "yes",
            "V2": "segmental",
            "V3": "3m_6m",
            "V10": ("lupus",),
        }
        assert draft.id in {d.id for d in other.consultations.drafts()}

        reopened = consultation_page(qtbot, other, c.id)
        assert reopened.current_step() == CHECKLIST
        assert reopened.checklist.answers() == dict(draft.answers)
        assert reopened.checklist.questions["V2"].isVisibleTo(reopened)
        assert reopened.procedure.device.text() == "SkinPen Precision"
        assert reopened.procedure.needle_depth.value() == 1.25
    finally:
        other.close()


def test_leaving_the_page_saves_typing_at_once(qtbot: QtBot, clinic: Clinic) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id)
    page = consultation_page(qtbot, clinic, c.id)
    page.go_to_step(PROCEDURE)
    choose(page.procedure.clinician, "Dr Ada Lovelace")
    page.flush()  # what the window does when the page is left, locked or closed
    assert clinic.consultations.get(c.id).clinician == "Dr Ada Lovelace"


def record_service_calls(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call the page makes into a Clinic service (not the services' calls of each other)."""
    calls: list[str] = []
    depth = [0]

    def counted(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls.append(name)
            depth[0] += 1
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1

        return wrapper

    for service in ("patients", "consultations", "test_spots", "documents", "settings"):
        obj = getattr(clinic, service)
        for attr, method in inspect.getmembers(obj, inspect.ismethod):
            if not attr.startswith("_"):
                monkeypatch.setattr(obj, attr, counted(f"{service}.{attr}", method))
    return calls


def test_an_answer_costs_one_save_and_one_overview(
    qtbot: QtBot, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = clinic.patients.register(patient_fields())
    fresh = clinic.consultations.start(patient.id)
    complete = clinic.consultations.start(patient.id)
    clinic.consultations.save_draft(complete.id, answers=stable_vitiligo_answers())
    page = consultation_page(qtbot, clinic, fresh.id)
    page.go_to_step(CHECKLIST)
    calls = record_service_calls(clinic, monkeypatch)

    page.checklist.questions["V1"].buttons["no"].click()
    assert calls == ["consultations.save_draft", "consultations.overview"]
    assert clinic.consultations.get(fresh.id).answers == {"V1": "no"}
    left = len(page.checklist.missing())
    assert page.steps.item(CHECKLIST).text().endswith(f"▲ {left} to answer")

    page.load(complete.id)
    page.go_to_step(CHECKLIST)
    calls.clear()
    page.checklist.questions["G1"].buttons["yes"].click()  # a change once signers are known
    assert calls == ["consultations.save_draft", "consultations.overview"]
    # G1 = yes defers: the clinician alone signs the referral
    assert page.steps.item(SIGNATURES).text().endswith("0 of 1 signed")
    assert "AMBER" in page.steps.item(ASSESSMENT).text()
