"""Reading the audit trail: filtered entries, CSV export and the hash-chain check."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from desktop.audit import AuditEntry, ChainReport, verify_chain
from desktop.clinic.anchors import AuditAlarm
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.session import Session
from desktop.clinic.settings import read_input_rules
from desktop.errors import Conflict, ValidationError
from desktop.models import Patient
from desktop.storage import Store

CSV_BOM = "\ufeff"
LABEL_BATCH = 500  # patient IDs read per query when labelling the rows on screen


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

    def find_patients(self, text: str, limit: int = 20) -> dict[str, str]:
        """The viewer's patient filter: patient ID -> "Family, Given (date of birth)" for the
        patients matching what was typed (the front desk's patient search: name, phone, date
        of birth), and for a patient ID typed whole that the trail names (a patient whose
        record is gone shows as "(no such patient)"). Bounded whatever the trail's size."""
        self._session.require("audit.view")
        labels: dict[str, str] = {}
        typed = text.strip()
        if typed and " " not in typed and self._store.audit.names_patient(typed):
            found = self._store.patients.existing([typed])
            labels[typed] = _label(found[0]) if found else f"{typed} (no such patient)"
        order = read_input_rules(self._store).date_order
        day_first = None if order is None else order == "day-first"
        matches = self._store.patients.find(typed, limit, day_first=day_first, today=date.today())
        for p in matches.patients:
            labels.setdefault(p.id, _label(p))
        return labels

    def patient_labels(self, patient_ids: Iterable[str]) -> dict[str, str]:
        """How the viewer names the patients of the entries it shows: patient ID -> label
        (as find_patients; an ID whose record is gone: "(no such patient)"). Reads only the
        patients asked about, in batches: bounded by the rows on screen."""
        self._session.require("audit.view")
        wanted = sorted({pid for pid in patient_ids if pid})
        labels = {pid: f"{pid} (no such patient)" for pid in wanted}
        for start in range(0, len(wanted), LABEL_BATCH):
            for p in self._store.patients.existing(wanted[start : start + LABEL_BATCH]):
                labels[p.id] = _label(p)
        return labels

    def patient_label(self, patient_id: str) -> str:
        """How the viewer names a patient it filters by (see find_patients)."""
        return self.patient_labels([patient_id])[patient_id]

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
        """The whole filtered audit trail as CSV text (the export itself is audited).

        The text starts with a byte order mark (U+FEFF), so a spreadsheet program reads the
        file as UTF-8 and names with accents or in other scripts come out right.
        """
        import csv

        entries = self.entries(
            user=user, patient=patient, action=action, since=since, until=until, limit=limit
        )
        out = io.StringIO()
        out.write(CSV_BOM)
        writer = csv.writer(out)
        writer.writerow(["seq", "time", "user", "action", "target", "patient", "detail", "hash"])
        for e in entries:
            writer.writerow([e.seq, e.at, e.user, e.action, e.target, e.patient, e.detail, e.hash])
        self._audit.record("export", "audit", rows=len(entries))
        return out.getvalue()

    def verify(self) -> ChainReport:
        """Walk the hash chain against the anchors (streamed: memory flat in the trail's size).

        A broken chain, or one short of its anchors, raises the alarm, which stands (and
        this reports BROKEN) until an administrator acknowledges it. The check itself is then
        recorded, after the rows it checked.
        """
        self._session.require("audit.view")
        report = verify_chain(self._store.audit.stream(), self._audit.anchor())
        if report.intact and report.count == 0 and self._store.users.count():
            # A clinic is set up with audited entries: none at all means they were removed.
            report = ChainReport(
                False, 0, 1, "the trail is empty although the clinic has user accounts"
            )
        if not report.intact:
            self._audit.raise_alarm(report.reason, report.broken_seq or report.count + 1)
        else:
            alarm = self._audit.alarm()
            if alarm is not None:
                report = ChainReport(
                    False,
                    report.count,
                    alarm.row,
                    f"a check on {alarm.found_at[:16].replace('T', ' ')} found that {alarm.reason}"
                    "; an administrator has not acknowledged it yet",
                )
        self._audit.record("audit verify", "audit", intact=report.intact, rows=report.count)
        return report

    def alarm(self) -> AuditAlarm | None:
        """The standing finding that the trail was altered or cut short (administrators see
        it until one acknowledges it), or None."""
        self._session.require("audit.view")
        return self._audit.alarm()

    def acknowledge(self, note: str) -> None:
        """An administrator acknowledges the standing alarm, with a note of what was done
        (e.g. "restored from last night's backup; reported to the owner"); audited."""
        self._session.require("audit.view")
        note = " ".join(note.split())
        if len(note) < 10:
            raise ValidationError(
                "Say in a sentence what was found and done about it (at least 10 characters)."
            )
        with self._store.transaction():
            alarm = self._audit.clear_alarm()
            if alarm is None:
                raise Conflict("There is no audit alarm to acknowledge.")
            self._audit.record(
                "acknowledge audit alarm", "audit", finding=alarm.reason,
                found_at=alarm.found_at, note=note,
            )  # fmt: skip


def _label(p: Patient) -> str:
    return f"{p.listed_name} ({p.date_of_birth.isoformat()})"
