"""The clinic seal through Clinic: kept in the database, made once, carried by backups, imported
after a test seal, moved in from an older version's folder, and whole after a crash."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlite_utils import Database

from desktop import signing
from desktop.clinic import Clinic
from desktop.errors import SignatureError
from desktop.storage.migrations import MIGRATIONS
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.helpers.paths import ROOT
from tests.helpers.pki import NOW, ca_chain, make_p12, p12_of, p12_with_a_foreign_certificate
from tests.helpers.pki import self_signed as self_signed_cert

PDFSIG = shutil.which("pdfsig")
needs_pdfsig = pytest.mark.skipif(PDFSIG is None, reason="poppler's pdfsig is not installed")


def pdfsig_valid(pdf: bytes, folder: Path) -> bool:
    """What poppler says of the seal: valid, covering the whole file."""
    assert PDFSIG is not None
    path = folder / "check.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False).stdout
    return "Signature is Valid" in out and "Total document signed" in out


def seal_audit(db: Path) -> list[str]:
    """The details of the audit rows about the seal, oldest first."""
    raw = sqlite3.connect(db)
    try:
        rows = raw.execute(
            "SELECT detail FROM audit WHERE action = 'settings' AND target = 'seal' ORDER BY seq"
        )
        return [r[0] for r in rows]
    finally:
        raw.close()


def seal_rows(db: Path) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(current seal: fingerprint and origin), history fingerprints, seal audit details."""
    raw = sqlite3.connect(db)
    try:
        current = raw.execute("SELECT fingerprint, origin FROM seal").fetchall()
        rows = raw.execute("SELECT fingerprint FROM seal_certificates ORDER BY seq")
        history = [r[0] for r in rows]
    finally:
        raw.close()
    return current, history, seal_audit(db)


def open_owner(path: Path, clock: FakeClock | None = None) -> Clinic:
    """Open a database and sign in as its owner (set up on first open)."""
    if clock is None:
        clinic = Clinic.open(path, hasher=FAST_HASHER)
    else:
        clinic = Clinic.open(path, clock=clock, hasher=FAST_HASHER)
    if clinic.accounts.needs_setup():
        return signed_in(clinic)
    clinic.session.login("owner", OWNER_PASSWORD)
    return clinic


def prepare(path: Path, count: int, clock: FakeClock | None = None) -> list[str]:
    """A database with `count` consultations ready to sign, and no seal yet."""
    clinic = open_owner(path, clock)
    ids = []
    for i in range(count):
        cid = ready(clinic, given_name=f"Łukasz{i}")
        sign_all(clinic, cid)
        ids.append(cid)
    clinic.close()
    return ids


def sign_and_check(clinic: Clinic, cid: str, folder: Path) -> list[bytes]:
    docs = clinic.documents.sign(cid)
    pdfs = [clinic.documents.pdf(d.id) for d in docs]
    for pdf in pdfs:
        report = clinic.documents.verify(pdf)
        assert report.valid, report.reason
        if PDFSIG:
            assert pdfsig_valid(pdf, folder)
    return pdfs


# -- where the seal lives -----------------------------------------------------------------------


def test_the_seal_is_made_once_in_the_database_and_nowhere_else(
    disk_clinic: Clinic, tmp_path: Path
) -> None:
    clinic = disk_clinic
    assert clinic.seal.info() is None and clinic.seal.certificates() == []
    assert clinic.seal.current_certificate() is None
    cid = ready(clinic)
    sign_all(clinic, cid)
    sign_and_check(clinic, cid, tmp_path)
    info = clinic.seal.info()
    assert info is not None and info.key_type == "EC P-256"
    assert clinic.seal.ensure() == info  # made once
    assert clinic.seal.certificates() == [info.cert_pem.decode()]
    assert clinic.seal.current_certificate() == info.cert_pem.decode()
    assert clinic.seal.export_certificate() == info.cert_pem
    assert not (tmp_path / "seal").exists()  # no files beside the database any more
    assert clinic._store.path is not None
    current, history, audit = seal_rows(clinic._store.path)
    assert current == [(info.fingerprint_sha256, "generated")]
    assert history == [info.fingerprint_sha256]
    assert [json.loads(d) for d in audit] == [{"created": info.fingerprint_sha256}]


