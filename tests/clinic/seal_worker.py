"""A separate program for the seal's race and crash tests: `python -m tests.clinic.seal_worker`.

sign DB CONSULTATION GO   open DB, load everything, say "ready", wait for the file GO, sign
create GO DB...           say "ready", wait for GO, then for each DB: open it and make its seal
rename DB                 say "ready", then rename the clinic (renewing its seal) until killed
Each step it starts and finishes is printed ("start N" / "done N"), flushed at once.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from desktop import signing
from desktop.clinic import Clinic
from tests.helpers.clinics import open_as_system


def say(text: str) -> None:
    print(text, flush=True)


def wait_for(go: Path) -> None:
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.0005)


def sign(db: Path, consultation_id: str, go: Path) -> None:
    clinic: Clinic = open_as_system(db)
    # Everything loaded before the start (fonts, templates, pyHanko), so that the programs
    # reach the seal within milliseconds of each other.
    clinic.documents.preview(consultation_id)
    signing.trial_seal(signing.generate_seal("Warm-up", datetime.now(UTC)))  # not the clinic's
    say("ready")
    wait_for(go)
    docs = clinic.documents.sign(consultation_id)
    say(json.dumps([d.id for d in docs]))
    clinic.close()


def create(go: Path, dbs: list[Path]) -> None:
    signing.generate_seal("Warm-up", datetime.now(UTC))  # cryptography loaded before the start
    say("ready")
    wait_for(go)
    for n, db in enumerate(dbs):
        clinic = open_as_system(db)
        say(f"start {n}")
        clinic.seal.ensure()
        say(f"done {n}")
        clinic.close()
    say("finished")
    time.sleep(600)  # until killed, like the other steps


def rename(db: Path) -> None:
    clinic = open_as_system(db)
    clinic.seal.ensure()
    say("ready")
    n = 0
    while True:
        say(f"start {n}")
        clinic.settings.update_profile(name=f"Northgate Skin Clinic {n}")
        say(f"done {n}")
        n += 1


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "sign":
        sign(Path(args[0]), args[1], Path(args[2]))
    elif command == "create":
        create(Path(args[0]), [Path(a) for a in args[1:]])
    elif command == "rename":
        rename(Path(args[0]))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
