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
    from desktop.signing import SealInfo

# desktop.signing loads the cryptography stack: it is imported where a seal is used.

log = logging.getLogger(__name__)

CERT_KEY = "seal_certificate_pem"
# Every certificate the clinic has sealed with (PEM, oldest first), so that documents sealed
# before a renewal or an import still verify as the clinic's own.
CERT_HISTORY_KEY = "seal_certificate_history"
# "generated" (made here, renewed when the clinic is renamed) or "imported" (kept as is).
ORIGIN_KEY = "seal_origin"


class Seal:
    """The key and certificate that seal the clinic's documents (PAdES, desktop.signing).

    `seal_dir` holds the key and certificate files (None: a database without a folder, which
    cannot seal). `clinic_name` gives the name a seal made here must carry.
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        clock: Callable[[], datetime],
        seal_dir: Path | None,
        clinic_name: Callable[[], str],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._clock = clock
        self.seal_dir = seal_dir
        self._clinic_name = clinic_name

    def directory(self) -> Path:
        if self.seal_dir is None:
            raise SignatureError(
                "This database has no folder for the clinic seal; open it from a file."
            )
        return self.seal_dir

    def ensure(self) -> SealInfo:
        """The seal for the next document: made on first use, renewed after a clinic rename.

        A seal made here names the clinic; when the clinic's name has changed since, a new
        key and certificate with the new name replace it (an imported seal is never touched).
        """
        from desktop import signing

        name = " ".join(self._clinic_name().split())[:64] or "Clinic"
        info = signing.ensure_seal(self.directory(), name, self._clock())
        if info.common_name != name and self._origin(info) == "generated":
            old = info.common_name
            self._remember(info, None)
            info = signing.renew_seal(self.directory(), name, self._clock())
            log.info("clinic seal renewed after a rename (was %r)", old)
        self._remember(info, "generated" if self._origin(info) == "generated" else None)
        return info

    def follow_rename(self) -> None:
        """After the clinic's name changed: renew a seal made here (audited when renewed)."""
        old = self.info()
        if old is None:
            return
        new = self.ensure()
        if new.fingerprint_sha256 != old.fingerprint_sha256:
            self._audit.record(
                "settings", "seal", renewed=new.fingerprint_sha256, previous=old.fingerprint_sha256
            )

    def _origin(self, info: SealInfo) -> str:
        origin = self._store.settings.get(ORIGIN_KEY)
        if origin:
            return str(origin)
        # Databases from before the origin was recorded: a self-signed seal naming only the
        # clinic (as CN and O) was made here.
        return "generated" if info.name_only_self_signed else ""

    def _remember(self, info: SealInfo, origin: str | None) -> None:
        """Make `info` the current certificate, keeping every earlier one in the history."""
        settings = self._store.settings
        pem = info.cert_pem.decode()
        history = self.certificates()  # before the current one changes
        if pem not in history:
            settings.set(CERT_HISTORY_KEY, [*history, pem])
        if settings.get(CERT_KEY) != pem:
            settings.set(CERT_KEY, pem)
        if origin is not None and settings.get(ORIGIN_KEY) != origin:
            settings.set(ORIGIN_KEY, origin)

    def current_certificate(self) -> str | None:
        """The PEM certificate of the seal in use, as recorded in the database."""
        pem = self._store.settings.get(CERT_KEY)
        return str(pem) if pem else None

    def certificates(self) -> list[str]:
        """Every certificate this clinic has sealed with (PEM), oldest first."""
        history = [str(p) for p in self._store.settings.get(CERT_HISTORY_KEY, []) or []]
        current = self._store.settings.get(CERT_KEY)
        if current and current not in history:
            history.append(str(current))  # recorded before the history was kept
        return history

    def info(self) -> SealInfo | None:
        """The seal's details (common name, fingerprint, validity), or None if none exists."""
        if self.seal_dir is None:
            return None
        from desktop import signing

        return signing.load_seal_info(self.seal_dir)

    def import_pkcs12(self, p12: bytes, password: str) -> SealInfo:
        """Use a key and certificate from a PKCS#12 file as the clinic seal (audited)."""
        self._session.require("seal")
        from desktop import signing

        info = signing.import_pkcs12(self.directory(), p12, password)
        self._remember(info, "imported")
        self._audit.record("settings", "seal", imported=info.fingerprint_sha256)
        return info

    def export_certificate(self) -> bytes:
        """The seal's certificate (PEM) for others to check documents with (audited)."""
        self._session.require("seal")
        pem = self.ensure().cert_pem
        self._audit.record("export", "seal:certificate")
        return pem
