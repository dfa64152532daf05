"""The clinic seal's rows: the current key and chain, and every certificate the clinic has had."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from desktop.storage.store import Store

Origin = Literal["generated", "imported"]

# Where databases before migration 0005 kept the seal's certificates (JSON settings values):
# the current certificate (PEM), every earlier one (a list of PEM, oldest first), and whether
# the seal was made here or imported.
LEGACY_SETTINGS = ("seal_certificate_pem", "seal_certificate_history", "seal_origin")


@dataclass(frozen=True)
class StoredSeal:
    """The seal in use: `chain_pem` holds its certificate first, then any issuers (PEM)."""

    fingerprint: str  # SHA-256 of the DER certificate, lower-case hex
    key_pem: bytes = field(repr=False)  # PKCS#8, unencrypted
    chain_pem: bytes
    origin: Origin
    since: str  # ISO time it became the clinic's seal


class SealRepository:
    """One current seal (table `seal`, at most one row) and the append-only certificate history
    (`seal_certificates`, oldest first). The current seal's certificate is always in the
    history (a foreign key), so a document it sealed stays verifiable after a replacement."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def current(self) -> StoredSeal | None:
        rows = self._store.rows(
            "SELECT fingerprint, private_key, chain, origin, since FROM seal WHERE slot = 1"
        )
        if not rows:
            return None
        r = rows[0]
        return StoredSeal(
            fingerprint=r["fingerprint"],
            key_pem=str(r["private_key"]).encode("ascii"),
            chain_pem=str(r["chain"]).encode("ascii"),
            origin=r["origin"],
            since=r["since"],
        )

    def certificates(self) -> list[str]:
        """Every certificate the clinic has sealed with (PEM), oldest first."""
        rows = self._store.rows("SELECT certificate FROM seal_certificates ORDER BY seq")
        return [str(r["certificate"]) for r in rows]

    def remember(self, fingerprint: str, certificate_pem: str, at: str) -> None:
        """Add a certificate to the history (nothing happens if it is there already)."""
        # The number is given here (under the write lock), not left to SQLite's rowid: the
        # same statement works on the server, and a move copies it as it is.
        self._store.write(
            "INSERT INTO seal_certificates (seq, fingerprint, certificate, added) "
            "SELECT coalesce(max(seq), 0) + 1, ?, ?, ? FROM seal_certificates WHERE true "
            "ON CONFLICT (fingerprint) DO NOTHING",
            [fingerprint, certificate_pem, at],
        )

    def install(
        self,
        *,
        fingerprint: str,
        certificate_pem: str,
        key_pem: bytes,
        chain_pem: bytes,
        origin: Origin,
        at: str,
    ) -> None:
        """Make this key and chain the clinic's seal, its certificate joining the history; the
        previous seal (if any) is replaced, its certificate staying in the history. Atomic."""
        with self._store.transaction():
            self.remember(fingerprint, certificate_pem, at)
            self._store.execute(
                "INSERT INTO seal (slot, fingerprint, private_key, chain, origin, since) "
                "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, private_key = excluded.private_key, "
                "chain = excluded.chain, origin = excluded.origin, since = excluded.since",
                [fingerprint, key_pem.decode("ascii"), chain_pem.decode("ascii"), origin, at],
            )

    # Databases from before the seal lived here ------------------------------------------

    def legacy_settings(self) -> dict[str, Any]:
        """The seal settings an older version kept (see LEGACY_SETTINGS), those present."""
        values = {key: self._store.settings.get(key) for key in LEGACY_SETTINGS}
        return {key: value for key, value in values.items() if value is not None}

    def forget_legacy_settings(self) -> None:
        """Drop those settings once their content has moved into the seal tables."""
        marks = ", ".join("?" * len(LEGACY_SETTINGS))
        self._store.write(f"DELETE FROM settings WHERE key IN ({marks})", list(LEGACY_SETTINGS))
