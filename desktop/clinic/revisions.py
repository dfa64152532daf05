"""Revisions: refuse a save based on an older version of a record, naming who changed it."""

from __future__ import annotations

from desktop.errors import StaleRecord
from desktop.models import Consultation, Patient
from desktop.storage import Store


def check_revision(store: Store, expected: int | None, current: Consultation | Patient) -> None:
    """Raise StaleRecord when the caller's `expected` revision is not `current`'s (as read in
    this transaction). None skips the check (a headless caller that reads and writes within
    one use case).
    """
    if expected is None or expected == current.revision:
        return
    what = "consultation" if isinstance(current, Consultation) else "patient record"
    updated_by, updated = current.updated_by, current.updated
    account = store.users.find(updated_by) if updated_by else None
    who = account.user.display_name if account is not None else (updated_by or "someone")
    when = updated.strftime("%H:%M on %d %b %Y") if updated is not None else "a moment ago"
    raise StaleRecord(
        f"This {what} was changed by {who} at {when}, after you opened it; nothing was "
        "saved. Reload it to see the current version (what you typed stays on screen to "
        "enter again).",
        who,
        when,
        current.revision,
    )
