"""Faults of the clinic's server (PostgreSQL): saved addresses, foreign databases, text the
server refuses, reconnection after a restart, and what killed copies leave behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from desktop.clinic import Clinic, check_server, save_database, saved_database, system_actor
from desktop.errors import (
    IntakeError,
    NotFound,
    PermissionDenied,
    StorageError,
    ValidationError,
)
from desktop.storage import open_store
from desktop.storage.postgres.server import label, parse, shown, without_password
from tests.helpers.clinics import FAST_HASHER, OWNER_PASSWORD, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields
from tests.pg_cluster import Cluster
from tests.pg_fixtures import PgServer, clinic_database


def on_server(url: str, clock: FakeClock, folder: Path) -> Clinic:
    return Clinic.open(url, clock=clock, hasher=FAST_HASHER,
                       workstation_dir=folder / "anchors", data_dir=folder / "data")  # fmt: skip


def file_clinic(folder: Path, clock: FakeClock) -> Clinic:
    return signed_in(Clinic.open(folder / "clinic.sqlite", clock=clock, hasher=FAST_HASHER,
                                 workstation_dir=folder / "anchors"))  # fmt: skip


# -- The address this computer keeps ----------------------------------------------------------


def test_a_saved_address_with_a_space_in_the_certificate_path_still_connects(
    tls: dict[str, str],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "Clinic Server"
    folder.mkdir()
    shutil.copy(os.environ["CLINIC_TEST_PG_ROOTCERT"], folder / "server.crt")
    url = tls["url"].split("&sslrootcert=")[0] + f"&sslrootcert={quote(str(folder / 'server.crt'))}"
    tested = check_server(url)
    assert tested.ok, tested.message  # the connection test passes: the choice is kept
    save_database(url)
    again = check_server(str(saved_database()))
    assert again.ok, again.message  # ... and works at the next start


def test_a_saved_address_naming_two_hosts_keeps_each_host_and_port() -> None:
    url = "postgresql://clinic@primary,standby:5433/clinic?target_session_attrs=read-write"
    kept = parse(without_password(url))
    assert kept == parse(url)


def test_the_saved_address_keeps_no_key_passphrase() -> None:
    save_database(
        "postgresql://desk@clinic-server/clinic?sslmode=verify-full&sslcert=/k/desk.crt"
        "&sslkey=/k/desk.key&sslpassword=key-passphrase-42"
    )
    assert "key-passphrase-42" not in str(saved_database())


@pytest.mark.parametrize(
    "written",
    [
        "postgresql://desk:Xq7@Zr9/Kw3@127.0.0.1:PORT/clinic",  # '@' and '/' as typed
        "postgresql://desk:Xq7/Zr9@127.0.0.1:PORT/clinic?sslmode=require",
        "postgresql://desk:Xq7@Zr9@127.0.0.1:PORT/clinic",
        "postgresql://desk:Xq7?Zr9/Kw3@127.0.0.1:PORT/clinic",
        "postgresql://desk:Xq7%40Zr9%2FKw3@127.0.0.1:PORT/clinic",  # %-coded, as it should be
        "postgresql://desk@127.0.0.1:PORT/clinic?password=Xq7@Zr9/Kw3&sslmode=disable",
        "postgresql://desk@127.0.0.1:PORT/clinic?%70assword=Xq7%40Zr9&sslpassword=Kw3",
    ],
)
def test_a_password_in_any_spelling_is_never_shown_or_kept(written: str) -> None:
    """A password holding '@', '/', ':' or '?', typed with or without %-code, in the user
    information or the query: no piece of it is in the saved address, the label, the
    refusal or the connection test's sentence (a port nobody listens on: no server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        written = written.replace("PORT", str(s.getsockname()[1]))
    pieces = ("Xq7", "Zr9", "Kw3")
    said = [without_password(written), shown(written), check_server(written).message]
    try:
        said.append(label(written))
    except StorageError as exc:
        said.append(exc.message)  # refused: libpq would read it otherwise than meant
    save_database(written)
    said.append(str(saved_database()))
    for text in said:
        assert not any(piece in text for piece in pieces), text
        assert "127.0.0.1" in text, text


# -- A database that is not a clinic's --------------------------------------------------------


