"""Reading the audit trail: filtered entries, CSV export and the hash-chain check."""

from __future__ import annotations

import io
from datetime import date

from desktop.audit import AuditEntry, ChainReport, verify_chain
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.session import Session
from desktop.storage import Store


class AuditTrail:
    """What administrators see of the trail ("audit.view"); reading it is itself audited."""

    def __init__(self, store: Store, session: Session, audit: AuditLog) -> None:
        self._store = store
        self._session = session
        self._audit = audit

    def entries(
        self,
        *,
        user: str = "",
        patient: str = "",
        action: str = "",
        since: date | None = None,
        until: date | None = None,
        limit: int = 5000,
    ) -> list[AuditEntry]:
        """Matching entries in chain order, the newest `limit` of them (-1: all)."""
        self._session.require("audit.view")
        return self._store.audit.entries(
            user=user, patient=patient, action=action, since=since, until=until, limit=limit
        )

    def open_viewer(self) -> None:
        """Check that the signed-in user may read the audit trail, and record that they did."""
        self._session.require("audit.view")
        self._audit.record("view audit", "audit")

    def choices(self) -> tuple[list[str], list[str]]:
        """Every user name and every action the whole trail holds (for the viewer's filters)."""
        self._session.require("audit.view")
        return self._store.audit.values("user"), self._store.audit.values("action")

    def patients(self) -> dict[str, str]:
        """Patient ID -> "Family, Given (date of birth)" for every patient the trail names."""
        self._session.require("audit.view")
        labels: dict[str, str] = {}
        for r in self._store.audit.patients():
            if r["family_name"] is None:
                labels[r["id"]] = f"{r['id']} (no such patient)"
            else:
                name = f"{r['family_name']}, {r['given_name']}"
                labels[r["id"]] = f"{name} ({r['date_of_birth']})"
        return labels

    def export_csv(
        self,
        *,
        user: str = "",
        patient: str = "",
        action: str = "",
        since: date | None = None,
        until: date | None = None,
        limit: int = -1,
    ) -> str:
        """The whole filtered audit trail as CSV text (the export itself is audited)."""
        import csv

        entries = self.entries(
            user=user, patient=patient, action=action, since=since, until=until, limit=limit
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["seq", "time", "user", "action", "target", "patient", "detail", "hash"])
        for e in entries:
            writer.writerow([e.seq, e.at, e.user, e.action, e.target, e.patient, e.detail, e.hash])
        self._audit.record("export", "audit", rows=len(entries))
        return out.getvalue()

    def verify(self) -> ChainReport:
        """Walk the hash chain; the check itself is then recorded (after the rows it checked)."""
        self._session.require("audit.view")
        report = verify_chain(self._store.audit.stream(), self._audit.read_anchor())
        self._audit.record("audit verify", "audit", intact=report.intact, rows=report.count)
        return report
