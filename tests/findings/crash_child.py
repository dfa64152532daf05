"""A clinic program killed at a chosen step of the use cases the reliability child leaves out.

    python -m tests.findings.crash_child DB SCENARIO [KILL_AT|count]

SCENARIO: prepare, update_patient, record_spot, review_spot, override, from_last, discard,
upgrade, import, backup, profile, or one of tests.reliability.child's (register, save, ready,
sign, seal, restore). Steps are counted as in tests.reliability.child, but only once the
database is open: a kill at step 1 happens inside the use case, never while opening.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from tests.helpers.answers import OLD, green_answers
from tests.helpers.consultations import start_old
from tests.helpers.crashes import Steps, open_clinic, ready
from tests.helpers.patients import patient_fields

IMPORT_ROWS = 1200  # crosses two batch boundaries (500 rows a batch)


RELIABILITY = ("register", "save", "ready", "sign", "seal", "restore")


def prepare(db: Path) -> None:
    clinic = open_clinic(db)
    clinic.settings.update_profile(name="Crash Test Clinic", address="1 Crash Lane")
    first = ready(clinic, 0)
    clinic.documents.sign(first)  # a seal exists; patient 0 has a signed consultation
    cid = ready(clinic, 1)  # a ready draft (signatures captured)
    clinic.test_spots.record(cid, "left jaw", clinic.today())
    p = clinic.patients.register(patient_fields(given_name="Olden"), allow_duplicate=True)
    start_old(clinic, p.id, green_answers(), clinician="Dr Reliable")
    clinic.backups.backup(db.with_name("backup.sqlite"))
    rows = ["given_name,family_name,date_of_birth"]
    rows += [f"Imp{i},Crash,1970-01-{1 + i % 28:02d}" for i in range(IMPORT_ROWS)]
    db.with_name("patients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    clinic.close()


def scenario(clinic, name: str, db: Path) -> None:  # type: ignore[no-untyped-def]
    drafts = clinic.consultations.drafts()
    ready_draft = next(c for c in drafts if c.checklist_version != OLD)
    old_draft = next(c for c in drafts if c.checklist_version == OLD)
    if name == "update_patient":
        clinic.patients.update(ready_draft.patient_id, {"given_name": "Renamed"})
    elif name == "record_spot":
        clinic.test_spots.record(ready_draft.id, "right jaw", clinic.today())
    elif name == "review_spot":
        spot = clinic.test_spots.for_patient(ready_draft.patient_id)[0]
        clinic.test_spots.review(spot.id, 4, "depigmentation", "Dr Reliable", on=date(2027, 1, 1))
    elif name == "override":
        clinic.consultations.override(
            ready_draft.id, "defer", "Clinical judgement: refer to dermatology first.",
            author="Dr Reliable",
        )  # fmt: skip
    elif name == "from_last":
        signed = clinic.patients.search("Pat0")[0]
        clinic.repeat_visits.start_from_last(signed.id)
    elif name == "discard":
        clinic.repeat_visits.discard(ready_draft.id, "Opened for the wrong patient by mistake.")
    elif name == "upgrade":
        clinic.consultations.upgrade_checklist(old_draft.id)
    elif name == "import":
        clinic.patients.import_csv(db.with_name("patients.csv"), dry_run=False)
    elif name == "backup":
        clinic.backups.backup(db.with_name("made-backup.sqlite"))
    elif name == "profile":
        clinic.settings.update_profile(address="2 Crash Lane")
    else:
        raise SystemExit(f"unknown scenario {name}")


def main(argv: list[str]) -> int:
    db, name = Path(argv[1]), argv[2]
    if name == "prepare":
        prepare(db)
        return 0
    mode = argv[3] if len(argv) > 3 else ""
    steps = Steps(None)  # armed once the database is open: opening is not the use case
    clinic = open_clinic(db, steps)
    steps.count = 0
    steps.kill_at = int(mode) if mode.isdigit() else None
    steps.armed = True
    if name in RELIABILITY:
        from tests.reliability.child import scenario as reliability_scenario

        reliability_scenario(clinic, name, db)
    else:
        scenario(clinic, name, db)
    if mode == "count":
        sys.stdout.write(f"{steps.count}\n")
    clinic.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
