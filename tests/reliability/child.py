"""A clinic program that can be killed at a chosen moment: run by the reliability tests.

    python -m tests.reliability.child DB SCENARIO [KILL_AT]

SCENARIO is one use case (register, save, sign, restore, seal) or `mixed` (use cases in a
loop until killed). KILL_AT, when given, is the number of the step (an SQL statement, or a
file replaced) at which the process sends itself SIGKILL; `count` instead prints how many
steps the scenario takes. The database must have been prepared by `prepare` first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.clinic import Clinic
from tests.helpers.answers import green_answers
from tests.helpers.crashes import Steps, open_clinic, ready
from tests.helpers.patients import patient_fields


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
