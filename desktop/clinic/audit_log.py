"""Recording to the audit trail: one chained row per action, and its anchor outside the database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from desktop.audit import AuditEntry
from desktop.storage import Store

log = logging.getLogger(__name__)

# Repeats of these by the same user on the same record within the window make one audit row.
COALESCED = frozenset({"update consultation"})
COALESCE_WINDOW = timedelta(minutes=1)


class AuditLog:
    """Appends what the acting user does; every use case records through one of these.

    `actor` names who acts ("-" before anyone signs in). The anchor (count and last hash,
    written beside the database file) reveals rows cut off the end of the trail.
    """

    def __init__(
        self, store: Store, clock: Callable[[], datetime], actor: Callable[[], str]
    ) -> None:
        self._store = store
        self._clock = clock
        self._actor = actor

    def record(self, action: str, target: str = "", patient: str = "", **detail: object) -> None:
        """Append one entry: `action` ("create patient"), `target` ("patient:<id>"), the
        patient it concerns (ID or ""), and details as JSON."""
        who = self._actor()
        at = self._clock().isoformat()
        if action in COALESCED and self._repeats_last(who, action, target, at):
            return
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""
        entry = self._store.audit.append(at, who, action, target, patient, text)
        self.write_anchor(entry)

    def _repeats_last(self, who: str, action: str, target: str, at: str) -> bool:
        """Autosave edits the same draft many times a minute: one audit row stands for them."""
        last = self._store.audit.last()
        if last is None or (last.user, last.action, last.target) != (who, action, target):
            return False
        age = datetime.fromisoformat(at) - datetime.fromisoformat(last.at)
        return timedelta(0) <= age < COALESCE_WINDOW

    def _anchor_path(self) -> Path | None:
        path = self._store.path
        return path.with_name(path.name + ".audit-anchor") if path is not None else None

    def write_anchor(self, entry: AuditEntry) -> None:
        anchor = self._anchor_path()
        if anchor is None:
            return
        try:
            tmp = anchor.with_name(anchor.name + ".tmp")
            tmp.write_text(json.dumps({"count": entry.seq, "hash": entry.hash}))
            tmp.chmod(0o600)
            tmp.replace(anchor)
        except OSError:
            log.warning("could not update the audit anchor %s", anchor)

    def read_anchor(self) -> tuple[int, str] | None:
        """(count, last hash) as last recorded outside the database, or None."""
        anchor = self._anchor_path()
        if anchor is None or not anchor.exists():
            return None
        try:
            data = json.loads(anchor.read_text())
            return int(data["count"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def carry(self, trail: Sequence[AuditEntry], kept: str) -> int:
        """Append to this (restored) trail what a replaced trail recorded after the backup.

        This trail ends with an entry the replaced `trail` also holds (same number, same
        hash) when the backup was taken from the same database: every later entry is appended
        again, with its own time, user, action and target, and its original number and hash
        in the detail. A backup of another history carries nothing. Returns the count.
        """
        last = self._store.audit.last()
        if last is not None:
            shared = [i for i, e in enumerate(trail) if (e.seq, e.hash) == (last.seq, last.hash)]
            if not shared:
                return 0
            later = trail[shared[0] + 1 :]
        else:
            later = list(trail)
        entry = None
        with self._store.transaction():
            for e in later:
                detail = {"carried_from": kept, "seq": e.seq, "hash": e.hash, "detail": e.detail}
                text = json.dumps(detail, sort_keys=True, ensure_ascii=False)
                entry = self._store.audit.append(e.at, e.user, e.action, e.target, e.patient, text)
        if entry is not None:
            self.write_anchor(entry)
        return len(later)
