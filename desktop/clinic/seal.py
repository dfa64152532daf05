"""The clinic seal: made on first use, renewed after a rename, imported from PKCS#12, remembered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.clinic.audit_log import AuditLog
from desktop.errors import SignatureError
from desktop.storage import Store

if TYPE_CHECKING:
    from desktop.clinic.session import Session
    from desktop.signing import SealInfo, SealMaterial
    from desktop.storage.seal import Origin, StoredSeal

# desktop.signing loads the cryptography stack: it is imported where a seal is used.

log = logging.getLogger(__name__)


class Seal:
    """The key and certificate chain that seal the clinic's documents (PAdES, desktop.signing).

    They live in the database (so backups, restores and every workstation carry them), with
    every certificate the clinic has sealed with, so that documents sealed before a renewal or
    an import still verify as the clinic's own. `clinic_name` gives the name a seal made here
    must carry. `legacy_dir` is the folder in which versions before the seal moved into the
    database kept it (`<database folder>/seal`); on first use its seal and the certificate
    history from the settings move into the database, in one transaction.
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        legacy_dir: Path | None,
        clinic_name: Callable[[], str],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self._legacy_dir = legacy_dir
        self._clinic_name = clinic_name
        self._settled = False  # nothing (more) to move in from an older version

    def ensure(self) -> SealInfo:
        """The seal for the next document: made on first use, renewed after a clinic rename.

        A seal made here names the clinic; when the clinic's name has changed since, a new
        key and certificate with the new name replace it (an imported seal is never touched).
        Several programs may ask at once: exactly one seal is made, and all of them use it.
        """
        return self.material().info()

    def material(self) -> SealMaterial:
        """The key and certificate chain to seal the next documents with (as `ensure`)."""
        self._settle()
        name = self._name()
        stored = self._store.seal.current()
        if stored is not None and not self._needs_renewal(stored, name):
            return self._material(stored)
        with self._store.transaction():  # a write lock: one program makes or renews the seal
            stored = self._store.seal.current()  # another program may have done it meanwhile
            if stored is None:
                material = self._install_new(name, "created")
            elif self._needs_renewal(stored, name):
                material = self._install_new(name, "renewed", previous=stored.fingerprint)
            else:
                material = self._material(stored)
        return material

    def _name(self) -> str:
        return " ".join(self._clinic_name().split())[:64] or "Clinic"

    def _needs_renewal(self, stored: StoredSeal, name: str) -> bool:
        from desktop import signing

        if stored.origin != "generated":
            return False
        return signing.certificate_info(stored.chain_pem).common_name != name

    def _material(self, stored: StoredSeal) -> SealMaterial:
        from desktop import signing

        try:
            return signing.check_material(stored.key_pem, stored.chain_pem)
        except SignatureError as exc:
            raise SignatureError(
                f"The clinic seal stored in the database cannot be used ({exc}); import the "
                "clinic's seal again (Settings, Import seal) or restore a backup."
            ) from exc

    def _install_new(self, name: str, what: str, previous: str | None = None) -> SealMaterial:
        """Make a seal naming the clinic and install it (inside the caller's transaction)."""
        from desktop import signing

        material = signing.generate_seal(name, self._clock())
        fingerprint = self._install(material, "generated")
        detail = {what: fingerprint} | ({"previous": previous} if previous else {})
        self._audit.record("settings", "seal", **detail)
        log.info("clinic seal %s for %r", what, name)
        return material

    def _install(self, material: SealMaterial, origin: Origin) -> str:
        info = material.info()
        self._store.seal.install(
            fingerprint=info.fingerprint_sha256,
            certificate_pem=info.cert_pem.decode("ascii"),
            key_pem=material.key_pem,
            chain_pem=material.chain_pem,
            origin=origin,
            at=self._clock().isoformat(),
        )
        return info.fingerprint_sha256

    def follow_rename(self) -> None:
        """After the clinic's name changed: renew a seal made here (audited when renewed)."""
        self._settle()
        if self._store.seal.current() is not None:
            self.material()

    def current_certificate(self) -> str | None:
        """The PEM certificate of the seal in use, or None before the first seal."""
        self._settle()
        stored = self._store.seal.current()
        if stored is None:
            return None
        from desktop import signing

        return signing.certificate_info(stored.chain_pem).cert_pem.decode("ascii")

    def certificates(self) -> list[str]:
        """Every certificate this clinic has sealed with (PEM), oldest first."""
        self._settle()
        return self._store.seal.certificates()

    def info(self) -> SealInfo | None:
        """The seal's details (common name, fingerprint, validity), or None if none exists."""
        self._settle()
        stored = self._store.seal.current()
        if stored is None:
            return None
        from desktop import signing

        return signing.certificate_info(stored.chain_pem)

    def import_pkcs12(self, p12: bytes, password: str) -> SealInfo:
        """Use a key and certificate chain from a PKCS#12 file as the clinic seal (audited).

        A test document is sealed and verified with it first; the previous certificate stays
        in the history. Raises SignatureError (nothing changed) for a wrong password, a
        certificate that does not belong to the key, is expired or cannot seal.
        """
        self._session.require("seal")
        from desktop import signing

        self._settle()
        material = signing.material_from_pkcs12(p12, password, self._clock())
        info = signing.trial_seal(material)
        with self._store.transaction():
            self._install(material, "imported")
            self._audit.record("settings", "seal", imported=info.fingerprint_sha256)
        log.info("clinic seal imported: %s (%s)", info.subject, info.fingerprint_sha256[:16])
        return info

    def export_certificate(self) -> bytes:
        """The seal's certificate (PEM) for others to check documents with (audited)."""
        self._session.require("seal")
        pem = self.ensure().cert_pem
        self._audit.record("export", "seal:certificate")
        return pem

    # Databases of versions before the seal moved into it --------------------------------

    def _settle(self) -> None:
        """Move an older version's seal (folder and settings) into the database, once."""
        if self._settled:
            return
        if self._legacy_pending():
            with self._store.transaction():
                if self._legacy_pending():  # not moved by another program meanwhile
                    self._adopt_legacy()
        self._settled = True

    def _legacy_pending(self) -> bool:
        """No seal and no history yet, but an older version's settings or seal folder."""
        seal = self._store.seal
        if seal.current() is not None or seal.certificates():
            return False
        folder = self._legacy_dir
        return bool(seal.legacy_settings()) or (folder is not None and folder.is_dir())

    def _adopt_legacy(self) -> None:
        """Copy the certificate history, the seal and its origin in (the caller's transaction).

        An unusable old seal (a key without its certificate, or a pair that does not belong
        together) moves its certificates into the history; a new seal is made on first use.
        """
        from desktop import signing

        settings = self._store.seal.legacy_settings()
        folder = signing.read_legacy_folder(self._legacy_dir) if self._legacy_dir else None
        history = [str(p) for p in settings.get("seal_certificate_history") or []]
        if settings.get("seal_certificate_pem"):
            history.append(str(settings["seal_certificate_pem"]))
        pems = [p.encode("ascii") for p in history] + (folder.certificates if folder else [])
        at = self._clock().isoformat()
        kept: set[str] = set()
        for pem in pems:
            try:
                info = signing.certificate_info(pem)
            except SignatureError:
                log.warning("an unreadable certificate in the seal history was skipped")
                continue
            self._store.seal.remember(info.fingerprint_sha256, info.cert_pem.decode("ascii"), at)
            kept.add(info.fingerprint_sha256)
        current = ""
        if folder is not None and folder.material is not None:
            material = folder.material
            origin = settings.get("seal_origin") or (
                "generated" if material.info().name_only_self_signed else "imported"
            )
            current = self._install(material, "generated" if origin == "generated" else "imported")
        elif folder is not None:
            log.warning(
                "the old seal in %s cannot be used (%s): a new one will be made",
                self._legacy_dir,
                folder.problem,
            )
        if settings:
            self._store.seal.forget_legacy_settings()
        if kept or current:
            unusable = folder.problem if folder is not None and folder.problem else ""
            self._audit.record(
                "settings",
                "seal",
                moved_into_database=current,
                certificates=len(kept),
                **({"unusable": unusable} if unusable else {}),
            )
            log.info("clinic seal moved into the database (%d certificates)", len(kept))
