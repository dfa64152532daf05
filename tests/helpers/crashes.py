"""The crash harness: a clinic program that counts its steps and kills itself at one of them."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from desktop.demo import PAD_H, PAD_W
from tests.helpers.answers import green_answers
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.clock import START
from tests.helpers.consultations import TEST_PATIENT_STROKES
from tests.helpers.patients import patient_fields

FULL = os.environ.get("CLINIC_RELIABILITY") == "full"  # `make reliability`


def kill_points(total: int) -> list[int]:
    """The steps (1 to `total`) to kill at: every one when FULL, else the first, the last and
    two between."""
    if FULL:
        return list(range(1, total + 1))
    return sorted({1, max(1, total // 3), max(1, 2 * total // 3), total})


class Steps:
    """Counts the steps of a use case (SQL statements, files replaced); kills at one of them.

    Counting starts when `armed` is set, after the database is open: the kill points then
    fall inside the use case, not in opening the database.
    """

    def __init__(self, kill_at: int | None) -> None:
        self.count = 0
        self.kill_at = kill_at
        self.armed = False

    def __call__(self, *_args: object) -> None:
        if not self.armed:
            return
        self.count += 1
        if self.kill_at is not None and self.count >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _clock() -> Callable[[], datetime]:
    start = datetime.now(tz=START.tzinfo)
    return lambda: start + (datetime.now(tz=start.tzinfo) - start)


def open_clinic(db: Path, steps: Steps | None = None) -> Clinic:
    """Open `db` as a headless command does; with `steps`, every SQL statement of every
    connection it opens (a restore reopens) and every file replaced is a step."""
    if steps is not None:
        from desktop.storage import connection

        real_init = connection.Connection.__init__

        def traced(self: connection.Connection, *args: object, **kw: object) -> None:
            real_init(self, *args, **kw)  # type: ignore[arg-type]
            self.conn.set_trace_callback(steps)

        connection.Connection.__init__ = traced  # type: ignore[method-assign]
    clinic = Clinic.open(db, actor=system_actor(), hasher=FAST_HASHER, clock=_clock())
    if steps is not None:
        real_replace = os.replace

        def replace(src: object, dst: object) -> None:
            steps()
            real_replace(src, dst)  # type: ignore[arg-type]
            steps()

        os.replace = replace  # type: ignore[assignment]
        Path.replace = lambda self, target: (replace(self, target), Path(target))[1]  # type: ignore[method-assign]
    return clinic


def ready(clinic: Clinic, n: int) -> str:
    """Patient Pat{n} Test and a complete draft by Dr Reliable, every signature captured:
    the draft's id."""
    p = clinic.patients.register(
        patient_fields(given_name=f"Pat{n}", family_name="Test", date_of_birth="1980-02-03"),
        allow_duplicate=True,
    )
    c = clinic.consultations.start(p.id, clinician="Dr Reliable")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    for role in clinic.documents.required_signers(c.id):
        clinic.documents.add_signature(
            c.id, role, "Dr Reliable" if role == "clinician" else "Pat Test",
            TEST_PATIENT_STROKES, width=PAD_W, height=PAD_H,
        )  # fmt: skip
    return c.id
