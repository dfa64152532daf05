"""The PostgreSQL store: its migrations, refusals, immutability under plain SQL, TLS, passwords."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import psycopg
import pytest

from desktop.clinic import Clinic, system_actor
from desktop.errors import Conflict, StorageError, ValidationError
from desktop.storage import SCHEMA as SQLITE_SCHEMA
from desktop.storage import open_store
from desktop.storage.postgres import migrations
from desktop.storage.postgres.dialect import translate
from desktop.storage.postgres.server import label, without_password, workstation_key
from desktop.storage.postgres.store import PostgresStore
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.consultations import ready, sign_all
from tests.pg_cluster import pg_bin
from tests.pg_fixtures import PgServer


def test_placeholders_are_translated_outside_quotes() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b = ?") == (
        "SELECT * FROM t WHERE a = %s AND b = %s"
    )
    assert translate("INSERT INTO t (a, b) VALUES (:a, :b_2)") == (
        "INSERT INTO t (a, b) VALUES (%(a)s, %(b_2)s)"
    )
    assert translate("SELECT '?', ':x', \"a?\", x::text, 'it''s ?' FROM t WHERE y LIKE '5%'") == (
        "SELECT '?', ':x', \"a?\", x::text, 'it''s ?' FROM t WHERE y LIKE '5%%'"
    )
    assert translate("SELECT 1 -- why? :x\nWHERE a = ?") == "SELECT 1 -- why? :x\nWHERE a = %s"


def test_server_addresses_are_shown_and_kept_without_passwords() -> None:
    url = "postgresql://desk:s3cret@db.clinic.lan:5433/clinic?sslmode=verify-full"
    assert without_password(url) == (
        "postgresql://desk@db.clinic.lan:5433/clinic?sslmode=verify-full"
    )
    assert "s3cret" not in label(url) and label(url) == "desk@db.clinic.lan:5433/clinic"
    key = workstation_key(url, "ab12")
    assert key.endswith("-ab12") and "/" not in key and "s3cret" not in key
    assert workstation_key(url.replace("5433", "5434"), "ab12") != key


def test_migrations_are_named_ordered_and_mirror_sqlites() -> None:
    names = [m.name for m in migrations.MIGRATIONS]
    assert names == sorted(names) == list(migrations.SCHEMA)
    assert [m.twin for m in migrations.MIGRATIONS] == list(SQLITE_SCHEMA)
    assert len(set(names)) == len(names)


def test_a_new_database_gets_the_whole_schema_and_reopening_applies_nothing(
    pg_fresh_url: str,
) -> None:
    store = open_store(pg_fresh_url)
    assert store.applied_migrations() == list(migrations.SCHEMA)
    assert store.server and store.path is None
    store.close()
    again = open_store(pg_fresh_url)
    assert again.applied_migrations() == list(migrations.SCHEMA)
    again.close()


def test_upgrade_from_pg_0001_keeps_every_row(pg_server: PgServer, clock: FakeClock) -> None:
    name = pg_server.new_database(migrated=False)
    url = pg_server.app_url(name)
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction(), conn.cursor() as cur:
        migrations.apply(cur, "2026-11-01T09:00:00+01:00", stop_before="pg_0002_signed_documents")
        for pid, given, family in (("p1", "Łukasz", "Żółć"), ("p2", "Anna", "Smith-Jones")):
            cur.execute(
                "INSERT INTO patients (id, given_name, family_name, date_of_birth, search_name, "
                "phone, created, updated) VALUES (%s, %s, %s, '1990-04-02', %s, %s, %s, %s)",
                [pid, given, family, f"{given} {family}".lower().replace("ł", "l")
                 .replace("ż", "z").replace("ó", "o").replace("ć", "c"),
                 "+44 20 7946 0011" if pid == "p2" else "",
                 "2026-11-01T09:00:00+01:00", "2026-11-01T09:00:00+01:00"],
            )  # fmt: skip
        cur.execute(
            "INSERT INTO consultations (id, patient_id, date, checklist_id, checklist_version, "
            "created, updated) VALUES ('c1', 'p1', '2026-11-01', 'vitiligo-koebner', "
            "'2026.11.1', '2026-11-01T09:00:00+01:00', '2026-11-01T09:00:00+01:00')"
        )
    clinic = Clinic.open(url, clock=clock, actor=system_actor(), hasher=FAST_HASHER,
                         workstation_dir=Path("/nonexistent"), data_dir=None)  # fmt: skip
    try:
        assert clinic._store.applied_migrations() == list(migrations.SCHEMA)
        assert clinic.patients.count() == 2
        assert [p.family_name for p in clinic.patients.search("zolc")] == ["Żółć"]
        # pg_0006_front_desk recomputed the search columns with today's folding and filled
        # the key index: hyphenated names, the phone as dialled at home, dates in any form.
        for typed in ("smith jon", "smithjones", "020 7946", "1990-04", "02.04.1990"):
            found = [p.id for p in clinic.patients.search(typed)]
            assert found == (["p2", "p1"] if "1990" in typed else ["p2"]), typed  # by family
        assert clinic.patients.get("p2").phone_e164 == "+442079460011"
        assert clinic._store.integrity_problems() == []
        (c,) = clinic.consultations.for_patient("p1")
        assert c.revision == 1 and c.state == "draft"
        assert clinic.settings.get("clinic_id")
    finally:
        clinic.close()
        pg_server.drop(name)


def test_another_applications_database_is_refused_and_left_untouched(
    pg_server: PgServer,
) -> None:
    name = pg_server.new_database(migrated=False)
    url = pg_server.app_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StorageError, match="another application's tables"):
        open_store(url)
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables "
                                             "WHERE schemaname = 'public'")]  # fmt: skip
    assert tables == ["invoices"]
    pg_server.drop(name)


@pytest.mark.parametrize(
    "made",
    [
        "CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int)",
        "CREATE VIEW totals AS SELECT 1 AS one",
        "CREATE SEQUENCE invoice_numbers",
        "CREATE FUNCTION vat(numeric) RETURNS numeric LANGUAGE sql AS 'SELECT $1 * 0.2'",
        "CREATE TYPE invoice_state AS ENUM ('open', 'paid')",
        "CREATE SCHEMA crm; CREATE TYPE crm.contact AS (name text)",
    ],
)
def test_a_database_holding_any_object_of_another_application_is_refused_untouched(
    pg_server: PgServer, made: str
) -> None:
    name = pg_server.new_database(migrated=False)
    url = pg_server.app_url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(made)  # type: ignore[arg-type]
        with pytest.raises(StorageError, match="another application's tables or other objects"):
            open_store(url)
        with psycopg.connect(url, autocommit=True) as conn:
            ours = conn.execute("SELECT to_regclass('_clinic_migrations')").fetchone()
        assert ours == (None,)  # left as it was
    finally:
        pg_server.drop(name)


def test_a_new_database_with_an_extension_installed_becomes_the_clinics(
    pg_server: PgServer,
) -> None:
    """What an administrator installs for the clinic (amcheck, for the full check) is not
    another application's."""
    name = pg_server.new_database(migrated=False)
    try:
        with pg_server.admin(name) as admin:  # type: ignore[attr-defined]
            admin.execute("CREATE EXTENSION amcheck")
        store = open_store(pg_server.app_url(name))
        try:
            assert store.applied_migrations() == list(migrations.SCHEMA)
            assert store.integrity_problems() == []
        finally:
            store.close()
    finally:
        pg_server.drop(name)


