"""The audit viewer: filters, the hash-chain verdict, CSV export, a long trail."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.audit import ChainReport
from desktop.clinic import Clinic
from desktop.ui.dialogs.audit import AuditDialog
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.ui import choose, close_message_boxes, finish, message_boxes, shown, type_text


def settled(qtbot: QtBot, dialog: AuditDialog) -> AuditDialog:
    """Wait until the rows asked for last (read on a worker thread) are shown."""
    qtbot.waitUntil(lambda: dialog.loading is None, timeout=10_000)
    return dialog


def column(dialog: AuditDialog, col: int) -> list[str]:
    model = dialog.model
    return [model.cell(row, col) for row in range(model.rowCount())]


def test_the_audit_viewer_filters_by_action_user_patient_and_date(
    qtbot: QtBot, busy_clinic: Clinic, clock: FakeClock
) -> None:
    clinic = busy_clinic
    patient_id = clinic.settings.get("test_patient")
    dialog = AuditDialog(clinic)
    shown(qtbot, dialog)
    settled(qtbot, dialog)
    everything = dialog.model.rowCount()
    assert everything == len(clinic.audit.entries())
    assert dialog.model.cell(everything - 1, 3) == "view audit"  # reading the trail is audited
    assert "sam" in [dialog.user.itemData(i) for i in range(dialog.user.count())]

    choose(dialog.action, "login")
    settled(qtbot, dialog)
    logins = column(dialog, 3)
    assert logins and set(logins) == {"login"}
    assert column(dialog, 2) == ["owner", "sam", "owner"]

    choose(dialog.user, "sam")
    settled(qtbot, dialog)
    assert column(dialog, 2) == ["sam"] and column(dialog, 3) == ["login"]

    choose(dialog.action, "view patient")
    settled(qtbot, dialog)
    assert column(dialog, 3) == ["view patient", "view patient"]

    assert set(column(dialog, 5)) == {"Żółć, Łukasz (1990-04-02)", "Ødegård, Zoë (1990-04-02)"}
    type_text(dialog.patient, "zol")  # a search, not a list of every patient the trail names
    popup = dialog.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    matches = dialog.patient_matches
    assert [matches.item(r).text() for r in range(matches.rowCount())] == [
        "Żółć, Łukasz (1990-04-02)"
    ]
    QTest.keyClick(popup, Qt.Key.Key_Down)
    QTest.keyClick(popup, Qt.Key.Key_Return)  # chosen from the matches, filtered by ID
    settled(qtbot, dialog)
    assert dialog.patient.text() == "Żółć, Łukasz (1990-04-02)" and not popup.isVisible()
    assert dialog.model.rowCount() == 1
    assert column(dialog, 5) == ["Żółć, Łukasz (1990-04-02)"]
    assert dialog.filters()["patient"] == patient_id

    QTest.keyClick(dialog.patient, Qt.Key.Key_Backspace)  # typing again: no patient chosen
    settled(qtbot, dialog)
    assert dialog.filters()["patient"] == "" and dialog.model.rowCount() == 2
    dialog.patient.clear()
    type_text(dialog.patient, "nobody")
    qtbot.waitUntil(dialog.patient_hint.isVisible, timeout=3000)
    assert "No patient matches" in dialog.patient_hint.text()
    dialog.patient.clear()
    type_text(dialog.patient, patient_id)  # a patient ID typed whole, then Enter at once
    QTest.keyClick(dialog.patient, Qt.Key.Key_Return)
    settled(qtbot, dialog)
    assert dialog.filters()["patient"] == patient_id
    assert dialog.patient.text() == "Żółć, Łukasz (1990-04-02)"

    dialog.clear_button.click()
    settled(qtbot, dialog)
    assert dialog.model.rowCount() == everything
    assert dialog.filters() == {
        "user": "",
        "action": "",
        "patient": "",
        "since": None,
        "until": None,
    }

    today = clock.now.date()  # the first day's rows drop out of a range starting today
    dialog.use_since.click()
    settled(qtbot, dialog)
    assert dialog.since.isEnabled()
    dialog.since.setDate(QDate(today.year, today.month, today.day))
    settled(qtbot, dialog)
    assert set(column(dialog, 1)) == {f"{today.isoformat()} 10:30:00"}
    dialog.use_until.click()
    settled(qtbot, dialog)
    yesterday = today - timedelta(days=1)
    dialog.until.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    settled(qtbot, dialog)
    assert dialog.model.rowCount() == 0
    assert dialog.count.text().startswith("0 entries")


def test_the_audit_viewer_exports_the_filtered_rows_as_csv(
    qtbot: QtBot, busy_clinic: Clinic, tmp_path: Path
) -> None:
    clinic = busy_clinic
    dialog = AuditDialog(clinic)
    shown(qtbot, dialog)
    settled(qtbot, dialog)
    dialog.set_filters(action="view patient")
    settled(qtbot, dialog)
    expected = [int(seq) for seq in column(dialog, 0)]
    assert len(expected) == 3

    out = tmp_path / "audit.csv"
    finish(qtbot, dialog.export_to(out))  # on a worker thread
    assert out.read_bytes().startswith(b"\xef\xbb\xbfseq,")  # a BOM: Excel reads UTF-8
    with out.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["seq"]) for r in rows] == expected
    assert {r["action"] for r in rows} == {"view patient"}
    assert {r["user"] for r in rows} == {"owner", "sam"}
    assert all(len(r["hash"]) == 64 for r in rows)
    assert clinic.audit.entries(action="export")  # the export itself is audited

    finish(qtbot, dialog.export_to(tmp_path / "missing" / "audit.csv"))
    assert "Could not write" in dialog.message.text()


def test_verify_chain_shows_the_verdict(
    qtbot: QtBot, busy_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = AuditDialog(busy_clinic)
    shown(qtbot, dialog)
    settled(qtbot, dialog)
    before = dialog.model.rowCount()
    dialog.verify_button.click()  # on a worker thread
    qtbot.waitUntil(dialog.verdict.isVisible, timeout=10_000)
    settled(qtbot, dialog)
    assert "intact" in dialog.verdict.text()
    assert dialog.model.rowCount() == before + 1  # the check is recorded, and shown

    broken = ChainReport(False, 6, 7, "row 7: its content was altered")
    monkeypatch.setattr(busy_clinic.audit, "verify", lambda: broken)
    finish(qtbot, dialog.verify())
    assert "BROKEN" in dialog.verdict.text() and "row 7" in dialog.verdict.text()


def test_a_long_trail_shows_its_newest_rows_and_offers_every_filter_value(
    qtbot: QtBot, busy_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.ui.dialogs.audit as audit_dialog

    monkeypatch.setattr(audit_dialog, "ROW_LIMIT", 3)
    dialog = AuditDialog(busy_clinic)
    shown(qtbot, dialog)
    settled(qtbot, dialog)
    newest = [e.seq for e in busy_clinic.audit.entries()][-3:]
    assert [int(s) for s in column(dialog, 0)] == newest
    assert "the newest 3" in dialog.count.text()
    offered = [dialog.action.itemData(i) for i in range(dialog.action.count())]
    assert "setup" in offered  # the oldest entry's action, long out of view


def test_an_alarm_is_shown_to_administrators_until_one_acknowledges_it(
    qtbot: QtBot, tmp_path: Path, clock: FakeClock, log_path: Path
) -> None:
    import sqlite3

    from desktop.ui.dialogs.audit import AuditDialog
    from desktop.ui.main_window import MainWindow

    path = tmp_path / "alarm.sqlite"
    clinic = signed_in(Clinic.open(path, clock=clock, hasher=FAST_HASHER))
    clinic.patients.register(patient_fields())
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq > 2")
    raw.commit()
    raw.close()
    assert not clinic.audit.verify().intact
    clinic.session.logout()
    window = MainWindow(log_path, clinic=clinic)
    qtbot.addWidget(window)
    window.show()
    clinic.session.login("owner", OWNER_PASSWORD)
    window._granted()
    alarms = [b for b in message_boxes() if b.objectName() == "auditAlarm"]
    assert alarms and "removed from the end" in alarms[0].text()
    close_message_boxes()
    dialog = AuditDialog(clinic, window)
    qtbot.addWidget(dialog)
    assert dialog.acknowledge_button.isVisibleTo(dialog)
    assert "Audit alarm" in dialog.verdict.text()
    assert not dialog.acknowledge("ok")  # too short: says what to write
    assert "what was found" in dialog.message.text()
    assert dialog.acknowledge("Checked with the owner: a test copy was trimmed by mistake.")
    assert not dialog.acknowledge_button.isVisibleTo(dialog)
    assert clinic.audit.alarm() is None
