"""Two computers on one patient: a save over a colleague's change is refused, the colleague's
version is shown, and only what this user changed stays on screen to save again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.printing import FakePrinters
from tests.helpers.ui import type_text

LATEX = "allergic to latex"
LATEX_AFTERNOONS = "allergic to latex; prefers afternoons"


@pytest.fixture
def colleague(disk_clinic: Clinic, clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    """The same clinic file opened by a second computer, the owner signed in there too."""
    other = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER)
    other.session.login("owner", OWNER_PASSWORD)
    yield other
    other.close()


@pytest.fixture
def here(qtbot: QtBot, disk_clinic: Clinic, log_path: Path) -> Iterator[MainWindow]:
    w = MainWindow(log_path, clinic=disk_clinic, printers=FakePrinters())
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.patient_page().form.discard_changes()
    w.close()


def _retype(edit: QLineEdit | QPlainTextEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    type_text(edit, text)


def test_only_the_fields_changed_here_stay_and_the_message_names_them(
    qtbot: QtBot, here: MainWindow, disk_clinic: Clinic, colleague: Clinic
) -> None:
    p = disk_clinic.patients.register(patient_fields(notes=LATEX))
    here.show_patient(p.id)
    form = here.patient_page().form
    colleague.patients.update(p.id, {"notes": LATEX_AFTERNOONS}, revision=p.revision)
    _retype(form.edits["email"], "nadia@example.com")  # typed here, after the colleague saved
    form.save_button.click()

    stored = disk_clinic.patients.get(p.id)
    assert stored.notes == LATEX_AFTERNOONS and stored.email == "lukasz@example.com"
    # The colleague's version is shown, with this user's own change kept in its field.
    assert form.notes.toPlainText() == LATEX_AFTERNOONS
    assert form.edits["email"].text() == "nadia@example.com"
    assert form.has_unsaved_changes() and form.changed_fields() == ["Email"]
    text = form.form_message.text()
    assert "Dr Ada Lovelace" in text and "nadia@example.com" in text and "Email" in text
    assert "Notes" not in text and LATEX not in text  # not changed here: not offered again
    assert form.form_message.isVisible()

    form.save_button.click()  # saved again, on the current version: both changes stand
    stored = disk_clinic.patients.get(p.id)
    assert (stored.notes, stored.email) == (LATEX_AFTERNOONS, "nadia@example.com")
    assert not form.has_unsaved_changes()


def test_a_field_both_changed_shows_theirs_and_lists_what_was_typed_here(
    qtbot: QtBot, here: MainWindow, disk_clinic: Clinic, colleague: Clinic
) -> None:
    p = disk_clinic.patients.register(patient_fields(notes=LATEX))
    here.show_patient(p.id)
    form = here.patient_page().form
    colleague.patients.update(
        p.id,
        {"notes": LATEX_AFTERNOONS, "phone": "+48 600 000 999", "email": "l.z@example.com"},
        revision=p.revision,
    )
    _retype(form.notes, "allergic to latex and nickel")
    _retype(form.edits["phone"], "+48 600 000 999")  # the same change as the colleague's
    form.save_button.click()

    assert disk_clinic.patients.get(p.id).notes == LATEX_AFTERNOONS  # nothing overwritten
    assert form.notes.toPlainText() == LATEX_AFTERNOONS  # theirs in the field
    text = form.form_message.text()
    assert "Notes" in text and "allergic to latex and nickel" in text  # mine, to enter again
    assert "Phone" not in text  # both made the same change: nothing to redo
    assert "Email" not in text and "lukasz@" not in text  # changed there only: theirs stands
    assert form.edits["email"].text() == "l.z@example.com"
    assert not form.has_unsaved_changes()  # nothing of theirs is about to be overwritten