def test_a_clinic_in_memory_seals_too(clinic: Clinic) -> None:
    cid = ready(clinic)
    sign_all(clinic, cid)
    doc = clinic.documents.sign(cid)[0]
    assert clinic.documents.verify(clinic.documents.pdf(doc.id)).valid


def test_a_rename_renews_a_seal_made_here_in_one_step(disk_clinic: Clinic) -> None:
    clinic = disk_clinic
    first = clinic.seal.ensure()
    clinic.settings.update_profile(name="Northgate Skin & Laser")
    renewed = clinic.seal.info()
    assert renewed is not None and renewed.common_name == "Northgate Skin & Laser"
    assert clinic.seal.certificates() == [first.cert_pem.decode(), renewed.cert_pem.decode()]
    assert clinic._store.path is not None
    _, history, audit = seal_rows(clinic._store.path)
    assert history == [first.fingerprint_sha256, renewed.fingerprint_sha256]
    assert json.loads(audit[-1]) == {
        "renewed": renewed.fingerprint_sha256,
        "previous": first.fingerprint_sha256,
    }


def test_the_certificate_history_cannot_be_rewritten(disk_clinic: Clinic) -> None:
    disk_clinic.seal.ensure()
    assert disk_clinic._store.path is not None
    raw = sqlite3.connect(disk_clinic._store.path)
    for sql in ("UPDATE seal_certificates SET certificate = 'x'", "DELETE FROM seal_certificates"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(sql)
    with pytest.raises(sqlite3.IntegrityError):
        raw.execute(
            "INSERT INTO seal (slot, fingerprint, private_key, chain, origin, since) "
            "SELECT 2, fingerprint, private_key, chain, origin, since FROM seal"
        )
    raw.close()


# -- backups carry it ---------------------------------------------------------------------------


def test_a_backup_carries_the_seal_to_another_folder(tmp_path: Path, clock: FakeClock) -> None:
    a = open_owner(tmp_path / "a" / "clinic.sqlite", clock)
    cid = ready(a)
    sign_all(a, cid)
    old_pdf = a.documents.pdf(a.documents.sign(cid)[0].id)
    sealed_with = a.seal.info()
    assert sealed_with is not None
    copy = a.backups.backup(tmp_path / "backup.sqlite")

    elsewhere = tmp_path / "elsewhere" / "clinic.sqlite"
    elsewhere.parent.mkdir()
    shutil.copy(copy, elsewhere)
    b = open_owner(elsewhere, clock)
    assert b.seal.info() == sealed_with
    assert b.documents.verify(old_pdf).valid
    cid2 = ready(b, given_name="Zoë", family_name="Ødegård")
    sign_all(b, cid2)
    new_pdf = sign_and_check(b, cid2, tmp_path)[0]
    assert b.seal.certificates() == [sealed_with.cert_pem.decode()]  # no second seal made
    seen_by_a = a.documents.verify(new_pdf).seal  # the same seal: a recognises it as its own
    assert seen_by_a is not None and seen_by_a.signed_by_clinic

    c = open_owner(tmp_path / "c" / "clinic.sqlite", clock)
    own = c.seal.ensure()
    c.backups.restore(copy, other_clinic=True)  # A's backup, restored into clinic C
    assert c.seal.info() == sealed_with != own
    assert c.documents.verify(old_pdf).valid
    for clinic in (a, b, c):
        clinic.close()


# -- importing a seal ---------------------------------------------------------------------------


def test_importing_a_seal_with_a_ca_chain(disk_clinic: Clinic, tmp_path: Path) -> None:
    clinic = disk_clinic
    first = ready(clinic)
    sign_all(clinic, first)
    before = sign_and_check(clinic, first, tmp_path)[0]
    made_here = clinic.seal.info()
    assert made_here is not None
    chain = ca_chain()
    info = clinic.seal.import_pkcs12(chain.p12(b"correct pw"), "correct pw")
    assert info.key_type == "RSA 3072" and info.common_name.endswith("(CA issued)")
    assert clinic.seal.info() == info
    clinic.settings.update_profile(name="Northgate Skin & Laser")  # an imported seal stays
    assert clinic.seal.info() == info
    second = ready(clinic, given_name="Mei", family_name="Chen")
    sign_all(clinic, second)
    after = sign_and_check(clinic, second, tmp_path)  # verify() and pdfsig, both sheets
    assert all(clinic.documents.verify(pdf).seal.signer == info.common_name for pdf in after)  # type: ignore[union-attr]
    report = clinic.documents.verify(before)
    assert report.valid and "earlier seal" in report.reason
    assert clinic.seal.certificates() == [made_here.cert_pem.decode(), info.cert_pem.decode()]
    assert clinic._store.path is not None
    current, _, audit = seal_rows(clinic._store.path)
    assert current == [(info.fingerprint_sha256, "imported")]
    assert json.loads(audit[-1]) == {"imported": info.fingerprint_sha256}
    raw = clinic._store.path.read_bytes()
    assert b"correct pw" not in raw  # the password opened the file; it is kept nowhere


def state(clinic: Clinic) -> tuple[object, ...]:
    assert clinic._store.path is not None
    return (clinic.seal.info(), clinic.seal.certificates(), seal_rows(clinic._store.path),
            len(clinic.audit.entries(limit=-1)))  # fmt: skip


def test_a_refused_import_changes_nothing(
    disk_clinic: Clinic, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = disk_clinic
    clinic.seal.ensure()
    before = state(clinic)
    key = ec.generate_private_key(ec.SECP256R1())
    expired = self_signed_cert(key, "Northgate", not_before=NOW - timedelta(days=400), days=30)
    refusals = [
        (make_p12(key, "Northgate", b"right"), "wrong", "password is wrong"),
        (b"not a p12 at all", "", "password is wrong"),
        (p12_with_a_foreign_certificate(), "", "does not belong to its key"),
        (p12_of(key, expired, b"pw"), "pw", "expired"),
    ]
    for data, password, message in refusals:
        with pytest.raises(SignatureError, match=message):
            clinic.seal.import_pkcs12(data, password)
        assert state(clinic) == before, message
    # A seal that opens but cannot seal (here: too little room reserved for its signature)
    # fails the test seal and is refused as well.
    monkeypatch.setattr(signing.keys, "_CMS_OVERHEAD", -3000)
    with pytest.raises(SignatureError, match="A test seal with this certificate failed"):
        clinic.seal.import_pkcs12(ca_chain().p12(b"pw"), "pw")
    assert state(clinic) == before


# -- databases of versions that kept the seal in a folder --------------------------------------


@dataclass
class OldClinic:
    db: Path
    folder: Path
    pdfs: list[bytes]  # sealed before the upgrade, by each certificate in turn
    certificates: list[str]  # the history the old version recorded, oldest first
    current: signing.SealMaterial
    ready_id: str  # a consultation left ready to sign
    audited: int  # audit rows about the seal before the upgrade


def schema_sql(db: Path) -> list[tuple[str, str, str]]:
    raw = sqlite3.connect(db)
    try:
        rows = raw.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
        return sorted(rows.fetchall())
    finally:
        raw.close()


# Rows go in this order: the immutability triggers refuse documents and signatures of a
# consultation that is already signed, so those come before the consultations.
_ROW_ORDER = ("documents", "signatures", "test_spot_reviews")


def back_before_0005(db: Path) -> None:
    """Replace `db` with a database at the schema before 0005 holding the same rows (the
    columns that schema has): what a clinic upgraded from that version starts from."""
    old = db.with_name("old.sqlite")
    MIGRATIONS.apply(Database(old), stop_before="0005_seal_in_database")
    raw = sqlite3.connect(old)
    try:
        raw.execute("ATTACH DATABASE ? AS now", [str(db)])
        tables = [
            r[0]
            for r in raw.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite_%' AND name NOT LIKE 'patients_fts%' AND name != '_sqlite_migrations'"
            )
        ]
        tables.sort(key=lambda name: (name not in _ROW_ORDER, name))
        with raw:
            raw.execute("DELETE FROM main.settings")
            for table in tables:
                mine = {r[1] for r in raw.execute(f"PRAGMA main.table_info({table})")}
                theirs = [r[1] for r in raw.execute(f"PRAGMA now.table_info({table})")]
                cols = ", ".join(f'"{c}"' for c in theirs if c in mine)
                raw.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM now.{table}")
        raw.execute("DETACH DATABASE now")
    finally:
        raw.close()
    for extra in db.parent.glob(db.name + "-*"):
        extra.unlink()
    old.replace(db)


def make_old_clinic(root: Path, origin: str = "generated", *, renewed: bool = True) -> OldClinic:
    """A clinic as versions before the seal moved into the database left it.

    Its documents are sealed for real (by the seal made on first use and, after a rename, by
    its renewal); then the database is taken back to the schema before migration 0005, and the
    seal written out as those versions kept it: `seal/` beside the database (0700) with the key
    (PKCS#8 PEM) and certificate chain (PEM) files (0600), the replaced certificate set aside as
    `<cert file>.replaced-<UTC time>`, and the certificate history and origin in the settings.
    """
    db = root / "clinic.sqlite"
    clinic = open_owner(db)
    clinic.settings.update_profile(name="Northgate Skin Clinic")
    ids = [ready(clinic, given_name=f"Ana{i}") for i in range(3)]
    pdfs = []
    for n, cid in enumerate(ids[:2]):
        if n and renewed:
            clinic.settings.update_profile(name="Northgate Skin & Laser")
        sign_all(clinic, cid)
        pdfs.append(clinic.documents.pdf(clinic.documents.sign(cid)[0].id))
    sign_all(clinic, ids[2])
    current = clinic.seal.material()
    certificates = clinic.seal.certificates()
    clinic.close()

    back_before_0005(db)
    raw = sqlite3.connect(db)
    with raw:
        for key, value in (("seal_certificate_pem", certificates[-1]),
                           ("seal_certificate_history", certificates),
                           ("seal_origin", origin)):  # fmt: skip
            raw.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [key, json.dumps(value)])
    raw.close()
    reference = root / "reference.sqlite"  # the schema as the old version made it
    MIGRATIONS.apply(Database(reference), stop_before="0005_seal_in_database")
    assert schema_sql(db) == schema_sql(reference)
    reference.unlink()

    folder = root / "seal"
    folder.mkdir(mode=0o700)
    files = {signing.KEY_FILE: current.key_pem, signing.CERT_FILE: current.chain_pem}
    if renewed:
        files[f"{signing.CERT_FILE}.replaced-20261125T093000Z"] = certificates[0].encode()
    for name, data in files.items():
        (folder / name).write_bytes(data)
        (folder / name).chmod(0o600)
    return OldClinic(db, folder, pdfs, certificates, current, ids[2], len(seal_audit(db)))


