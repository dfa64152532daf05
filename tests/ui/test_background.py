"""Nothing slow on the UI thread: signing, backup, restore, audit verification and export run on
a worker while the window keeps handling events; Print is offered only with something to print."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.ui.consultation.flow import SIGN
from desktop.ui.dialogs.audit import AuditDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.consultations import ready, sign_all
from tests.helpers.ui import close_message_boxes, finish, shown


class Gate:
    """Holds a use case on its worker until the window has shown its progress dialog: a use
    case run on the UI thread would wait in vain (the dialog needs the event loop)."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.threads: list[threading.Thread] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        if any(isinstance(w, QProgressDialog) and w.isVisible() for w in QApplication.allWidgets()):
            self.opened.set()
            self.timer.stop()

    def hold(self, work: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            self.threads.append(threading.current_thread())
            if not self.opened.wait(10):
                raise AssertionError("the window showed no progress while the work ran")
            return work(*args, **kwargs)

        return held

    def check(self) -> None:
        assert self.threads and all(t is not threading.main_thread() for t in self.threads)
        assert self.opened.is_set()


def test_signing_runs_on_a_worker_with_progress(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    window.show_consultation(cid)
    page = window.consultation_page()
    page.go_to_step(SIGN)
    gate = Gate()
    monkeypatch.setattr(clinic.documents, "sign", gate.hold(clinic.documents.sign))
    step = page.sign_step()
    step.sign_button.click()
    assert not page.steps.isEnabled()  # the consultation stays put while it is sealed
    finish(qtbot, step.running)
    gate.check()
    assert clinic.consultations.get(cid).state == "signed"
    assert page.steps.isEnabled() and step.documents.rowCount() == 2


def test_backup_restore_verify_and_export_run_on_a_worker_with_progress(
    qtbot: QtBot,
    disk_clinic: Clinic,
    log_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = disk_clinic
    window = MainWindow(log_path, clinic=clinic)
    qtbot.addWidget(window)
    window.show()
    for name in ("backup", "restore"):
        gate = Gate()
        monkeypatch.setattr(clinic.backups, name, gate.hold(getattr(clinic.backups, name)))
        if name == "backup":
            finish(qtbot, window.admin.backup_to(tmp_path / "copy.sqlite"))
        else:
            finish(qtbot, window.admin.restore_from(tmp_path / "copy.sqlite"))
        gate.check()
        close_message_boxes()
    clinic.session.login("owner", "correct horse battery")
    window._granted()
    dialog = AuditDialog(clinic, window)
    shown(qtbot, dialog)
    for name, start in (
        ("verify", dialog.verify),
        ("export_csv", lambda: dialog.export_to(tmp_path / "audit.csv")),
    ):
        gate = Gate()
        monkeypatch.setattr(clinic.audit, name, gate.hold(getattr(clinic.audit, name)))
        finish(qtbot, start())
        gate.check()
    assert "intact" in dialog.verdict.text()
    assert (tmp_path / "audit.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_print_is_offered_only_where_there_is_a_sealed_document(
    qtbot: QtBot, window: MainWindow, clinic: Clinic
) -> None:
    assert window.stack.currentWidget() is window.start
    assert not window.print_action.isEnabled() and not window.preview_action.isEnabled()
    assert "Nothing to print" in window.print_action.toolTip()
    draft = ready(clinic)
    window.show_consultation(draft)
    assert not window.print_action.isEnabled()  # a draft has nothing sealed yet
    signed = ready(clinic, given_name="Zoë", family_name="Ødegård")
    sign_all(clinic, signed)
    clinic.documents.sign(signed)
    window.show_consultation(signed)
    assert window.print_action.isEnabled() and window.preview_action.isEnabled()
    window.show_start()
    assert not window.print_action.isEnabled()
