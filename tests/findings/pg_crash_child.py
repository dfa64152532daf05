"""A clinic program on the clinic's server that kills itself (SIGKILL) in the middle of a use case.

    python -m tests.findings.pg_crash_child URL SCENARIO ARG [NTH]

SCENARIO: `move_to FILE|URL` (the clinic copied into a new file or another server database),
`backup DIR` (a backup of the
server into DIR) or `restore FILE` (a backup restored onto the server). The process kills
itself when a copy of the clinic reaches its last table (the audit trail) for the NTH time
(default 1; a restore first backs the server up, then copies the backup in): well inside the
use case, after files were made and before anything is kept.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from desktop.clinic import Clinic, system_actor
from desktop.storage import is_server_url, transfer
from tests.helpers.clinics import FAST_HASHER


def _kill_at_the_audit_table(nth: int) -> None:
    real = transfer._copy_table
    seen = [0]

    def copy_table(source: Any, snap: Any, target: Any, table: str, signed: Any) -> Any:
        if table == "audit":
            seen[0] += 1
            if seen[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(source, snap, target, table, signed)

    transfer._copy_table = copy_table  # type: ignore[assignment]


def main(url: str, scenario: str, arg: str, nth: str = "1") -> None:
    clinic = Clinic.open(url, actor=system_actor(), hasher=FAST_HASHER)
    _kill_at_the_audit_table(int(nth))
    if scenario == "move_to":
        clinic.backups.move_to(arg if is_server_url(arg) else Path(arg))
    elif scenario == "backup":
        clinic.backups.backup(Path(arg))
    elif scenario == "restore":
        clinic.backups.restore(Path(arg), other_clinic=True)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    clinic.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