def test_an_old_seal_folder_moves_into_the_database(tmp_path: Path) -> None:
    old = make_old_clinic(tmp_path)
    clinic = open_owner(old.db)
    assert "0005_seal_in_database" in clinic._store.applied_migrations()
    assert clinic.seal.certificates() == old.certificates  # history, oldest first
    assert clinic.seal.material() == old.current  # the same key and chain
    for pdf in old.pdfs:
        assert clinic.documents.verify(pdf).valid
    assert clinic.settings.get("seal_certificate_history") is None  # moved, not copied
    _, _, audit = seal_rows(old.db)
    assert [json.loads(d) for d in audit[old.audited :]] == [
        {"moved_into_database": old.current.info().fingerprint_sha256, "certificates": 2}
    ]
    shutil.rmtree(old.folder)  # no longer used: the files may go
    sign_and_check(clinic, old.ready_id, tmp_path)
    assert clinic.seal.info() == old.current.info()
    clinic.settings.update_profile(name="Northgate Aesthetics")  # made here: still renewed
    info = clinic.seal.info()
    assert info is not None and info.common_name == "Northgate Aesthetics"
    assert len(clinic.seal.certificates()) == 3
    clinic.close()
    assert seal_rows(old.db)[0][0][1] == "generated"


def test_an_imported_seal_from_a_folder_stays_imported(tmp_path: Path) -> None:
    old = make_old_clinic(tmp_path, origin="imported", renewed=False)
    clinic = open_owner(old.db)
    clinic.settings.update_profile(name="Another Name Entirely")
    assert clinic.seal.material() == old.current  # an imported seal is never renewed
    assert seal_rows(old.db)[0] == [(old.current.info().fingerprint_sha256, "imported")]
    clinic.close()


