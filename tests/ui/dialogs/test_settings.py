"""Settings: the clinic profile, strict mode, the seal, the idle-lock minutes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.dialogs.settings import SettingsDialog
from tests.ui.conftest import message_boxes


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
