"""Changing one's own password: a wrong current password or a short one changes nothing."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import PermissionDenied
from desktop.ui.dialogs.password import ChangePasswordDialog
from tests.helpers.clinics import OWNER_PASSWORD


def test_changing_ones_own_password(qtbot: QtBot, clinic: Clinic) -> None:
    dialog = ChangePasswordDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.current.setText("not my password")
    dialog.password.setText("a new long password")
    dialog.password2.setText("a new long password")
    assert not dialog.submit()
    assert "password" in dialog.messages.text().lower() and dialog.isVisible()
    assert dialog.current.text() == ""  # nothing typed lingers after a refusal

    dialog.current.setText(OWNER_PASSWORD)
    dialog.password.setText("short")
    dialog.password2.setText("short")
    assert not dialog.submit()
    assert "at least 10" in dialog.messages.text()

    dialog.current.setText(OWNER_PASSWORD)
    dialog.password.setText("a new long password")
    dialog.password2.setText("a new long password")
    assert dialog.submit()
    clinic.session.logout()
    with pytest.raises(PermissionDenied):
        clinic.session.login("owner", OWNER_PASSWORD)
    clinic.session.login("owner", "a new long password")
