"""A clinic program that moves a clinic (file to file, or file to the server) and kills itself
(SIGKILL) at one moment of the move.

    python -m tests.findings.move_kill_child DB TARGET MOMENT

MOMENT: `move-out` (the copy is made, proven and in place; the old database is about to be
marked as moved), `arrived` (the old database is marked; the copy's arriving mark is about to
go) or `audit-table` (the copy reaches its last table, the audit trail).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from desktop.clinic import Clinic, system_actor
from desktop.clinic.audit_log import AuditLog
from desktop.storage import is_server_url, transfer
from tests.helpers.clinics import FAST_HASHER


def _kill_before_marking() -> None:
    real = AuditLog.record

    def record(self: AuditLog, action: str, *args: Any, **kw: Any) -> Any:
        if action == "move out":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, action, *args, **kw)

    AuditLog.record = record  # type: ignore[method-assign]


def _kill_before_the_copy_opens() -> None:
    from desktop.storage import ARRIVING
    from desktop.storage.settings import SettingsRepository

    real = SettingsRepository.remove

    def remove(self: SettingsRepository, key: str) -> None:
        if key == ARRIVING:
            os.kill(os.getpid(), signal.SIGKILL)
        real(self, key)

    SettingsRepository.remove = remove  # type: ignore[method-assign]


def _kill_at_the_audit_table() -> None:
    real = transfer._copy_table

    def copy_table(source: Any, snap: Any, target: Any, table: str, signed: Any) -> Any:
        if table == "audit":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(source, snap, target, table, signed)

    transfer._copy_table = copy_table  # type: ignore[assignment]


def main(db: str, target: str, moment: str) -> None:
    clinic = Clinic.open(Path(db), actor=system_actor(), hasher=FAST_HASHER)
    if moment == "move-out":
        _kill_before_marking()
    elif moment == "arrived":
        _kill_before_the_copy_opens()
    elif moment == "audit-table":
        _kill_at_the_audit_table()
    else:
        raise SystemExit(f"unknown moment {moment}")
    clinic.backups.move_to(target if is_server_url(target) else Path(target))
    clinic.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
