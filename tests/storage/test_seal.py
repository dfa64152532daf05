"""The seal's rows: one current seal, an append-only history it always belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.errors import Conflict
from desktop.storage import SqliteStore


def install(store: SqliteStore, fp: str, origin: str = "generated") -> None:
    store.seal.install(
        fingerprint=fp,
        certificate_pem=f"CERT {fp}",
        key_pem=f"KEY {fp}".encode(),
        chain_pem=f"CHAIN {fp}".encode(),
        origin=origin,  # type: ignore[arg-type]
        at="2026-11-25T10:30:00+01:00",
    )


def test_installing_replaces_the_seal_and_keeps_every_certificate(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.sqlite")
    assert store.seal.current() is None and store.seal.certificates() == []
    install(store, "aa")
    install(store, "bb", "imported")
    install(store, "aa")  # back to an earlier one: the history does not repeat it
    current = store.seal.current()
    assert current is not None
    assert (current.fingerprint, current.key_pem, current.chain_pem, current.origin) == (
        "aa", b"KEY aa", b"CHAIN aa", "generated")  # fmt: skip
    assert "KEY" not in repr(current)
    assert store.seal.certificates() == ["CERT aa", "CERT bb"]
    store.close()


def test_the_current_seal_must_be_in_the_history(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.sqlite")
    with pytest.raises(Conflict, match="FOREIGN KEY"):
        store.write(
            "INSERT INTO seal (slot, fingerprint, private_key, chain, origin, since) "
            "VALUES (1, 'nowhere', 'k', 'c', 'generated', 'now')"
        )
    with pytest.raises(Conflict, match="CHECK"):
        install(store, "cc", "borrowed")
    assert store.seal.current() is None and store.seal.certificates() == []  # all or nothing
    store.close()


def test_legacy_settings_are_read_and_forgotten(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.sqlite")
    store.settings.set("seal_certificate_pem", "PEM")
    store.settings.set("seal_origin", "imported")
    store.settings.set("clinic_profile", {"name": "Northgate"})
    assert store.seal.legacy_settings() == {
        "seal_certificate_pem": "PEM",
        "seal_origin": "imported",
    }
    store.seal.forget_legacy_settings()
    assert store.seal.legacy_settings() == {}
    assert store.settings.get("clinic_profile") == {"name": "Northgate"}
    store.close()
