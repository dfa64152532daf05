"""The window's longest event-loop gap while signing, backing up, restoring and verifying.

A QTimer ticks every 10 ms while the action runs; the longest interval between two ticks is
how long the window could neither paint nor take a key or a click. Each action is measured
as the window used to run it (`run` on the UI thread, a wait cursor) and as it runs now
(`run_in_background`: a worker thread, a progress dialog after 400 ms), on one clinic with
about 10,000 audit entries, in the same run. Target: at most 100 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from pytestqt.qtbot import QtBot

from desktop.clinic import Clinic
from desktop.demo import PAD_H, PAD_W, signature_strokes
from desktop.ui.common.use_case import BackgroundRun, run
from desktop.ui.consultation.flow import SIGN
from desktop.ui.dialogs.audit import AuditDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.patients import patient_fields
from tests.helpers.ui import close_message_boxes

AUDIT_ROWS = 10_000
PATIENTS = 500
ROUNDS = 3
TICK_MS = 10


class GapMeter:
    """The longest interval between ticks of a 10 ms timer while `measure` runs an action."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.gap = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gap = max(self.gap, now - self.last)
        self.last = now

    def measure(self, start: Callable[[Callable[[], None]], object]) -> tuple[float, float]:
        """Run `start(done)` from the event loop; it calls `done()` when the action is over.
        Returns (longest gap, duration) in milliseconds."""
        loop = QEventLoop()
        finished: list[float] = []

        def done() -> None:
            finished.append(time.perf_counter())
            QTimer.singleShot(3 * TICK_MS, loop.quit)  # a few ticks after, to see the end

        began = [0.0]

        def go() -> None:
            began[0] = time.perf_counter()
            start(done)

        self.gap = 0.0
        self.last = time.perf_counter()
        self.timer.start()
        QTimer.singleShot(2 * TICK_MS, go)
        loop.exec()
        self.timer.stop()
        return self.gap * 1000, (finished[0] - began[0]) * 1000


def on_ui_thread(work: Callable[[], Any], parent: Any) -> Callable[[Callable[[], None]], None]:
    """The action as the window ran it before: `run(..., busy=True)` on the UI thread."""

    def start(done: Callable[[], None]) -> None:
        run(parent, work, busy=True)
        done()

    return start


def in_background(
    begin: Callable[[], BackgroundRun[Any] | None],
) -> Callable[[Callable[[], None]], None]:
    """The action as the window runs it now; `done` when its outcome has been reported."""

    def start(done: Callable[[], None]) -> None:
        job = begin()
        assert job is not None
        job.finished.connect(done)

    return start


@pytest.fixture
def big_clinic(tmp_path: Path) -> Clinic:
    clinic = signed_in(Clinic.open(tmp_path / "bench.sqlite", hasher=FAST_HASHER))
    ids = [
        clinic.patients.register(patient_fields(given_name=f"Łukasz{i}")).id
        for i in range(PATIENTS)
    ]
    log = clinic.session.audit_log
    with clinic._store.transaction():
        while clinic._store.count("audit") < AUDIT_ROWS:
            for pid in ids:
                log.record("view patient", f"patient:{pid}", pid)
    return clinic


def ready_to_sign(clinic: Clinic, n: int) -> list[str]:
    strokes = signature_strokes("Łukasz Żółć")
    ready = []
    for i in range(n):
        p = clinic.patients.register(patient_fields(given_name=f"Zoë{i}"))
        c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
        clinic.consultations.save_draft(c.id, answers=stable_vitiligo_answers())
        for role in clinic.documents.required_signers(c.id):
            name = "" if role == "clinician" else "Łukasz Żółć"
            clinic.documents.add_signature(
                c.id, role, name, strokes, width=PAD_W, height=PAD_H, password=OWNER_PASSWORD
            )
        ready.append(c.id)
    return ready


def report(name: str, rows: dict[str, list[tuple[float, float]]]) -> str:
    parts = []
    for how, measured in rows.items():
        gaps = [g for g, _d in measured]
        took = statistics.median(d for _g, d in measured)
        parts.append(f"{how}: longest gap {max(gaps):6.0f} ms (median took {took:5.0f} ms)")
    return f"{name:<22}" + " | ".join(parts)


def test_event_loop_gaps(qtbot: QtBot, big_clinic: Clinic, tmp_path: Path) -> None:
    clinic = big_clinic
    window = MainWindow(tmp_path / "log.txt", clinic=clinic)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    meter = GapMeter()
    results: dict[str, dict[str, list[tuple[float, float]]]] = {}

    # Sign (render + seal + store): the first seal creates the key, so warm up first.
    drafts = ready_to_sign(clinic, 2 * ROUNDS + 1)
    clinic.documents.sign(drafts.pop())
    window.show_consultation(drafts[0])
    page = window.consultation_page()
    page.go_to_step(SIGN)
    step = page.sign_step()
    rows: dict[str, list[tuple[float, float]]] = {"before (UI thread)": [], "now (worker)": []}
    for _ in range(ROUNDS):
        cid = drafts.pop()
        rows["before (UI thread)"].append(
            meter.measure(on_ui_thread(lambda cid=cid: clinic.documents.sign(cid), window))
        )
        window.show_consultation(drafts.pop())
        page.go_to_step(SIGN)
        rows["now (worker)"].append(meter.measure(in_background(step.sign)))
    results["sign"] = rows

    # Backup, restore.
    rows = {"before (UI thread)": [], "now (worker)": []}
    for i in range(ROUNDS):
        old, new = tmp_path / f"old-{i}.sqlite", tmp_path / f"new-{i}.sqlite"
        rows["before (UI thread)"].append(
            meter.measure(on_ui_thread(lambda old=old: clinic.backups.backup(old), window))
        )
        rows["now (worker)"].append(
            meter.measure(in_background(lambda new=new: window.admin.backup_to(new)))
        )
    results["backup"] = rows
    backup = tmp_path / "old-0.sqlite"
    rows = {"before (UI thread)": [], "now (worker)": []}
    for _ in range(ROUNDS):
        rows["before (UI thread)"].append(
            meter.measure(on_ui_thread(lambda: clinic.backups.restore(backup), window))
        )
        rows["now (worker)"].append(
            meter.measure(in_background(lambda: window.admin.restore_from(backup)))
        )
        close_message_boxes()
        clinic.session.login("owner", OWNER_PASSWORD)
        window._granted()
    results["restore"] = rows

    # Audit verification (the trail grows by the rows above).
    dialog = AuditDialog(clinic, window)
    qtbot.addWidget(dialog)
    dialog.show()
    rows = {"before (UI thread)": [], "now (worker)": []}
    for _ in range(ROUNDS):
        rows["before (UI thread)"].append(meter.measure(on_ui_thread(clinic.audit.verify, dialog)))
        rows["now (worker)"].append(meter.measure(in_background(dialog.verify)))
    results["audit verify"] = rows

    trail = clinic._store.count("audit")
    print(f"\nlongest event-loop gap (10 ms timer), {trail:,} audit rows, {ROUNDS} rounds each:")
    for name, measured in results.items():
        print(report(name, measured))
