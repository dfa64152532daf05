"""Settings: the clinic profile, strict mode, the seal, the idle-lock minutes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.clinic.patient_fields import InputRules
from desktop.ui.dialogs.settings import SettingsDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.patients import patient_fields
from tests.helpers.ui import choose, finish, message_boxes


def test_settings_edit_the_profile_strict_mode_and_export_the_seal(
    qtbot: QtBot, clinic: Clinic, tmp_path: Path
) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.setText("Skin Studio Łódź")
    dialog.paper.setCurrentIndex(dialog.paper.findData("Letter"))
    logo = tmp_path / "logo.png"
    image = QImage(120, 40, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    image.save(str(logo))
    dialog.set_logo_file(logo)
    dialog.set_logo_file(Path(__file__))  # not a PNG: refused inline
    assert "not a PNG" in dialog.message.text()
    dialog.strict.setChecked(True)
    dialog.save()
    profile = clinic.settings.profile()
    assert profile.name == "Skin Studio Łódź" and profile.paper == "Letter"
    assert profile.logo_png == logo.read_bytes()
    assert clinic.settings.get("strict_mode") is True

    pem = tmp_path / "seal.pem"
    assert dialog.export_certificate_to(pem)
    assert pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    saved = dialog.seal_message
    assert saved.text() == f"✔ Certificate saved to {pem}." and saved.done
    assert "#1b5e20" in saved.styleSheet() and "#b00020" not in saved.styleSheet()  # green
    assert not dialog.export_certificate_to(tmp_path / "missing" / "seal.pem")
    assert "cannot be written" in saved.text() and not saved.done
    assert "#b00020" in saved.styleSheet()  # a failure: red again
    info = clinic.seal.info()
    assert info is not None
    assert info.fingerprint_sha256[:2].upper() in dialog.seal_details.text()


def test_an_empty_clinic_name_is_refused_inline(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.clear()
    dialog.save()
    assert "name" in dialog.message.text()
    assert not message_boxes()


def test_the_idle_lock_minutes_are_a_setting(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    assert dialog.idle.value() == 5  # the default
    assert (dialog.idle.minimum(), dialog.idle.maximum()) == (1, 60)
    settings_rows = len(clinic.audit.entries(action="settings"))
    dialog.idle.setValue(1)
    assert dialog.idle.text() == "1 minute"  # not "1 minutes"
    dialog.idle.setValue(12)
    assert dialog.idle.text() == "12 minutes"
    dialog.save()
    assert clinic.settings.idle_minutes() == 12
    changed = clinic.audit.entries(action="settings")[settings_rows:]
    assert [e.target for e in changed] == ["setting:clinic_profile", "setting:idle_lock_minutes"]


def test_the_phone_region_and_date_order_are_chosen_and_numbers_reread_on_a_worker(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    kept = clinic.patients.register(patient_fields(phone="020 7946 0011"))
    assert kept.phone_e164 == ""  # no region yet: kept as typed, found only as typed
    window.open_settings()
    dialog = window.findChild(SettingsDialog)
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitExposed(dialog)
    assert dialog.phone_region.currentData() == "" and dialog.date_order.currentData() is None
    regions = [dialog.phone_region.itemText(i) for i in range(dialog.phone_region.count())]
    assert "United Kingdom (GB)" in regions and "Poland (PL)" in regions
    assert regions[1:] == sorted(regions[1:])  # by country name, as people look for them
    dialog.date_order.setFocus()
    QTest.keyClick(dialog.date_order, Qt.Key.Key_Down)  # keys, as a receptionist would
    QTest.keyClick(dialog.date_order, Qt.Key.Key_Down)
    assert dialog.date_order.currentData() == "month-first"
    dialog.phone_region.setFocus()
    QTest.keyClicks(dialog.phone_region, "Pola")  # the combo finds a country by its name
    assert dialog.phone_region.currentData() == "PL"
    choose(dialog.phone_region, "GB")

    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    QTest.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.saving is not None  # the numbers are reread on a worker thread
    finish(qtbot, dialog.saving)
    assert not dialog.isVisible()
    assert clinic.settings.input_rules() == InputRules("GB", "month-first")
    assert clinic.patients.get(kept.id).phone_e164 == "+442079460011"
    assert window.statusBar().currentMessage() == (
        "Phone region set to United Kingdom (GB). 1 stored number without a country code can "
        "now be found however they are typed."
    )

    again = SettingsDialog(clinic)  # the current values are shown
    qtbot.addWidget(again)
    assert again.phone_region.currentData() == "GB"
    assert again.date_order.currentData() == "month-first"
    choose(again.phone_region, "")
    job = again.save()
    finish(qtbot, job)
    assert clinic.settings.input_rules().phone_region == ""
    assert "cleared" in again.outcome


def test_an_unchanged_phone_region_is_not_reread(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = SettingsDialog(clinic)
    qtbot.addWidget(dialog)
    assert dialog.save() is None  # nothing slow to do: saved at once
    assert not clinic.audit.entries(action="settings", limit=-1) or all(
        "phone_region" not in e.target for e in clinic.audit.entries(action="settings")
    )
