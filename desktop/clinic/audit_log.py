"""Recording to the audit trail: one chained row per action, and its anchor outside the database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from desktop.audit import AuditEntry
from desktop.clinic.anchors import Anchors, AuditAlarm
from desktop.storage import Store

log = logging.getLogger(__name__)

# Repeats of these by the same user on the same record within the window make one audit row;
# an entry with details (a consultation's date changed) always gets a row of its own.
COALESCED = frozenset({"update consultation"})
COALESCE_WINDOW = timedelta(minutes=1)
ANCHOR_KEY = "audit-anchor"
ALARM_KEY = "audit_alarm"


def recordable(text: str) -> str:
    """`text` as the trail keeps it: a control character (a NUL typed or pasted into a name
    at sign-in) as its visible symbol (U+2400-U+241F, Unicode's Control Pictures), half of a
    character pair as U+FFFD. Every backend stores the result as it is (a server's text
    cannot hold a NUL), and whoever reads the trail sees what was there."""
    if text.isprintable():
        return text
    return "".join(
        chr(0x2400 + ord(ch)) if ch < " " else "\ufffd" if "\ud800" <= ch <= "\udfff" else ch
        for ch in text
    )


class AuditLog:
    """Appends what the acting user does; every use case records through one of these.

    `actor` names who acts ("-" before anyone signs in). The anchors (count and last hash,
    kept outside the database) reveal rows cut off the end of the trail; they are rewritten
    once per committed transaction.
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        actor: Callable[[], str],
        anchors: Anchors,
    ) -> None:
        self._store = store
        self._clock = clock
        self._actor = actor
        self.anchors = anchors

    def record(self, action: str, target: str = "", patient: str = "", **detail: object) -> None:
        """Append one entry: `action` ("create patient"), `target` ("patient:<id>"), the
        patient it concerns (ID or ""), and details as JSON."""
        who = recordable(self._actor())
        action, target, patient = recordable(action), recordable(target), recordable(patient)
        at = self._clock().isoformat()
        if action in COALESCED and not detail and self._repeats_last(who, action, target, at):
            return
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""
        entry = self._store.audit.append(at, who, action, target, patient, text)
        self._store.after_commit(ANCHOR_KEY, lambda: self.anchors.write(entry.seq, entry.hash))

    def _repeats_last(self, who: str, action: str, target: str, at: str) -> bool:
        """Autosave edits the same draft many times a minute: one audit row stands for them."""
        last = self._store.audit.last()
        if last is None or (last.user, last.action, last.target) != (who, action, target):
            return False
        age = datetime.fromisoformat(at) - datetime.fromisoformat(last.at)
        return timedelta(0) <= age < COALESCE_WINDOW

    def anchor(self) -> tuple[int, str] | None:
        """(count, last hash) of the longest trail the anchors saw, or None."""
        state = self.anchors.state()
        return (state.count, state.hash) if state is not None and state.count else None

    def alarm(self) -> AuditAlarm | None:
        """The standing finding that the trail was altered or cut short, if any."""
        stored = AuditAlarm.from_json(self._store.settings.get(ALARM_KEY))
        state = self.anchors.state()
        return stored or (state.alarm if state is not None else None)

    def raise_alarm(self, reason: str, row: int) -> AuditAlarm:
        """Keep a finding (in the database and every anchor) until an administrator
        acknowledges it; the finding is itself audited. Returns the standing alarm."""
        standing = self.alarm()
        if standing is not None:
            return standing
        alarm = AuditAlarm(self._clock().isoformat(), reason, row)
        self.anchors.raise_alarm(alarm)
        with self._store.transaction():
            self._store.settings.set(ALARM_KEY, asdict(alarm))
            self.record("audit alarm", "audit", reason=reason, row=row)
        log.warning("audit trail check failed: %s", reason)
        return alarm

    def clear_alarm(self) -> AuditAlarm | None:
        """Remove the standing alarm (an administrator acknowledged it); returns it."""
        alarm = self.alarm()
        if alarm is None:
            return None
        self._store.settings.set(ALARM_KEY, None)
        last = self._store.audit.last()
        self.anchors.clear_alarm(last.seq if last else 0, last.hash if last else "")
        return alarm

    def check_head(self) -> None:
        """Compare the trail's end with the anchors (two reads): rows cut off the end or an
        altered last row raise the alarm. Run when the database opens."""
        anchor = self.anchor()
        if anchor is None:
            return
        count, digest = anchor
        last = self._store.audit.last()
        expected = self.anchors.expected()
        if expected is not None:  # a restore swapped the file, or was about to
            if last is not None and (last.seq, last.hash) == expected:
                self.anchors.write(*expected)
                return
            self.anchors.write(count, digest)  # the swap did not happen: as before
        if last is None or last.seq < count:
            have = last.seq if last else 0
            self.raise_alarm(f"rows {have + 1}-{count} were removed from the end", have + 1)
            return
        row = self._store.audit.at(count)
        if row is None or row.hash != digest:
            self.raise_alarm(f"row {count} differs from its anchor", count)

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
                last = entry
                self._store.after_commit(
                    ANCHOR_KEY, lambda: self.anchors.write(last.seq, last.hash)
                )
        return len(later)
