"""The clinic's server out of reach for a while: no box outlives it, the notice goes by itself,
and a draft typed meanwhile is saved once the server answers, never over a colleague's change."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.errors import StorageError
from desktop.storage.postgres.server import unreachable
from desktop.ui.common.messages import install_excepthook
from desktop.ui.common.outage import RETRY_DELAYS_S, Backoff
from desktop.ui.consultation.flow import PROCEDURE
from desktop.ui.main_window import MainWindow
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields
from tests.helpers.printing import FakePrinters
from tests.helpers.ui import message_boxes

SERVER = "clinic@clinic-server:5432/clinic"
QUICK = (0.05, 0.1, 0.2)  # the retry delays, shortened for the tests


class Outage:
    """Makes a clinic's store fail as the clinic's server does once it cannot be reached
    (the error the PostgreSQL backend raises), while `down`; counts the attempts."""

    def __init__(self, clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.attempts = 0
        store = clinic._store
        for name in ("transaction", "execute", "rows", "iter_rows", "search_patients"):
            monkeypatch.setattr(store, name, self._guard(getattr(store, name)))

    def _guard(self, use: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.attempts += 1
                raise StorageError(unreachable(SERVER))
            return use(*args, **kwargs)

        return guarded


@pytest.fixture
def outage(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> Outage:
    return Outage(clinic, monkeypatch)


def _draft(window: MainWindow, clinic: Clinic, given: str = "Nadia") -> str:
    patient = clinic.patients.register(patient_fields(given_name=given, phone=""))
    c = clinic.consultations.start(patient.id, clinician="Dr Ada Lovelace")
    window.show_consultation(c.id)
    page = window.consultation_page()
    page.go_to_step(PROCEDURE)
    page._retry.delays = QUICK
    return c.id


def test_an_idle_window_shows_a_notice_not_a_box_and_it_goes_once_the_server_answers(
    qtbot: QtBot, window: MainWindow, outage: Outage
) -> None:
    window._idle_timer.setInterval(30)  # the idle check, the one thing an idle window does
    assert not window.outage.isVisible()
    outage.down = True
    qtbot.waitUntil(lambda: outage.attempts >= 3)  # several checks failed meanwhile
    assert message_boxes() == []
    assert window.outage.isVisible()
    assert "cannot be reached" in window.outage.text.text()
    assert "goes by itself" in window.outage.hint.text()
    outage.down = False
    qtbot.waitUntil(lambda: not window.outage.isVisible())  # the next check worked
    assert message_boxes() == []


def test_a_storage_error_from_a_slot_goes_to_the_notice(
    qtbot: QtBot, window: MainWindow, log_path: Path
) -> None:
    """What a timer or a click raises outside `run` reaches the exception hook."""
    previous = install_excepthook(log_path)
    try:
        exc = StorageError(unreachable(SERVER))
        sys.excepthook(StorageError, exc, None)
        assert window.outage.isVisible() and message_boxes() == []
        window.try_database()  # "Try again now": a read that works
        assert not window.outage.isVisible()
    finally:
        sys.excepthook = previous


def test_a_draft_typed_during_the_outage_is_saved_once_the_server_answers(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, outage: Outage
) -> None:
    cid = _draft(window, clinic)
    page = window.consultation_page()
    outage.down = True
    QTest.keyClicks(page.procedure.device, "Dermapen 4")
    page.flush()  # the pause after typing
    assert page.save_state.text().startswith("✖ Not saved · trying again in")
    assert "cannot be reached" in page.procedure.message.text()
    assert message_boxes() == []
    qtbot.waitUntil(lambda: outage.attempts >= 4, timeout=5000)  # tried again by itself
    assert page.save_pending() and page.procedure.device.text() == "Dermapen 4"

    outage.down = False  # nothing typed since: the retry saves it
    qtbot.waitUntil(lambda: page.save_state.text().startswith("✔ Saved"), timeout=5000)
    assert clinic.consultations.get(cid).procedure.device == "Dermapen 4"
    assert not page.procedure.message.isVisible()
    assert not page.save_pending()
    assert message_boxes() == []


def test_try_again_now_saves_at_once(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, outage: Outage
) -> None:
    cid = _draft(window, clinic)
    page = window.consultation_page()
    page._retry.delays = (60,)
    outage.down = True
    QTest.keyClicks(page.procedure.device, "Dermapen 4")
    page.flush()
    window.try_database()  # still down: still waiting, the notice says so
    assert page.save_pending()
    outage.down = False
    QTest.mouseClick(window.outage.try_button, Qt.MouseButton.LeftButton)
    assert clinic.consultations.get(cid).procedure.device == "Dermapen 4"
    assert not page.save_pending() and not window.outage.isVisible()


def test_another_consultation_waits_until_the_draft_is_saved(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, outage: Outage
) -> None:
    cid = _draft(window, clinic)
    page = window.consultation_page()
    other = clinic.consultations.start(clinic.patients.register(patient_fields(phone="")).id)
    outage.down = True
    QTest.keyClicks(page.procedure.device, "Dermapen 4")
    page.flush()
    with pytest.raises(Exception, match="not saved yet"):
        page.load(other.id)  # from the window, the exception hook shows it
    assert page.consultation is not None and page.consultation.id == cid
    assert page.procedure.device.text() == "Dermapen 4"  # never replaced by what is stored
    outage.down = False
    page.load(other.id)  # saved first, then opened
    assert clinic.consultations.get(cid).procedure.device == "Dermapen 4"
    assert page.consultation is not None and page.consultation.id == other.id


def test_an_idle_window_locks_during_the_outage_and_unlocks_once_it_is_over(
    qtbot: QtBot, window: MainWindow, clinic: Clinic, outage: Outage
) -> None:
    _draft(window, clinic)
    outage.down = True
    window._idle_minutes = 0  # the setting as last read: locks at the next check
    window._last_activity = time.monotonic() - 1
    window._check_idle()
    assert window.stack.currentWidget() is window.access  # no patient data left on screen
    assert window.access.mode == "unlock"
    assert window.outage.isVisible() and message_boxes() == []
    outage.down = False
    QTest.keyClicks(window.access.password, OWNER_PASSWORD)
    assert window.access.submit(), window.access.message.text()
    assert window.stack.currentWidget() is window.consultation_page()


@pytest.fixture
def colleague(disk_clinic: Clinic, clock: FakeClock, tmp_path: Path) -> Iterator[Clinic]:
    other = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER)
    other.session.login("owner", OWNER_PASSWORD)
    yield other
    other.close()


def test_a_retried_save_keeps_its_revision_check(
    qtbot: QtBot,
    disk_clinic: Clinic,
    colleague: Clinic,
    log_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This computer cannot reach the server while a colleague's can: the colleague's
    change made meanwhile is not overwritten when this computer's save is retried."""
    outage = Outage(disk_clinic, monkeypatch)
    window = MainWindow(log_path, clinic=disk_clinic, printers=FakePrinters())
    qtbot.addWidget(window)
    window.show()
    cid = _draft(window, disk_clinic)
    page = window.consultation_page()
    outage.down = True
    QTest.keyClicks(page.procedure.device, "Dermapen 4")
    page.flush()
    c = colleague.consultations.get(cid)
    colleague.consultations.save_draft(cid, answers={"G1": "yes"}, revision=c.revision)
    outage.down = False
    qtbot.waitUntil(lambda: any(b.objectName() == "staleRecord" for b in message_boxes()))
    stored = disk_clinic.consultations.get(cid)
    assert stored.answers == {"G1": "yes"} and stored.procedure.device in (None, "")
    assert not page.save_pending()  # not retried over it: the user decides
    for box in message_boxes():
        box.close()


def test_the_retry_waits_longer_each_time_up_to_a_minute(qtbot: QtBot) -> None:
    backoff = Backoff()
    assert [backoff.schedule() for _ in range(8)] == [2, 4, 8, 15, 30, 60, 60, 60]
    assert RETRY_DELAYS_S[-1] == 60
    assert backoff.pending
    backoff.reset()
    assert not backoff.pending and backoff.schedule() == 2
    backoff.reset()
