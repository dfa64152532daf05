"""One workstation writing to the clinic's server: run by the multi-workstation tests.

    python -m tests.clinic.pg_writer URL NAME COUNT

Registers COUNT patients named NAME<i>, starts a consultation for each and saves its draft
twice; prints one JSON line: {"written": n, "failed": [messages], "start": t0, "end": t1} (wall
clock around the writing, without the program's start-up).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from desktop.clinic import Clinic, system_actor
from desktop.errors import IntakeError
from tests.helpers.answers import stable_vitiligo_answers
from tests.helpers.clinics import FAST_HASHER
from tests.helpers.patients import patient_fields


def main(url: str, name: str, count: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix=f"workstation-{name}-"))
    clinic = Clinic.open(url, actor=system_actor(), hasher=FAST_HASHER,
                         workstation_dir=folder / "anchors", data_dir=folder / "data")  # fmt: skip
    written, failed = 0, []
    start = time.time()
    for i in range(count):
        try:
            p = clinic.patients.register(
                patient_fields(given_name=f"{name}{i}", family_name="Writer", phone="")
            )
            c = clinic.consultations.start(p.id, clinician="Dr Ada")
            c = clinic.consultations.save_draft(c.id, answers={"V1": "no"}, revision=c.revision)
            clinic.consultations.save_draft(
                c.id, answers=stable_vitiligo_answers(), revision=c.revision
            )
            written += 1
        except IntakeError as exc:
            failed.append(exc.message)
    end = time.time()
    clinic.close()
    result = {"written": written, "failed": failed, "start": start, "end": end}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
