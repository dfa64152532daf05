"""The start screen: due reviews, search as you type, shortcuts, the demo banner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic, PatientSearch
from desktop.models import Patient
from desktop.storage.search import Order
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.start import search_hint
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import SAM_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.ui import sign_in


def test_due_and_overdue_test_spot_reviews_are_listed(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    patient = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(patient.id, on=clock.now.date() - timedelta(weeks=5))
    clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
    clinic.test_spots.record(c.id, "left jawline", c.date)
    window.show_start()
    model = window.start.due_model
    assert model.rowCount() == 1
    row = [model.index(0, col).data() for col in range(model.columnCount())]
    assert row[0] == "Łukasz Żółć"
    assert "left jawline" in row[1]
    assert row[2] == "4-week"
    assert "OVERDUE" in row[3]
    assert "overdue" in window.start.due_hint.text()
    assert window.start.drafts_model.rowCount() == 1
    views = len(clinic.audit.entries(action="view patient"))
    window.show_start()  # listing names is not opening a record: the audit stays quiet
    drafts = window.start.drafts_model
    assert "Łukasz Żółć" in [drafts.index(0, col).data() for col in range(drafts.columnCount())]
    assert len(clinic.audit.entries(action="view patient")) == views


def test_search_finds_patients_as_you_type(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.patients.register(patient_fields())
    clinic.patients.register(patient_fields(given_name="Siobhán", family_name="O'Brien"))
    window.show_start()
    QTest.keyClicks(window.start.search, "o'bri")
    qtbot.waitUntil(lambda: window.start.patients.rowCount() == 1, timeout=2000)
    row = [window.start.patients.index(0, col).data() for col in range(3)]
    assert row == ["O'Brien, Siobhán", "1990-04-02", "+48 600 123 456"]
    with qtbot.waitSignal(window.start.open_patient):
        QTest.keyClick(window.start.search, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.patient_page()


def test_a_broad_search_says_to_type_more(qtbot: QtBot, window: MainWindow, clinic: Clinic) -> None:
    clinic._store.patients.ranked_at_most = 2
    for given in ("Anna", "Ben", "Cara"):
        clinic.patients.register(patient_fields(given_name=given, family_name="Smith"))
    window.show_start()
    QTest.keyClicks(window.start.search, "sm")
    qtbot.waitUntil(lambda: "Too many" in window.start.patients_hint.text(), timeout=2000)
    assert "most recently registered" in window.start.patients_hint.text()
    assert "Type more" in window.start.patients_hint.text()
    names = [window.start.patients.index(r, 0).data() for r in range(3)]
    assert names == ["Smith, Cara", "Smith, Ben", "Smith, Anna"]  # newest registered first
    QTest.keyClicks(window.start.search, "ith ca")
    qtbot.waitUntil(lambda: window.start.patients.rowCount() == 1, timeout=2000)
    assert window.start.patients_hint.text().startswith("1 found")


def test_ctrl_f_focuses_search_and_ctrl_n_opens_a_new_patient(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.new_patient()
    assert window.stack.currentWidget() is window.patient_page()
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.start
    assert window.start.search.hasFocus()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.patient_page()
    assert window.patient_page().form.edits["given_name"].hasFocus()
    assert window.patient_page().patient is None


def test_the_demo_banner_shows_on_a_demo_database(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    assert not window.start.demo_banner.isVisible()
    clinic._store.settings.set("demo", True)
    window.show_start()
    window.refresh_title()
    assert window.start.demo_banner.isVisible()
    assert "DEMO" in window.windowTitle()


def test_lists_name_patients_as_listed_single_and_cjk_names_included(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.patients.register(patient_fields())
    clinic.patients.register(patient_fields(given_name="", family_name="Suharto"))
    clinic.patients.register(patient_fields(given_name="Teuku", family_name=""))
    clinic.patients.register(patient_fields(given_name="美玲", family_name="陈"))
    window.show_start()
    names = {window.start.patients.cell(r, 0) for r in range(window.start.patients.rowCount())}
    assert names == {"Żółć, Łukasz", "Suharto", "Teuku", "陈美玲"}  # never ", Teuku"


@pytest.mark.parametrize(
    ("text", "found", "broad", "order", "expected"),
    [
        ("", 2, False, "recent", "Recently updated patients. Type to search."),
        ("", 0, False, "recent", "No patients yet."),
        ("smi", 2, False, "ranked", "2 found for “smi”, best matches first. Enter opens"),
        ("smi", 1, False, "ranked", "1 found for “smi”. Enter opens the first"),
        ("zzz", 0, False, "ranked", "No patient matches “zzz”. Check the spelling"),
        ("a", 2, True, "newest", "the 2 most recently registered of them are shown. Type more"),
        ("a", 2, True, "alphabetical", "the first 2 by name are shown. Type more of the name"),
        ("a b", 0, True, "newest", "type more of the name or the full date of birth."),
    ],
)
def test_the_search_hint_is_worded_by_how_the_list_was_made(
    text: str, found: int, broad: bool, order: Order, expected: str
) -> None:
    patients = [Patient(f"p{i}", "Anna", "Smith", date(1990, 1, 1)) for i in range(found)]
    hint = search_hint(text, PatientSearch(patients, broad, 500, order))
    assert expected in hint
    if broad and found:
        assert hint.startswith(f"Too many patients match “{text}” to list them all")


def test_a_broad_search_with_nothing_to_show_says_what_to_type(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.show_start()
    # Words too common to search completely, none among the newest patients (storage decides).
    monkeypatch.setattr(
        clinic.patients, "find", lambda text, limit=50: PatientSearch([], True, 500, "newest")
    )
    QTest.keyClicks(window.start.search, "an sm")
    qtbot.waitUntil(lambda: "too common" in window.start.patients_hint.text(), timeout=2000)
    assert window.start.patients_hint.text().endswith(
        "type more of the name or the full date of birth."
    )
    assert window.start.patients.rowCount() == 0


def test_the_next_user_does_not_see_the_last_search(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    clinic.accounts.create("sam", "Sam Reyes", ("front_desk",), SAM_PASSWORD)
    for given in ("Anna", "Ben"):
        clinic.patients.register(patient_fields(given_name=given, family_name="Smith"))
    clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    window.show_start()
    start = window.start
    QTest.keyClicks(start.search, "odeg")
    qtbot.waitUntil(lambda: start.patients.rowCount() == 1, timeout=2000)
    window.sign_out_action.trigger()  # File ▸ Sign out
    assert window.stack.currentWidget() is window.access
    assert start.search.text() == "" and start.patients.rowCount() == 0
    assert "odeg" not in start.patients_hint.text()
    sign_in(window, "sam", SAM_PASSWORD)
    assert window.stack.currentWidget() is start and start.search.text() == ""
    listed = [start.patients.cell(r, 0) for r in range(start.patients.rowCount())]
    assert len(listed) == 3  # the recently updated patients, not the last search

    QTest.keyClicks(start.search, "odeg")
    qtbot.waitUntil(lambda: start.patients.rowCount() == 1, timeout=2000)
    window.lock_screen()  # a lock hides it too
    assert start.search.text() == "" and start.patients.rowCount() == 0


def test_a_patient_whose_test_spot_lost_pigment_is_marked_in_the_lists(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, clock: FakeClock
) -> None:
    flagged = clinic.patients.register(patient_fields())
    other = clinic.patients.register(patient_fields(given_name="Zoë", family_name="Ødegård"))
    c = clinic.consultations.start(flagged.id, on=clock.now.date() - timedelta(weeks=5))
    clinic.consultations.start(other.id)  # a draft of today, not flagged
    spot = clinic.test_spots.record(c.id, "left jawline", c.date)
    clinic.test_spots.review(spot.id, 4, "depigmentation", "Dr Ada Lovelace")
    clinic.test_spots.record(c.id, "right jawline", c.date)  # its reviews are due
    window.show_start()
    start = window.start
    drafts = {start.drafts_model.cell(r, 1) for r in range(start.drafts_model.rowCount())}
    assert drafts == {"✖ Łukasz Żółć", "Zoë Ødegård"}
    due = {start.due_model.cell(r, 0) for r in range(start.due_model.rowCount())}
    assert due == {"✖ Łukasz Żółć"}
    QTest.keyClicks(start.search, "zolc")
    qtbot.waitUntil(lambda: start.patients.rowCount() == 1, timeout=2000)
    cell = start.patients.index(0, 0)
    assert cell.data() == "✖ Żółć, Łukasz"
    assert "depigmentation" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert cell.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fdecea"  # red
    start.search.clear()
    QTest.keyClicks(start.search, "odeg")
    qtbot.waitUntil(lambda: start.patients_hint.text().startswith("1 found for “odeg”"))
    assert start.patients.cell(0, 0) == "Ødegård, Zoë"
    assert start.patients.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