def test_a_database_from_a_newer_version_is_refused_untouched(pg_fresh_url: str) -> None:
    with psycopg.connect(pg_fresh_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO _clinic_migrations VALUES (99, 'clinic_intake', 'pg_0099_future', 'x')"
        )
    with pytest.raises(StorageError, match="newer version"):
        open_store(pg_fresh_url)


def _psql(url: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(pg_bin() / "psql"), url, "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_a_signed_consultation_cannot_be_changed_even_with_plain_sql(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    folders = {"workstation_dir": tmp_path / "ws", "data_dir": tmp_path / "data"}
    clinic = signed_in(Clinic.open(pg_url, clock=clock, hasher=FAST_HASHER, **folders))
    cid = ready(clinic)
    sign_all(clinic, cid)
    clinic.documents.sign(cid)
    draft = ready(clinic, given_name="Anna")
    clinic.close()
    refused = {
        f"UPDATE consultations SET answers = '{{}}' WHERE id = '{cid}'": "signed consultation",
        f"DELETE FROM consultations WHERE id = '{cid}'": "signed consultation",
        "UPDATE documents SET pdf = 'x'": "document cannot be changed",
        "DELETE FROM documents": "document cannot be deleted",
        "TRUNCATE documents CASCADE": "cannot be deleted",
        f"DELETE FROM signatures WHERE consultation_id = '{cid}'": "signed consultation",
        "UPDATE audit SET detail = 'nothing happened'": "append-only",
        "DELETE FROM audit": "append-only",
        "TRUNCATE audit": "append-only",
        "DELETE FROM seal_certificates": "seal certificate history is append-only",
        "UPDATE seal_certificates SET certificate = 'forged'": "append-only",
    }
    for sql, message in refused.items():
        result = _psql(pg_url, sql)
        assert result.returncode != 0, sql
        assert message in result.stderr, (sql, result.stderr)
    # A draft stays a draft: plain SQL may still change it (the app checks revisions).
    assert (
        _psql(pg_url, f"UPDATE consultations SET clinician = 'x' WHERE id = '{draft}'").returncode
        == 0
    )
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT state FROM consultations WHERE id = %s", [cid]).fetchone()
    assert row == ("signed",)
    reopened = Clinic.open(pg_url, clock=clock, hasher=FAST_HASHER, **folders)
    try:
        reopened.session.login("owner", "correct horse battery")
        assert reopened.audit.verify().intact
        refused = pytest.raises(Conflict, match="signed consultation cannot be changed")
        with refused, reopened._store.transaction():
            reopened._store.execute("DELETE FROM consultations WHERE id = ?", [cid])
    finally:
        reopened.close()


def test_an_unreachable_server_says_so_and_what_to_do() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError) as err:
        open_store(f"postgresql://nobody@127.0.0.1:{port}/clinic")
    message = str(err.value)
    assert "cannot be reached" in message and f"127.0.0.1:{port}/clinic" in message
    assert "network" in message


