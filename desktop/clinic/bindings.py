"""Signatures bound to the content their signers saw: a change to that content voids them."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.clinic.audit_log import AuditLog
from desktop.clinic.checklists import Checklists
from desktop.clinic.settings import read_profile
from desktop.models import ClinicProfile, Consultation, DocumentKind, Patient, Signature, TestSpot
from desktop.storage import Store

VOID_REASON = "the sheet's content changed after they signed"


@dataclass(frozen=True)
class SheetInputs:
    """What a consultation's sheets print besides the consultation: read once, so that what
    is sealed is exactly what the signatures were checked against."""

    profile: ClinicProfile
    patient: Patient
    test_spots: tuple[TestSpot, ...]


def kinds_for(c: Consultation) -> tuple[DocumentKind, ...]:
    """The sheets of a consultation: consent + aftercare, or the referral when deferred."""
    return ("referral",) if c.decision == "defer" else ("consent", "aftercare")


class SignatureBindings:
    """The signable content hash of a consultation's sheets, and the signatures it voids.

    Every captured signature records the hash of the content shown to its signer
    (ARCHITECTURE rule 6). After any change to a draft, `void_stale` removes each signature
    whose hash no longer matches (each removal audited, with the reason).
    """

    def __init__(self, store: Store, audit: AuditLog, checklists: Checklists) -> None:
        self._store = store
        self._audit = audit
        self._checklists = checklists

    def snapshot(self, c: Consultation) -> SheetInputs:
        """Everything besides `c` that its sheets print, read now."""
        return SheetInputs(
            profile=read_profile(self._store),
            patient=self._store.patients.get(c.patient_id),
            test_spots=tuple(self._store.test_spots.for_patient(c.patient_id)),
        )

    def content_sha256(self, c: Consultation, inputs: SheetInputs | None = None) -> str | None:
        """The hash of what `c`'s sheets ask their signers to agree to (printed from
        `inputs`, default: as stored now); None while the checklist is incomplete (there are
        no sheets to sign yet)."""
        if c.assessment is None:
            return None
        from desktop.clinic import sheets

        inputs = inputs or self.snapshot(c)
        return sheets.signable_sha256(
            kinds_for(c),
            profile=inputs.profile,
            patient=inputs.patient,
            consultation=c,
            test_spots=inputs.test_spots,
            checklist=self._checklists.of(c),
        )

    def stale(self, c: Consultation) -> list[Signature]:
        """Signatures of `c` captured on content other than its current content."""
        signatures = self._store.signatures.for_consultation(c.id)
        if not signatures:
            return []
        current = self.content_sha256(c)
        return [s for s in signatures if s.content_sha256 != current]

    def void_stale(self, c: Consultation) -> tuple[str, ...]:
        """Remove the stale signatures of a draft (audited); returns the signer roles voided."""
        voided = []
        for s in self.stale(c):
            self._store.signatures.delete(c.id, s.role)
            self._audit.record(
                "void signature", f"consultation:{c.id}", c.patient_id, role=s.role,
                reason=VOID_REASON,
            )  # fmt: skip
            voided.append(s.role)
        return tuple(voided)
