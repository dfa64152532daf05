"""Choosing where this computer keeps the records: the clinic's server (tested first) or here."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from desktop import paths
from desktop.clinic import Clinic, ServerCheck, saved_database
from desktop.errors import StorageError
from desktop.ui.dialogs import database as database_dialog
from desktop.ui.dialogs.database import DatabaseDialog
from desktop.ui.dialogs.settings import SettingsDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.access import AccessPage


def fill_from(dialog: DatabaseDialog, url: str) -> None:
    parts = urlsplit(url)
    dialog.server.setChecked(True)
    dialog.host.setText(parts.hostname or "")
    dialog.port.setValue(parts.port or 5432)
    dialog.dbname.setText(parts.path.lstrip("/"))
    dialog.user.setText(parts.username or "")
    dialog.sslmode.setCurrentIndex(dialog.sslmode.findData("prefer"))


def test_the_server_is_tested_then_kept_for_this_computer_without_a_password(
    qtbot: QtBot, pg_url: str
) -> None:
    dialog = DatabaseDialog()
    qtbot.addWidget(dialog)
    assert dialog.local.isChecked() and not dialog.server_box.isEnabled()
    fill_from(dialog, pg_url)
    assert dialog.server_box.isEnabled()
    assert dialog.test_connection()
    assert "a new clinic database, ready to be set up" in dialog.outcome.text()
    dialog.accept_choice()
    assert dialog.target == dialog.url()
    assert saved_database() == dialog.url()
    kept = (paths.config_dir() / "workstation.json").read_text()
    assert json.loads(kept)["database"].startswith("postgresql://clinic_app@")
    # Reopened from Settings, the dialog shows the saved server.
    again = DatabaseDialog(dialog.url())
    qtbot.addWidget(again)
    assert again.server.isChecked() and again.host.text() == dialog.host.text()


def test_a_server_that_cannot_be_used_is_not_kept(qtbot: QtBot, pg_url: str) -> None:
    dialog = DatabaseDialog()
    qtbot.addWidget(dialog)
    fill_from(dialog, pg_url)
    dialog.dbname.setText("no_such_database")
    dialog.accept_choice()
    assert dialog.result() != DatabaseDialog.DialogCode.Accepted
    assert "does not exist" in dialog.outcome.text()
    assert saved_database() is None
    dialog.local.setChecked(True)
    dialog.accept_choice()
    assert dialog.target is None and saved_database() is None


def test_first_run_offers_the_clinics_server(qtbot: QtBot, tmp_path: Path, pg_url: str) -> None:
    clinic = Clinic.open(tmp_path / "new.sqlite", workstation_dir=tmp_path / "ws")
    page = AccessPage()
    qtbot.addWidget(page)
    page.start(clinic, "setup")
    page.show()
    assert page.use_server.isVisible()
    page.start(clinic, "login")
    assert not page.use_server.isVisible()
    clinic.close()


IN_USE = (
    "postgresql://clinic@db.clinic.example:55432/clinic"
    "?sslmode=verify-full&sslrootcert=%2Fetc%2Fclinic%2Fserver.crt"
)
WRONG_USER = (
    "The clinic's server nobody@localhost:55432/clinic does not accept 'nobody' from this "
    "computer (its pg_hba.conf has no entry for it, or asks for TLS). Ask whoever set up the "
    "server to allow this computer; see the README, 'Several computers'."
)


def test_the_dialog_opens_on_the_server_in_use_though_nothing_was_saved(
    qtbot: QtBot, clinic: Clinic, log_path: Path
) -> None:
    """Started with --db on the server: Settings ▸ Database shows that server, not "this
    computer only" (OK there would have moved this computer off the server)."""
    assert saved_database() is None
    window = MainWindow(log_path, clinic=clinic, database=IN_USE)
    qtbot.addWidget(window)
    settings = SettingsDialog(clinic, window, database=window.database)
    qtbot.addWidget(settings)
    dialog = settings.database_dialog()
    qtbot.addWidget(dialog)
    assert dialog.server.isChecked() and not dialog.local.isChecked()
    assert dialog.server_box.isEnabled()
    assert (dialog.host.text(), dialog.port.value()) == ("db.clinic.example", 55432)
    assert (dialog.dbname.text(), dialog.user.text()) == ("clinic", "clinic")
    assert dialog.sslmode.currentData() == "verify-full"
    assert dialog.rootcert.text() == "/etc/clinic/server.crt"
    assert dialog.url() == IN_USE
    assert "This window uses the server" in dialog.in_use.text()
    assert "for this start only" in dialog.in_use.text()

    here = SettingsDialog(clinic, window, database=Path("/clinic/clinic.sqlite"))
    qtbot.addWidget(here)
    local = here.database_dialog()
    qtbot.addWidget(local)
    assert local.local.isChecked() and not local.server_box.isEnabled()
    assert "This window uses the file" in local.in_use.text()


def _cut_off(dialog: QWidget) -> list[str]:
    """Texts of `dialog` shown but not whole: a label lower than its wrapped text needs, or
    one reaching past the dialog's bottom edge."""
    cut = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisibleTo(dialog) or not label.text():
            continue
        need = label.heightForWidth(label.width()) if label.wordWrap() else 0
        bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
        if label.height() < need or bottom > dialog.height():
            cut.append(label.text()[:60])
    return cut


def test_long_messages_wrap_and_the_dialog_grows_to_show_them_whole(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        database_dialog, "check_server", lambda _url: ServerCheck(False, WRONG_USER)
    )
    dialog = DatabaseDialog(IN_USE)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: not _cut_off(dialog))  # the password hint included
    before = dialog.height()
    dialog.user.setText("nobody")
    assert not dialog.test_connection()
    assert dialog.outcome.text() == WRONG_USER
    assert dialog.outcome.wordWrap()
    qtbot.waitUntil(lambda: not _cut_off(dialog), timeout=2000)
    assert dialog.height() > before  # it grew instead of squeezing the form
    width = dialog.width()
    dialog.resize(width, before)  # squeezed back by hand: shown whole again on the next text
    dialog._refused(StorageError(WRONG_USER + " " + WRONG_USER))
    qtbot.waitUntil(lambda: not _cut_off(dialog), timeout=2000)