def test_a_missing_database_is_named(pg_server: PgServer) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_store(pg_server.app_url("no_such_clinic_database"))


# TLS and passwords: the throwaway cluster (tests/pg_cluster.py) serves a self-signed
# certificate for localhost and lets its TLS role in only over TLS with a password.


def test_tls_with_the_servers_certificate_and_a_password_file(tls: dict[str, str]) -> None:
    store = open_store(tls["url"])
    try:
        assert isinstance(store, PostgresStore)
        (row,) = store.native_rows(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        assert row["ssl"] is True and row["version"].startswith("TLS")
        assert "password" not in store.label and "sslmode" not in store.label
    finally:
        store.close()


def test_a_missing_or_wrong_password_says_where_passwords_go(
    tls: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-pgpass"
    empty.write_text("")
    empty.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(empty))
    with pytest.raises(StorageError, match=r"pgpass.*never stores server passwords"):
        open_store(tls["url"])
    wrong = tls["url"].replace(f"{tls['role']}@", f"{tls['role']}:wrong@")
    with pytest.raises(StorageError, match="refused the password"):
        open_store(wrong)


def test_tls_is_refused_clearly_without_the_right_certificate_or_without_tls(
    tls: dict[str, str], tmp_path: Path
) -> None:
    from tests.pg_cluster import _self_signed

    other = tmp_path / "other"
    other.mkdir()
    _self_signed(other)
    url = tls["url"].split("&sslrootcert=")[0] + f"&sslrootcert={other / 'server.crt'}"
    with pytest.raises(StorageError, match="secure \\(TLS\\) connection"):
        open_store(url)
    plain = tls["url"].split("?")[0] + "?sslmode=disable"
    with pytest.raises(StorageError, match=r"pg_hba\.conf"):
        open_store(plain)


def test_text_the_server_cannot_hold_is_refused_before_it_is_sent_and_matches_nothing(
    clinic_pg_store: PostgresStore,
) -> None:
    store = clinic_pg_store
    for text in ("a\x00b", "half \ud800 pair"):
        with pytest.raises(ValidationError) as err:
            store.write(
                "INSERT INTO settings (key, value) VALUES (?, ?)", ["k", json.dumps(1) + text]
            )
        assert "cannot store" in err.value.message and "server could not" not in err.value.message
        # In a read it matches nothing, whatever the comparison, and nothing fails.
        assert store.rows("SELECT key FROM settings WHERE key = ?", [text]) == []
        assert store.rows("SELECT key FROM settings WHERE strpos(key, ?) > 0", [text]) == []
        assert store.count("settings") == 1  # nothing was written
    (row,) = store.rows("SELECT key FROM settings WHERE key = ANY(?)", [["clinic_id", "x\x00"]])
    assert row["key"] == "clinic_id"
    with pytest.raises(ValidationError, match=r"settings\.value of key k"), store.transaction():
        store.insert_many("settings", ["key", "value"], [("k", "1"), ("k2", "a\x00")])
    assert store.count("settings") == 1
    store.write("INSERT INTO settings (key, value) VALUES (?, ?)", ["k", "1"])  # goes on
    assert store.count("settings") == 2


def test_settings_values_round_trip_as_json(clinic_pg_store: PostgresStore) -> None:
    store = clinic_pg_store
    store.settings.set("k", {"a": [1, 2], "ü": "%s ? :x"})
    assert store.settings.get("k") == {"a": [1, 2], "ü": "%s ? :x"}
    (row,) = store.rows("SELECT value FROM settings WHERE key = ?", ["k"])
    assert json.loads(row["value"])["ü"] == "%s ? :x"


@pytest.fixture
def clinic_pg_store(pg_url: str) -> PostgresStore:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


def test_nested_blocks_roll_back_alone_and_after_commit_runs_once(
    clinic_pg_store: PostgresStore,
) -> None:
    store = clinic_pg_store
    ran: list[str] = []
    with store.transaction():
        store.settings.set("outer", 1)
        with pytest.raises(RuntimeError), store.transaction():
            store.settings.set("inner", 1)
            raise RuntimeError("undo the inner block only")
        store.after_commit("k", lambda: ran.append("first"))
        store.after_commit("k", lambda: ran.append("second"))
    assert store.settings.get("outer") == 1 and store.settings.get("inner") is None
    assert ran == ["second"]
    with pytest.raises(RuntimeError), store.transaction():
        store.settings.set("gone", 1)
        store.after_commit("k", lambda: ran.append("never"))
        raise RuntimeError("undo all")
    assert store.settings.get("gone") is None and ran == ["second"]


def test_a_failed_statement_swallowed_inside_a_transaction_does_not_commit_silently(
    clinic_pg_store: PostgresStore,
) -> None:
    store = clinic_pg_store
    with pytest.raises(StorageError, match="failed part-way"), store.transaction():
        store.settings.set("before", 1)
        # A caller that ignores the refusal: the transaction must not commit.
        with contextlib.suppress(Conflict):
            store.execute("INSERT INTO settings (key, value) VALUES ('before', 'dup')")
    assert store.settings.get("before") is None


def test_a_user_the_server_does_not_have_is_named_not_called_unreachable(
    pg_server: PgServer,
) -> None:
    url = pg_server.admin_url.replace("postgres@", "nobody_here@", 1)
    assert "nobody_here@" in url
    with pytest.raises(StorageError) as refused:
        open_store(url)
    text = refused.value.message
    assert "cannot be reached" not in text
    assert "has no user" in text or "refused the password" in text
