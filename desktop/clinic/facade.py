"""The facade: every use case of the GUI and the command line, headless and testable."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.auth import PasswordHasher, User, check_password, check_username
from desktop.clinic.records import (
    MIN_OVERRIDE_REASON,
    Clock,
    LiveAssessment,
    PatientSearch,
    load_checklist,
    local_now,
)
from desktop.clinic.test_spots import REVIEW_RESULTS, REVIEW_WEEKS, ClinicTestSpots, DueReview
from desktop.errors import Conflict, StorageError, ValidationError
from desktop.models import (
    ClinicProfile,
    Consultation,
    Document,
    DocumentKind,
    Signature,
    SignerRole,
    Stroke,
    new_id,
)
from desktop.storage import Store, integrity_errors

if TYPE_CHECKING:
    from desktop.audit import AuditEntry
    from desktop.checklist import ChecklistDefinition
    from desktop.clinic.documents import Paperwork, VerifyReport
    from desktop.signing import SealInfo


__all__ = [
    "MIN_OVERRIDE_REASON",
    "REVIEW_RESULTS",
    "REVIEW_WEEKS",
    "Clinic",
    "DueReview",
    "LiveAssessment",
    "PatientSearch",
    "load_checklist",
    "local_now",
    "new_id",
]

log = logging.getLogger(__name__)


class Clinic(ClinicTestSpots):
    """One clinic database, the rules around it, and who may do what (every use case)."""

    def __init__(
        self,
        store: Store,
        *,
        data_dir: Path | None = None,
        clock: Clock = local_now,
        checklist: ChecklistDefinition | None = None,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        super().__init__(store, clock=clock, actor=actor, hasher=hasher)
        self.data_dir = data_dir
        self._checklist = checklist  # None: read on first use (see ClinicRecords.checklist)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Clock = local_now,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> Clinic:
        """Open (or create) a database file; nobody is signed in unless `actor` is given."""
        return cls(Store(path), data_dir=path.parent, clock=clock, actor=actor, hasher=hasher)

    @classmethod
    def in_memory(
        cls,
        *,
        data_dir: Path | None = None,
        clock: Clock = local_now,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> Clinic:
        return cls(Store(None), data_dir=data_dir, clock=clock, actor=actor, hasher=hasher)

    def close(self) -> None:
        self.store.close()

    # Signatures and sealed documents ----------------------------------------------------

    def _paper(self) -> Paperwork:
        from desktop.clinic.documents import Paperwork  # reportlab and pyHanko load on first use

        seal_dir = self.data_dir / "seal" if self.data_dir is not None else None
        return Paperwork(self.store, self.checklist, seal_dir, self.clock)

    def required_signers(self, consultation_id: str) -> tuple[SignerRole, ...]:
        self._require("patient.view")
        return self._paper().required_signers(self.store.get_consultation(consultation_id))

    def add_signature(
        self,
        consultation_id: str,
        role: str,
        signer_name: str,
        strokes: Sequence[Stroke],
        *,
        width: float,
        height: float,
        password: str = "",
    ) -> Signature:
        """Store a signer's pen strokes (the canonical record of the signature).

        The clinician signs as themselves: their role is checked and their password asked
        again, because a signature is a deliberate act.
        """
        user = self._require_signer(role)
        if role == "clinician":
            user = self.confirm_password(password)
            signer_name = signer_name if user.system else user.display_name
        c = self._draft(consultation_id)
        signature = self._paper().add_signature(c, role, signer_name, strokes, width, height)
        if role == "clinician" and not c.clinician:
            self.store.save_consultation(replace(c, clinician=signature.signer_name))
        self._audit("signature", f"consultation:{c.id}", c.patient_id, role=role)
        return signature

    def _require_signer(self, role: str) -> User:
        return self._require("signature.clinician" if role == "clinician" else "signature.capture")

    def remove_signature(self, consultation_id: str, role: str) -> None:
        self._require_signer(role)
        c = self._draft(consultation_id)
        self.store.delete_signature(consultation_id, role)
        self._audit("remove signature", f"consultation:{c.id}", c.patient_id, role=role)

    def signatures_for(self, consultation_id: str) -> list[Signature]:
        self._require("patient.view")
        return self.store.signatures_for(consultation_id)

    def set_photo_consent(self, consultation_id: str, other_use: bool) -> Consultation:
        """Record the patient's separate opt-in to photographs used beyond their record."""
        self._require("consultation.edit")
        c = replace(self._draft(consultation_id), photo_other_use=other_use, updated=self.clock())
        self.store.save_consultation(c)
        self._audit("update consultation", f"consultation:{c.id}", c.patient_id)
        return c

    def document_kinds(self, consultation_id: str) -> tuple[DocumentKind, ...]:
        """The sheets signing will produce: consent + aftercare, or the referral when deferred."""
        self._require("patient.view")
        return self._paper().kinds_for(self.store.get_consultation(consultation_id))

    def preview_pdf(self, consultation_id: str, kind: DocumentKind = "consent") -> bytes:
        """The real document as it would print now, unsealed, for the preview step."""
        self._require("patient.view")
        return self._paper().preview(self.store.get_consultation(consultation_id), kind)

    def sign_consultation(self, consultation_id: str) -> list[Document]:
        """Seal and store the sheets, then lock the consultation for good."""
        from desktop.checklist import assess, missing_required

        self._require("consultation.sign")
        c = self._draft(consultation_id)
        missing = missing_required(self.checklist, c.answers)
        if missing:
            raise ValidationError(
                "The checklist is incomplete; answer " + ", ".join(missing) + " before signing."
            )
        current = assess(self.checklist, c.answers, self._context(c))
        _, docs = self._paper().sign(c, current)
        self._audit("sign", f"consultation:{c.id}", c.patient_id, documents=[d.id for d in docs])
        return docs

    def documents_for(self, consultation_id: str) -> list[Document]:
        self._require("patient.view")
        return self.store.documents_for(consultation_id)

    def document_pdf(self, document_id: str, purpose: str = "view") -> bytes:
        """A stored, sealed PDF; `purpose` is view, print or export (each is audited)."""
        if purpose not in ("view", "print", "export"):
            raise ValidationError(f"Unknown purpose '{purpose}'; use view, print or export.")
        self._require("patient.view" if purpose == "view" else "document.print")
        data = self.store.document_pdf(document_id)
        doc = self.store.document(document_id)
        c = self.store.get_consultation(doc.consultation_id)
        self._audit(purpose, f"document:{document_id}", c.patient_id, kind=doc.kind)
        return data

    def verify_pdf(self, data: bytes) -> VerifyReport:
        self._require("patient.view")
        return self._paper().verify(data)

    def start_addendum(self, original_id: str, *, clinician: str = "") -> Consultation:
        """A new draft that corrects a signed consultation and references it."""
        user = self._require("consultation.edit")
        original = self.store.get_consultation(original_id)
        if original.state != "signed":
            raise Conflict("Only a signed consultation needs an addendum; edit the draft itself.")
        now = self.clock()
        addendum = replace(
            original,
            id=new_id(),
            clinician=clinician.strip() or original.clinician,
            date=self.today(),
            checklist_id=self.checklist.id,
            checklist_version=self.checklist.version,
            assessment=None,
            override=None,
            state="draft",
            amends_id=original.id,
            created=now,
            updated=now,
            signed_at=None,
            created_by=user.username,
        )
        addendum = self._reassessed(addendum)
        self.store.save_consultation(addendum)
        self._audit(
            "create consultation",
            f"consultation:{addendum.id}",
            addendum.patient_id,
            amends=original.id,
        )
        return addendum

    def setup(
        self,
        username: str,
        display_name: str,
        password: str,
        *,
        clinician: bool = False,
        clinic: Mapping[str, str] | None = None,
    ) -> User:
        """First run: the clinic's profile (name, address, phone) and its first administrator.

        Everything is checked before anything is written: a missing clinic name or a bad
        account field changes nothing.
        """
        if clinic is not None:
            if not str(clinic.get("name", "")).strip():
                raise ValidationError("Give the clinic's name; it heads every document.", "name")
            unknown = sorted(set(clinic) - {"name", "address", "phone"})
            if unknown:
                raise ValidationError(f"Unknown clinic detail: {unknown[0]}.", unknown[0])
            check_username(username)
            check_password(password)
        user = super().setup(username, display_name, password, clinician=clinician)
        if clinic is not None:
            self.update_profile(**clinic)
        return user

    def profile(self) -> ClinicProfile:
        return self._paper().profile()

    def update_profile(self, **fields: Any) -> ClinicProfile:
        """Change the clinic's details; a seal made here is renewed to carry a new name."""
        self._require("settings")
        paper = self._paper()
        before = paper.profile().name
        profile = paper.update_profile(**fields)
        self._audit("settings", "setting:clinic_profile", fields=sorted(fields))
        old = paper.seal_info() if profile.name != before else None
        if old is not None:
            new = paper.ensure_seal()
            if new.fingerprint_sha256 != old.fingerprint_sha256:
                self._audit(
                    "settings",
                    "seal",
                    renewed=new.fingerprint_sha256,
                    previous=old.fingerprint_sha256,
                )
        return profile

    def seal_info(self) -> SealInfo | None:
        return self._paper().seal_info()

    def import_seal(self, p12: bytes, password: str) -> SealInfo:
        self._require("seal")
        info = self._paper().import_seal(p12, password)
        self._audit("settings", "seal", imported=info.fingerprint_sha256)
        return info

    def export_certificate(self) -> bytes:
        self._require("seal")
        pem = self._paper().export_certificate()
        self._audit("export", "seal:certificate")
        return pem

    def is_demo(self) -> bool:
        return bool(self.store.get_setting("demo", False))

    def demo_accounts(self) -> list[tuple[str, str]]:
        """(user name, password) of the demo accounts, for a demo database's sign-in screen."""
        if not self.is_demo():
            return []
        return [(a["username"], a["password"]) for a in self.store.get_setting("demo_accounts", [])]

    # Settings ---------------------------------------------------------------------------

    def setting(self, key: str, default: Any = None) -> Any:
        return self.store.get_setting(key, default)

    def set_strict_mode(self, strict: bool) -> None:
        self._require("settings")
        self.store.set_setting("strict_mode", bool(strict))
        self._audit("settings", "setting:strict_mode", value=bool(strict))

    # Backup and restore -----------------------------------------------------------------

    def backup(self, dest: Path) -> Path:
        """Copy the database to `dest` (a file, or a folder for a timestamped name)."""
        self._require("backup")
        if dest.is_dir():
            dest = dest / f"clinic-backup-{self.clock().strftime('%Y%m%d-%H%M%S')}.sqlite"
        if dest.exists():
            raise Conflict(f"{dest} already exists; choose a new file name.")
        if not dest.parent.exists():
            raise ValidationError(f"The folder {dest.parent} does not exist.", "dest")
        fd, tmp_name = tempfile.mkstemp(prefix=".backup-", dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            self.store.backup_to(tmp)
            problems = integrity_errors(tmp)
            if problems:
                raise StorageError(f"The backup copy failed its integrity check: {problems[0]}.")
            tmp.chmod(0o600)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        self._audit("backup", f"file:{dest.name}")
        log.info("backup written to %s", dest)
        return dest

    def restore(self, src: Path) -> Path:
        """Replace this database with `src`; the current one is kept as a timestamped backup."""
        self._require("restore")
        if self.store.path is None:
            raise StorageError("An in-memory database cannot be restored into.")
        if not src.is_file():
            raise ValidationError(f"{src} does not exist or is not a file.", "src")
        problems = integrity_errors(src)
        if problems:
            raise StorageError(f"{src} cannot be restored: {problems[0]}. Nothing was changed.")
        target = self.store.path
        stamp = self.clock().strftime("%Y%m%d-%H%M%S")
        kept = self.backup(target.parent / f"{target.stem}-before-restore-{stamp}.sqlite")
        trail = self.accounts.entries()  # what happened here, to carry past the restore
        fd, tmp_name = tempfile.mkstemp(prefix=".restore-", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(src, tmp)
            tmp.chmod(0o600)
            self.store.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            tmp.replace(target)  # atomic: the old file or the new one, never half of each
        finally:
            tmp.unlink(missing_ok=True)
        self.store = Store(target)
        carried = self._carry_audit(trail, kept.name)
        self._audit("restore", f"file:{src.name}", kept=kept.name, carried=carried)
        log.info("database restored from %s; previous copy kept at %s", src, kept)
        return kept

    def _carry_audit(self, trail: Sequence[AuditEntry], kept: str) -> int:
        """Append to the restored trail what the replaced one recorded after the backup.

        The restored trail ends with an entry the replaced trail also holds (same number, same
        hash) when the backup was taken from this database: every later entry is appended
        again, with its own time, user, action and target, and its original number and hash
        in the detail. A backup of another history carries nothing. Returns the count.
        """
        last = self.accounts.entries("seq = (SELECT max(seq) FROM audit)")
        if last:
            shared = [
                i for i, e in enumerate(trail) if (e.seq, e.hash) == (last[0].seq, last[0].hash)
            ]
            if not shared:
                return 0
            later = trail[shared[0] + 1 :]
        else:
            later = list(trail)
        entry = None
        with self.store.transaction():
            for e in later:
                detail = {"carried_from": kept, "seq": e.seq, "hash": e.hash, "detail": e.detail}
                text = json.dumps(detail, sort_keys=True, ensure_ascii=False)
                entry = self.accounts.append(e.at, e.user, e.action, e.target, e.patient, text)
        if entry is not None:
            self._write_anchor(entry)
        return len(later)