def test_another_applications_database_with_its_own_schema_is_refused(
    pg_server: PgServer,
) -> None:
    name = pg_server.new_database(migrated=False)
    with psycopg.connect(pg_server.app_url(name), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA billing")
        conn.execute("CREATE TABLE billing.invoices (id integer PRIMARY KEY, total numeric)")
        conn.execute("INSERT INTO billing.invoices VALUES (1, 120.50)")
    try:
        with pytest.raises(StorageError, match="another application"):
            open_store(pg_server.app_url(name)).close()
    finally:
        with psycopg.connect(pg_server.app_url(name), autocommit=True) as conn:
            tables = conn.execute(
                "SELECT schemaname || '.' || tablename FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            ).fetchall()
        pg_server.drop(name)
    assert tables == [("billing.invoices",)]  # left as it was


# -- Text the server cannot store -------------------------------------------------------------


def _server_rows(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # type: ignore[index]
            for t in ("users", "patients", "consultations", "audit")
        }


def test_a_file_clinic_with_any_accepted_text_moves_to_the_server(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """Whatever text a file clinic accepted, its move to the server goes through, or is
    refused before anything is copied with a message naming the record; a refused move
    leaves the server as empty as it was."""
    clinic = file_clinic(tmp_path, clock)
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    with contextlib.suppress(ValidationError):  # refused where it is typed, or kept
        clinic.repeat_visits.discard(c.id, "opened for the wrong patient\x00")
    try:
        report = clinic.backups.move_to(pg_url)
    except IntakeError as exc:
        assert c.id in exc.message and "discard_reason" in exc.message, exc.message
        assert isinstance(exc, ValidationError)  # the text to correct, not the server
        assert _server_rows(pg_url) == {"users": 0, "patients": 0, "consultations": 0, "audit": 0}
        assert not [e for e in clinic.audit.entries() if e.action == "move out"]
    else:
        assert report.chain.intact
        assert {t.table: t.rows for t in report.tables}["patients"] == 1
    finally:
        clinic.close()


@pytest.mark.parametrize(
    ("table", "column"), [("patients", "notes"), ("consultations", "clinician")]
)
def test_a_file_clinic_holding_a_nul_is_refused_before_anything_is_copied(
    pg_url: str, clock: FakeClock, tmp_path: Path, table: str, column: str
) -> None:
    """Text the server cannot hold, however it got into the file (here plain SQL): the move
    names the table, column and record and says what to do, and copies nothing."""
    clinic = file_clinic(tmp_path, clock)
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.close()
    record = p.id if table == "patients" else c.id
    with sqlite3.connect(tmp_path / "clinic.sqlite") as db:
        db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", ["Ada\x00 Lovelace", record])
    db.close()
    clinic = Clinic.open(tmp_path / "clinic.sqlite", clock=clock, hasher=FAST_HASHER,
                         workstation_dir=tmp_path / "anchors")  # fmt: skip
    try:
        clinic.session.login("owner", OWNER_PASSWORD)
        with pytest.raises(ValidationError) as err:
            clinic.backups.move_to(pg_url)
        for named in (table, column, record, "NUL", "Nothing was copied"):
            assert named in err.value.message
        assert _server_rows(pg_url) == {"users": 0, "patients": 0, "consultations": 0, "audit": 0}
        assert clinic.patients.count() == 1  # the file clinic goes on as it was
    finally:
        clinic.close()


def test_a_nul_typed_at_sign_in_is_not_blamed_on_the_server(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    clinic = signed_in(on_server(pg_url, clock, tmp_path / "desk"))
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace")
    clinic.session.logout()
    try:
        with pytest.raises(IntakeError) as err:
            clinic.session.login("own\x00er", "whatever")
        assert isinstance(err.value, PermissionDenied), err.value.message
        signed_in_again = clinic.session.login("owner", "correct horse battery")
        assert signed_in_again is not None
        with pytest.raises(IntakeError) as err:
            clinic.repeat_visits.discard(c.id, "wrong patient\x00")
        assert isinstance(err.value, ValidationError), err.value.message
    finally:
        clinic.close()


def test_text_with_a_nul_finds_nothing_on_the_server_and_saves_nothing(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """Nothing the server stores can hold a NUL: a lookup or search with one finds nothing
    (no error); a save with one is refused as input to correct, and nothing of it is kept."""
    clinic = signed_in(on_server(pg_url, clock, tmp_path / "desk"))
    try:
        p = clinic.patients.register(patient_fields(notes="allergic to latex"))
        with pytest.raises(NotFound):
            clinic.patients.get(p.id + "\x00")
        assert clinic.patients.search("Żółć\x00x") == []
        assert [x.id for x in clinic.patients.search("Żółć")] == [p.id]
        with pytest.raises(ValidationError):
            clinic.patients.update(p.id, {"notes": "allergic to\x00 latex"}, revision=p.revision)
        assert clinic.patients.get(p.id).notes == "allergic to latex"
        saved = clinic.patients.update(p.id, {"notes": "latex"}, revision=p.revision)
        assert saved.revision == p.revision + 1  # the connection and the form go on
    finally:
        clinic.close()


# -- Reconnecting after the server restarted --------------------------------------------------


@pytest.mark.slow
def test_the_first_save_after_a_server_restart_goes_through(
    own_server: Cluster, clock: FakeClock, tmp_path: Path
) -> None:
    url = clinic_database(own_server)
    clinic = signed_in(on_server(url, clock, tmp_path / "desk"))
    try:
        p = clinic.patients.register(patient_fields())
        own_server.stop("fast")  # overnight maintenance, while the window sits idle
        own_server.start()
        saved = clinic.patients.update(p.id, {"given_name": "Luke"}, revision=p.revision)
        assert saved.given_name == "Luke"
        assert [x.given_name for x in clinic.patients.search("luke")] == ["Luke"]
        own_server.stop("fast")  # again, and this time the first action is a search
        own_server.start()
        assert [x.id for x in clinic.patients.search("luke")] == [p.id]
        assert clinic.patients.get(p.id).given_name == "Luke"
        assert clinic.audit.verify().intact  # each save recorded once
        actions = [e.action for e in clinic.audit.entries()]
        assert actions.count("update patient") == 1
    finally:
        clinic.close()


# -- What a killed or finished copy leaves behind ---------------------------------------------


def _child(url: str, scenario: str, arg: Path | str, nth: int = 1, tmp: Path | None = None) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    done = subprocess.run(
        [sys.executable, "-m", "tests.findings.pg_crash_child", url, scenario, str(arg), str(nth)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr  # killed where it was meant to be
    return done.returncode


def _server_clinic(url: str, clock: FakeClock, folder: Path) -> None:
    clinic = signed_in(on_server(url, clock, folder))
    for i in range(5):
        clinic.patients.register(patient_fields(given_name=f"Kill{i}"), allow_duplicate=True)
    clinic.close()


@pytest.mark.slow
def test_a_killed_move_to_a_file_can_be_run_again(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    _server_clinic(pg_url, clock, tmp_path / "desk")
    target = tmp_path / "moved" / "clinic.sqlite"
    target.parent.mkdir()
    _child(pg_url, "move_to", target)
    clinic = Clinic.open(pg_url, actor=system_actor(), hasher=FAST_HASHER)
    try:
        report = clinic.backups.move_to(target)
    finally:
        clinic.close()
    assert {p.table: p.rows for p in report.tables}["patients"] == 5


@pytest.mark.slow
def test_a_killed_move_into_the_server_leaves_it_empty_and_can_be_run_again(
    pg_server: PgServer, pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    _server_clinic(pg_url, clock, tmp_path / "desk")
    name = pg_server.new_database()  # an empty clinic database, as the README has it made
    target = pg_server.app_url(name)
    try:
        _child(pg_url, "move_to", target)
        assert _server_rows(target) == {"users": 0, "patients": 0, "consultations": 0, "audit": 0}
        clinic = Clinic.open(pg_url, actor=system_actor(), hasher=FAST_HASHER)
        try:
            report = clinic.backups.move_to(target)
        finally:
            clinic.close()
        assert {p.table: p.rows for p in report.tables}["patients"] == 5
        assert _server_rows(target)["patients"] == 5
    finally:
        pg_server.drop(name)


def test_a_server_backup_leaves_only_the_backup_in_the_folder(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    _server_clinic(pg_url, clock, tmp_path / "desk")
    out = tmp_path / "backups"
    out.mkdir()
    clinic = Clinic.open(pg_url, actor=system_actor(), hasher=FAST_HASHER)
    try:
        made = clinic.backups.backup(out)
    finally:
        clinic.close()
    assert sorted(p.name for p in out.iterdir()) == [made.name]


@pytest.mark.slow
def test_a_killed_server_backup_or_restore_leaves_no_copy_of_the_records(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    _server_clinic(pg_url, clock, tmp_path / "desk")
    out = tmp_path / "backups"
    out.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    clinic = Clinic.open(pg_url, actor=system_actor(), hasher=FAST_HASHER)
    try:
        backup = clinic.backups.backup(tmp_path)
    finally:
        clinic.close()
    _child(pg_url, "backup", out, tmp=tmp)
    _child(pg_url, "restore", backup, nth=2, tmp=tmp)  # killed while copying into the server
    # The clinic goes on: opened again, backed up again into the same folder.
    clinic = Clinic.open(pg_url, actor=system_actor(), hasher=FAST_HASHER)
    try:
        clinic.backups.backup(out)
        assert clinic.patients.count() == 5
    finally:
        clinic.close()
    # Copies holding records (not the empty leftovers of a finished backup, found above).
    left = sorted(
        str(p.relative_to(tmp_path))
        for p in [*out.iterdir(), *tmp.rglob("*"), *tmp_path.iterdir()]
        if p.is_file()
        and p.name.startswith((".backup-", ".restore-"))
        and not p.name.endswith("-shm")
        and p.stat().st_size > 0
    )
    assert left == []