def test_an_unusable_old_seal_keeps_its_certificates_and_a_new_seal_is_made(
    tmp_path: Path,
) -> None:
    old = make_old_clinic(tmp_path)
    (old.folder / signing.CERT_FILE).unlink()  # a crash between the key and the certificate
    clinic = open_owner(old.db)
    assert clinic.seal.certificates() == old.certificates
    assert clinic.seal.info() is None
    new_pdf = sign_and_check(clinic, old.ready_id, tmp_path)[0]
    fresh = clinic.seal.info()
    assert fresh is not None and fresh.fingerprint_sha256 not in str(old.certificates)
    assert clinic.seal.certificates() == [*old.certificates, fresh.cert_pem.decode()]
    for pdf in old.pdfs:
        report = clinic.documents.verify(pdf)
        assert report.valid and "earlier seal" in report.reason
    assert clinic.documents.verify(new_pdf).valid
    clinic.close()


# -- several programs at once, and crashes (real processes) -----------------------------------


def worker(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.clinic.seal_worker", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def await_ready(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    line = child.stdout.readline()
    if line != "ready\n":
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the worker did not start: {line!r} {err}")


@pytest.mark.slow
@pytest.mark.parametrize("with_old_folder", [False, True])
def test_programs_sealing_their_first_documents_at_once_share_one_seal(
    tmp_path: Path, with_old_folder: bool
) -> None:
    runs, programs = (12, 3) if not with_old_folder else (4, 3)
    for run in range(runs):
        folder = tmp_path / f"run{run}"
        if with_old_folder:
            old = make_old_clinic(folder)
            ids = [old.ready_id, *prepare(old.db, programs - 1)]
        else:
            ids = prepare(folder / "clinic.sqlite", programs)
        db, go = folder / "clinic.sqlite", folder / "go"
        children = [worker("sign", db, cid, go) for cid in ids]
        for child in children:
            await_ready(child)
        go.touch()
        for child in children:
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err
            assert len(json.loads(out.splitlines()[-1])) == 2
        current, history, audit = seal_rows(db)
        assert len(current) == 1
        if with_old_folder:
            assert current[0][0] == old.current.info().fingerprint_sha256
            assert len(history) == 2 and len(audit) == old.audited + 1  # moved in once
        else:
            assert len(history) == 1 and len(audit) == 1  # made once
        clinic = open_owner(db)
        for cid in ids:
            for doc in clinic.documents.for_consultation(cid):
                pdf = clinic.documents.pdf(doc.id)
                report = clinic.documents.verify(pdf)
                assert report.valid and "earlier seal" not in report.reason, report.reason
                if PDFSIG:
                    assert pdfsig_valid(pdf, folder)
        clinic.close()


@dataclass
class Kill:
    steps_started: int
    interrupted: bool  # killed between "start N" and "done N"
    finished: bool  # killed only after the last step


def kill_at_random(child: subprocess.Popen[str], rng: random.Random, longest: float) -> Kill:
    """SIGKILL the child at a random moment of its work: once it has started a random number
    of steps (so the machine's speed cannot let it finish first), then after a random pause
    of up to a few milliseconds (anywhere inside that step or the next)."""
    assert child.stdout is not None
    wanted = rng.randint(1, 60)
    seen: list[str] = []
    while sum(line.startswith("start ") for line in seen) < wanted:
        line = child.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
    time.sleep(rng.uniform(0.0, longest / 100))
    os.kill(child.pid, signal.SIGKILL)
    out, err = child.communicate(timeout=60)
    lines = seen + out.split("\n")
    assert child.returncode == -signal.SIGKILL, f"{child.returncode}: {lines[-5:]} {err}"
    started = [int(x.split()[1]) for x in lines if x.startswith("start ")]
    done = {int(x.split()[1]) for x in lines if x.startswith("done ")}
    interrupted = bool(started) and started[-1] not in done
    return Kill(len(started), interrupted, "finished" in lines)


@pytest.fixture(scope="module")
def ready_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    folder = tmp_path_factory.mktemp("template")
    ids = prepare(folder / "clinic.sqlite", 2)
    yield folder / "clinic.sqlite", ids


@pytest.mark.slow
def test_a_kill_while_the_seal_is_made_never_leaves_half_a_seal(
    tmp_path: Path, ready_template: tuple[Path, list[str]]
) -> None:
    template, (cid, _) = ready_template
    rng = random.Random(20261125)
    runs, interrupted = 30, 0
    for run in range(runs):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        dbs = [folder / f"clinic{i}.sqlite" for i in range(100)]
        for db in dbs:
            shutil.copy(template, db)
        go = folder / "go"
        child = worker("create", go, *dbs)
        await_ready(child)
        go.touch()
        kill = kill_at_random(child, rng, 0.5)
        assert not kill.finished, "every seal was made before the kill: use more databases"
        interrupted += kill.interrupted
        for db in dbs[: kill.steps_started]:
            current, history, audit = seal_rows(db)
            assert len(current) == len(history) == len(audit) <= 1  # all of it or none
            assert [c[0] for c in current] == history
        last = dbs[max(kill.steps_started - 1, 0)]
        clinic = open_owner(last)
        sign_and_check(clinic, cid, folder)  # usable: makes the seal if the kill undid it
        assert len(clinic.seal.certificates()) == 1
        clinic.close()
        shutil.rmtree(folder)  # a hundred copies a run: keep the disk free
    print(f"\nkilled during seal creation {runs} times; {interrupted} inside a creation step")


@pytest.mark.slow
def test_a_kill_during_renewals_leaves_a_usable_seal_and_a_whole_history(
    tmp_path: Path, ready_template: tuple[Path, list[str]]
) -> None:
    template, (first, second) = ready_template
    source = tmp_path / "sealed.sqlite"
    shutil.copy(template, source)
    clinic = open_owner(source)
    sign_all_before = clinic.documents.sign(first)
    before = clinic.documents.pdf(sign_all_before[0].id)
    clinic.close()
    rng = random.Random(20261126)
    runs, interrupted, renewals = 30, 0, 0
    for run in range(runs):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        db = folder / "clinic.sqlite"
        shutil.copy(source, db)
        child = worker("rename", db)
        await_ready(child)
        kill = kill_at_random(child, rng, 0.4)
        interrupted += kill.interrupted
        current, history, audit = seal_rows(db)
        assert len(current) == 1 and current[0][0] in history
        assert len(set(history)) == len(history)
        details = [json.loads(d) for d in audit]
        renewed = [d for d in details if "renewed" in d]
        assert len(details) == 1 + len(renewed) == len(history)  # each renewal with its audit
        assert [d["renewed"] for d in renewed] == history[1:]
        renewals += len(renewed)
        clinic = open_owner(db)
        name = clinic.settings.profile().name
        info = clinic.seal.ensure()  # a kill between the rename and its renewal: renewed now
        assert info.common_name == name
        sign_all(clinic, second)  # the renamed clinic heads the sheet: its signers sign again
        new_pdfs = sign_and_check(clinic, second, folder)
        assert "earlier seal" not in clinic.documents.verify(new_pdfs[0]).reason
        old = clinic.documents.verify(before)
        assert old.valid, old.reason
        clinic.close()
    print(
        f"\nkilled during renewals {runs} times; {interrupted} inside a rename step; "
        f"{renewals} renewals committed in all"
    )
