"""Choosing where this computer keeps the records: the clinic's server (tested first) or here."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from pytestqt.qtbot import QtBot

from desktop import paths
from desktop.clinic import Clinic, saved_database
from desktop.ui.dialogs.database import DatabaseDialog
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
