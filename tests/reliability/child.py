"""A clinic program that can be killed at a chosen moment: run by the reliability tests.

    python -m tests.reliability.child DB SCENARIO [KILL_AT]

SCENARIO is one use case (register, save, sign, restore, seal) or `mixed` (use cases in a
loop until killed). KILL_AT, when given, is the number of the step (an SQL statement, or a
file replaced) at which the process sends itself SIGKILL; `count` instead prints how many
steps the scenario takes. The database must have been prepared by `prepare` first.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from desktop.demo import PAD_H, PAD_W, signature_strokes
from tests.conftest import FAST_HASHER, green_answers, patient_fields

STROKES = signature_strokes("Test Patient")
CLOCK_START = datetime(2026, 11, 25, 10, 30, tzinfo=timezone(timedelta(hours=1)))


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
    start = datetime.now(tz=CLOCK_START.tzinfo)
    return lambda: start + (datetime.now(tz=start.tzinfo) - start)


def open_clinic(db: Path, steps: Steps | None = None) -> Clinic:
    if steps is not None:
        # Every connection the program opens (a restore reopens) counts its statements.
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
    p = clinic.patients.register(
        patient_fields(given_name=f"Pat{n}", family_name="Test", date_of_birth="1980-02-03"),
        allow_duplicate=True,
    )
    c = clinic.consultations.start(p.id, clinician="Dr Reliable")
    clinic.consultations.save_draft(c.id, answers=green_answers())
    for role in clinic.documents.required_signers(c.id):
        clinic.documents.add_signature(
            c.id, role, "Dr Reliable" if role == "clinician" else "Pat Test", STROKES,
            width=PAD_W, height=PAD_H,
        )  # fmt: skip
    return c.id


def prepare(db: Path) -> None:
    """A clinic with a signed consultation (a seal exists), a ready draft and a backup."""
    clinic = open_clinic(db)
    clinic.settings.update_profile(name="Reliable Skin Clinic")
    first = ready(clinic, 0)
    clinic.documents.sign(first)
    ready(clinic, 1)
    clinic.backups.backup(db.with_name("backup.sqlite"))
    clinic.close()


def scenario(clinic: Clinic, name: str, db: Path) -> None:
    if name == "register":
        clinic.patients.register(patient_fields(given_name="Newcomer"), allow_duplicate=True)
    elif name == "save":
        draft = clinic.consultations.drafts()[0]
        clinic.consultations.save_draft(
            draft.id, answers={**green_answers(), "G10": "IV"}, revision=draft.revision
        )
    elif name == "sign":
        draft = clinic.consultations.drafts()[0]
        clinic.documents.sign(draft.id)
    elif name == "ready":
        ready(clinic, 7)
    elif name == "seal":
        clinic.settings.update_profile(name="Renamed Reliable Clinic")  # renews the seal
    elif name == "restore":
        clinic.backups.restore(db.with_name("backup.sqlite"))
    elif name == "mixed":
        n = 100
        while True:
            n += 1
            cid = ready(clinic, n)
            if n % 2:
                clinic.documents.sign(cid)
            draft = clinic.consultations.drafts()
            if draft:
                c = draft[0]
                clinic.consultations.save_draft(c.id, answers=dict(c.answers), revision=c.revision)
    else:
        raise SystemExit(f"unknown scenario {name}")


def main(argv: list[str]) -> int:
    db, name = Path(argv[1]), argv[2]
    if name == "prepare":
        prepare(db)
        return 0
    mode = argv[3] if len(argv) > 3 else ""
    steps = Steps(int(mode) if mode.isdigit() else None)
    clinic = open_clinic(db, steps)
    steps.armed = True  # opening is not part of the use case
    scenario(clinic, name, db)
    if mode == "count":
        sys.stdout.write(f"{steps.count}\n")
    clinic.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
