"""Named, ordered schema migrations of a clinic database on PostgreSQL (twins of SQLite's).

Each migration names the SQLite migration it mirrors (`twin`): after both sets are applied,
the tables hold the same columns with the same types and the same triggers and indexes by
name (tests/storage/test_postgres_schema.py checks it). What only PostgreSQL has is listed in
PG_ONLY_COLUMNS: the registration order (SQLite's rowid).

Column types map as: TEXT -> text COLLATE "C" (byte order, as SQLite sorts), INTEGER ->
integer (bigint for the audit's sequence), REAL -> double precision, BLOB -> bytea. Dates and
times stay ISO 8601 text, as in SQLite, so the repositories read the same values from both.
SQLite's RAISE(ABORT) triggers become PL/pgSQL functions raising integrity_constraint_violation
(23000), which the store reports as a refused change; PostgreSQL also refuses TRUNCATE of the
append-only and signed tables.

Adding the twin of a new SQLite migration `00NN_name`: write `_pg_00NN_name(cur)` with the
same tables, columns, indexes and triggers (types mapped as above), append
`Migration("pg_00NN_name", "00NN_name", _pg_00NN_name)` to MIGRATIONS, add any new table to
storage.transfer.TABLES (in foreign-key order), and run the schema tests: until the twin
exists, tests/storage/test_postgres_schema.py names each missing table, column, index and
trigger, and test_postgres.py the missing twin. Keys a repository inserts must be given by the
app (as the audit's `seq` is, under the write lock), not left to SQLite's INTEGER PRIMARY KEY
rowid: a PostgreSQL identity column is not copied by a move and a serial would fall behind.

The later SQLite migrations map as follows (each has its twin):
- 0005_seal_in_database -> pg_0005_seal_in_database: seal_certificates (its seq given by the
  app), seal (one row), the history append-only (and not truncatable); both in TABLES.
- 0006_front_desk -> pg_0006_front_desk: the new patient columns; the full-text vector
  (search_vector, a stored generated column, and its GIN index) is dropped as SQLite's FTS5
  table is, for `patient_keys` (key, patient) with a unique B-tree on (key, patient DESC) in
  the "C" collation, filled from `search_keys` by statement-level triggers; the search
  columns are recomputed in Python with storage.search (the same folding as SQLite's); the
  audit viewer's indexes end in `seq`, as SQLite's end in the rowid.
- 0007_repeat_visits -> pg_0007_repeat_visits: the new consultation columns, the
  consultations_state index and the three triggers, by the same names.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

__all__ = [
    "FUNCTIONS",
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "MIGRATION_SET",
    "PG_ONLY_COLUMNS",
    "SCHEMA",
    "Migration",
    "applied",
    "apply",
]

MIGRATION_SET = "clinic_intake"
MIGRATIONS_TABLE = "_clinic_migrations"
T = 'TEXT COLLATE "C"'  # every text column sorts and compares byte-wise, as SQLite does

# Columns PostgreSQL keeps that the SQLite schema has no twin of (SQLite's rowid is implicit).
PG_ONLY_COLUMNS: dict[str, frozenset[str]] = {
    "patients": frozenset({"row_seq"}),
}

Cursor = psycopg.Cursor[tuple[object, ...]]


@dataclass(frozen=True)
class Migration:
    name: str  # its own name, recorded in MIGRATIONS_TABLE
    twin: str  # the SQLite migration it mirrors (storage.migrations)
    apply: Callable[[Cursor], None]


def _refusals(cur: Cursor) -> None:
    """The trigger functions that refuse a change with the message given to the trigger."""
    cur.execute(
        """
        CREATE FUNCTION clinic_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    # Refuses when the row's consultation is signed (NEW on insert, OLD on update/delete).
    cur.execute(
        """
        CREATE FUNCTION clinic_refuse_if_signed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            target text;
        BEGIN
            IF TG_OP = 'INSERT' THEN target := NEW.consultation_id;
            ELSE target := OLD.consultation_id;
            END IF;
            IF (SELECT state FROM consultations WHERE id = target) = 'signed' THEN
                RAISE EXCEPTION '%', TG_ARGV[0]
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$
        """
    )


def _refuse(
    cur: Cursor, name: str, when: str, table: str, message: str, condition: str = ""
) -> None:
    cond = f" WHEN ({condition})" if condition else ""
    cur.execute(
        f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{cond} "
        f"EXECUTE FUNCTION clinic_refuse('{message}')"
    )


def _refuse_truncate(cur: Cursor, table: str, message: str) -> None:
    cur.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION clinic_refuse('{message}')"
    )


def _pg_0001_core(cur: Cursor) -> None:
    """Patients with their search vector, draft consultations and settings."""
    cur.execute(
        f"""
        CREATE TABLE patients (
            id {T} PRIMARY KEY,
            given_name {T} NOT NULL,
            family_name {T} NOT NULL,
            date_of_birth {T} NOT NULL,
            phone {T} NOT NULL DEFAULT '',
            email {T} NOT NULL DEFAULT '',
            fitzpatrick {T},
            notes {T} NOT NULL DEFAULT '',
            demo INTEGER NOT NULL DEFAULT 0,
            search_name {T} NOT NULL,
            search_phone {T} NOT NULL DEFAULT '',
            created {T} NOT NULL,
            updated {T} NOT NULL,
            row_seq BIGINT GENERATED ALWAYS AS IDENTITY,
            search_vector tsvector GENERATED ALWAYS AS (
                to_tsvector('simple'::regconfig,
                            search_name || ' ' || search_phone || ' ' || date_of_birth)
            ) STORED
        )
        """
    )
    cur.execute("CREATE INDEX patients_name_dob ON patients (search_name, date_of_birth)")
    # Search: every word of the folded name, the phone's digits and the birth date, by prefix.
    cur.execute("CREATE INDEX patients_search ON patients USING gin (search_vector)")
    cur.execute("CREATE UNIQUE INDEX patients_row_seq ON patients (row_seq)")
    cur.execute("CREATE INDEX patients_updated ON patients (updated)")
    cur.execute("CREATE INDEX patients_phone ON patients (search_phone)")
    cur.execute("CREATE INDEX patients_dob ON patients (date_of_birth)")
    cur.execute(
        f"""
        CREATE TABLE consultations (
            id {T} PRIMARY KEY,
            patient_id {T} NOT NULL REFERENCES patients(id),
            clinician {T} NOT NULL DEFAULT '',
            date {T} NOT NULL,
            device {T} NOT NULL DEFAULT '',
            needle_depth_mm DOUBLE PRECISION,
            product {T} NOT NULL DEFAULT '',
            areas {T} NOT NULL DEFAULT '[]',
            session_number INTEGER NOT NULL DEFAULT 1,
            checklist_id {T} NOT NULL,
            checklist_version {T} NOT NULL,
            answers {T} NOT NULL DEFAULT '{{}}',
            strict INTEGER NOT NULL DEFAULT 0,
            assessment {T},
            override_decision {T},
            override_reason {T},
            override_author {T},
            override_at {T},
            state {T} NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'signed')),
            amends_id {T} REFERENCES consultations(id),
            created {T} NOT NULL,
            updated {T} NOT NULL,
            signed_at {T}
        )
        """
    )
    cur.execute("CREATE INDEX consultations_patient ON consultations (patient_id, date)")
    cur.execute("CREATE INDEX consultations_date ON consultations (date)")
    cur.execute(f"CREATE TABLE settings (key {T} PRIMARY KEY, value {T} NOT NULL)")


IMMUTABLE = "a signed consultation cannot be changed; record an addendum instead"


def _pg_0002_signed_documents(cur: Cursor) -> None:
    """Signatures, sealed documents, test spots, and the triggers that make signed immutable."""
    cur.execute("ALTER TABLE consultations ADD COLUMN photo_other_use INTEGER NOT NULL DEFAULT 0")
    cur.execute(
        f"""
        CREATE TABLE signatures (
            id {T} PRIMARY KEY,
            consultation_id {T} NOT NULL REFERENCES consultations(id),
            role {T} NOT NULL,
            signer_name {T} NOT NULL,
            strokes {T} NOT NULL,
            width DOUBLE PRECISION NOT NULL,
            height DOUBLE PRECISION NOT NULL,
            signed_at {T} NOT NULL,
            UNIQUE (consultation_id, role)
        )
        """
    )
    cur.execute(
        f"""
        CREATE TABLE documents (
            id {T} PRIMARY KEY,
            consultation_id {T} NOT NULL REFERENCES consultations(id),
            kind {T} NOT NULL,
            template_id {T} NOT NULL,
            template_version {T} NOT NULL,
            pdf BYTEA NOT NULL,
            sha256 {T} NOT NULL,
            content_sha256 {T} NOT NULL,
            size INTEGER NOT NULL,
            created {T} NOT NULL
        )
        """
    )
    cur.execute("CREATE INDEX documents_consultation ON documents (consultation_id)")
    cur.execute("CREATE UNIQUE INDEX documents_sha256 ON documents (sha256)")
    cur.execute(
        f"""
        CREATE TABLE test_spots (
            id {T} PRIMARY KEY,
            consultation_id {T} NOT NULL REFERENCES consultations(id),
            patient_id {T} NOT NULL REFERENCES patients(id),
            site {T} NOT NULL,
            done_on {T} NOT NULL,
            created {T} NOT NULL
        )
        """
    )
    cur.execute("CREATE INDEX test_spots_patient ON test_spots (patient_id)")
    cur.execute(
        f"""
        CREATE TABLE test_spot_reviews (
            id {T} PRIMARY KEY,
            test_spot_id {T} NOT NULL REFERENCES test_spots(id),
            week INTEGER NOT NULL CHECK (week IN (4, 12)),
            result {T} NOT NULL,
            reviewed_on {T} NOT NULL,
            reviewer {T} NOT NULL,
            notes {T} NOT NULL DEFAULT '',
            UNIQUE (test_spot_id, week)
        )
        """
    )
    _refusals(cur)
    signed = "OLD.state = 'signed'"
    _refuse(cur, "consultations_signed_no_update", "BEFORE UPDATE", "consultations", IMMUTABLE,
            signed)  # fmt: skip
    _refuse(cur, "consultations_signed_no_delete", "BEFORE DELETE", "consultations", IMMUTABLE,
            signed)  # fmt: skip
    _refuse(cur, "documents_no_update", "BEFORE UPDATE", "documents",
            "a stored document cannot be changed")  # fmt: skip
    _refuse(cur, "documents_no_delete", "BEFORE DELETE", "documents",
            "a stored document cannot be deleted")  # fmt: skip
    for name, when, table in (
        ("documents_only_for_drafts", "BEFORE INSERT", "documents"),
        ("signatures_signed_no_insert", "BEFORE INSERT", "signatures"),
        ("signatures_signed_no_update", "BEFORE UPDATE", "signatures"),
        ("signatures_signed_no_delete", "BEFORE DELETE", "signatures"),
    ):
        cur.execute(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION clinic_refuse_if_signed('{IMMUTABLE}')"
        )
    _refuse_truncate(cur, "consultations", IMMUTABLE)
    _refuse_truncate(cur, "signatures", IMMUTABLE)
    _refuse_truncate(cur, "documents", "a stored document cannot be deleted")


def _pg_0003_accounts_audit(cur: Cursor) -> None:
    """User accounts, who started each consultation, and the append-only audit trail."""
    cur.execute(
        f"""
        CREATE TABLE users (
            id {T} PRIMARY KEY,
            username {T} NOT NULL UNIQUE,
            display_name {T} NOT NULL,
            roles {T} NOT NULL,
            password_hash {T} NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            last_failure {T},
            created {T} NOT NULL,
            updated {T} NOT NULL
        )
        """
    )
    cur.execute(f"ALTER TABLE consultations ADD COLUMN created_by {T}")
    cur.execute(
        f"""
        CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at {T} NOT NULL,
            "user" {T} NOT NULL,
            action {T} NOT NULL,
            target {T} NOT NULL DEFAULT '',
            patient {T} NOT NULL DEFAULT '',
            detail {T} NOT NULL DEFAULT '',
            prev_hash {T} NOT NULL,
            hash {T} NOT NULL
        )
        """
    )
    cur.execute('CREATE INDEX audit_user ON audit ("user", at)')
    cur.execute("CREATE INDEX audit_patient ON audit (patient)")
    for event in ("UPDATE", "DELETE"):
        _refuse(cur, f"audit_no_{event.lower()}", f"BEFORE {event}", "audit",
                "the audit trail is append-only")  # fmt: skip
    _refuse_truncate(cur, "audit", "the audit trail is append-only")


def _pg_0004_integrity(cur: Cursor) -> None:
    """Revisions on patients and consultations, signatures bound to the content shown, and
    the clinic's identity (SQLite's application id has no twin: the migrations table,
    MIGRATIONS_TABLE, marks a clinic database)."""
    for table in ("patients", "consultations"):
        cur.execute(f"ALTER TABLE {table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1")
        cur.execute(f"ALTER TABLE {table} ADD COLUMN updated_by {T} NOT NULL DEFAULT ''")
    cur.execute(f"ALTER TABLE signatures ADD COLUMN content_sha256 {T} NOT NULL DEFAULT ''")
    cur.execute(
        "INSERT INTO settings (key, value) VALUES ('clinic_id', %s) ON CONFLICT DO NOTHING",
        [json.dumps(secrets.token_hex(16))],
    )


def _pg_0005_seal_in_database(cur: Cursor) -> None:
    """The clinic seal in the database: its key and chain, and every certificate it has had."""
    cur.execute(
        f"""
        CREATE TABLE seal_certificates (
            seq INTEGER PRIMARY KEY,
            fingerprint {T} NOT NULL UNIQUE,
            certificate {T} NOT NULL,
            added {T} NOT NULL
        )
        """
    )
    cur.execute(
        f"""
        CREATE TABLE seal (
            slot INTEGER PRIMARY KEY CHECK (slot = 1),
            fingerprint {T} NOT NULL REFERENCES seal_certificates(fingerprint),
            private_key {T} NOT NULL,
            chain {T} NOT NULL,
            origin {T} NOT NULL CHECK (origin IN ('generated', 'imported')),
            since {T} NOT NULL
        )
        """
    )
    message = "the seal certificate history is append-only"
    for event in ("UPDATE", "DELETE"):
        _refuse(cur, f"seal_certificates_no_{event.lower()}", f"BEFORE {event}",
                "seal_certificates", message)  # fmt: skip
    _refuse_truncate(cur, "seal_certificates", message)


def _pg_0006_front_desk(cur: Cursor) -> None:
    """Address, emergency contact and the E.164 phone on patients; patient search over one
    index of folded name, phone and birth-date keys (`patient_keys`, filled from each
    patient's `search_keys` by triggers), replacing the full-text vector; indexes for the
    audit viewer's filters (each ends in the row's number, as SQLite's end in the rowid)."""
    for column in ("phone_e164", "address", "emergency_contact_name", "emergency_contact_phone"):
        cur.execute(f"ALTER TABLE patients ADD COLUMN {column} {T} NOT NULL DEFAULT ''")
    cur.execute(f"ALTER TABLE patients ADD COLUMN search_keys {T} NOT NULL DEFAULT '{{}}'")
    # The full-text vector (and its GIN index) over the old search columns gives way to the
    # key index, as SQLite's FTS5 table does; so do the phone and birth-date indexes that
    # only the old search read.
    cur.execute("DROP INDEX IF EXISTS patients_search")
    cur.execute("ALTER TABLE patients DROP COLUMN IF EXISTS search_vector")
    cur.execute("DROP INDEX IF EXISTS patients_phone")
    cur.execute("DROP INDEX IF EXISTS patients_dob")
    # The most recently updated patients, newest registration first among equal times (as
    # SQLite's index on `updated` ends in the rowid).
    cur.execute("DROP INDEX patients_updated")
    cur.execute("CREATE INDEX patients_updated ON patients (updated, row_seq)")
    # (key, patient) byte-wise: a typed prefix is one range of it; newest first among equal
    # keys, as SQLite's PRIMARY KEY (key, patient DESC).
    cur.execute(f"CREATE TABLE patient_keys (key {T} NOT NULL, patient BIGINT NOT NULL)")
    cur.execute("CREATE UNIQUE INDEX patient_keys_key ON patient_keys (key, patient DESC)")
    cur.execute("CREATE INDEX patient_keys_patient ON patient_keys (patient)")
    for statement in _patient_keys_triggers():
        cur.execute(statement)
    _refill_search_columns(cur)
    # The audit viewer lists a user's, an action's or a day's newest entries.
    cur.execute("DROP INDEX audit_user")
    cur.execute('CREATE INDEX audit_user ON audit ("user", seq)')
    cur.execute("CREATE INDEX audit_action ON audit (action, seq)")
    cur.execute("CREATE INDEX audit_at ON audit (at, seq)")
    cur.execute("DROP INDEX audit_patient")
    cur.execute("CREATE INDEX audit_patient ON audit (patient, seq)")


# The keys of a patient row in a trigger's transition table (storage.search.KEYS).
_KEYS_OF = "jsonb_array_elements_text({}.search_keys::jsonb -> '~k') AS e(key)"


def _patient_keys_triggers() -> list[str]:
    """`patient_keys` follows the keys in each patient's `search_keys`: once per statement
    over all the rows it changed (a move's COPY of a million patients is one insert)."""
    new_keys = f"SELECT DISTINCT e.key, n.row_seq FROM new_rows n, {_KEYS_OF.format('n')}"
    old_keys = f"SELECT DISTINCT e.key, o.row_seq FROM old_rows o, {_KEYS_OF.format('o')}"
    insert = "INSERT INTO patient_keys (key, patient) {} ON CONFLICT DO NOTHING;"
    delete = (
        "DELETE FROM patient_keys k USING ({}) AS d (key, patient) "
        "WHERE k.key = d.key AND k.patient = d.patient;"
    )
    bodies = {
        "insert": insert.format(new_keys),
        "delete": delete.format(old_keys),
        # An update changes only the keys that differ (a new phone keeps the name's keys).
        "update": delete.format(f"{old_keys} EXCEPT {new_keys}")
        + "\n"
        + insert.format(f"{new_keys} EXCEPT {old_keys}"),
    }
    statements = []
    for event, body in bodies.items():
        statements.append(
            f"CREATE FUNCTION clinic_patient_keys_{event}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {body} RETURN NULL; END $$"
        )
    tables = {
        "insert": "NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    for name, event in (("ai", "insert"), ("ad", "delete"), ("au", "update")):
        statements.append(
            f"CREATE TRIGGER patient_keys_{name} AFTER {event.upper()} ON patients "
            f"REFERENCING {tables[event]} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION clinic_patient_keys_{event}()"
        )
    return statements


def _refill_search_columns(cur: Cursor, batch: int = 5000) -> None:
    """Recompute every patient's search columns with today's folding (storage.search, as
    SQLite's 0006_front_desk does). A phone typed with its country code gains its E.164
    form; what is shown and printed stays as it was."""
    from datetime import date

    from desktop.storage.search import name_key, phone_key, read_phone, search_keys

    last = -1
    while True:
        cur.execute(
            "SELECT row_seq, given_name, family_name, date_of_birth, phone FROM patients "
            "WHERE row_seq > %s ORDER BY row_seq LIMIT %s",
            [last, batch],
        )
        rows = cur.fetchall()
        if not rows:
            return
        columns: list[list[object]] = [[], [], [], [], []]
        for seq, *text in rows:
            given, family, dob, phone = (str(v) for v in text)
            e164 = read_phone(phone, None).e164
            keys = search_keys(given, family, date.fromisoformat(dob), e164, phone)
            values = (seq, e164, name_key(given, family), phone_key(e164, phone), keys)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        cur.execute(
            "UPDATE patients p SET phone_e164 = u.e164, search_name = u.name, "
            "search_phone = u.phone, search_keys = u.keys FROM unnest(%s::bigint[], "
            "%s::text[], %s::text[], %s::text[], %s::text[]) AS u (seq, e164, name, phone, keys) "
            "WHERE p.row_seq = u.seq",
            columns,
        )
        last = int(str(rows[-1][0]))


DISCARDED = "a discarded draft cannot be changed; start a new consultation instead"


def _pg_0007_repeat_visits(cur: Cursor) -> None:
    """Repeat visits and handover: carried-over answers awaiting confirmation, drafts
    discarded with a reason (kept, never changed again), the reason for an addendum."""
    cur.execute(f"ALTER TABLE consultations ADD COLUMN unconfirmed {T} NOT NULL DEFAULT '[]'")
    cur.execute(
        f"ALTER TABLE consultations ADD COLUMN copied_from {T} REFERENCES consultations(id)"
    )
    cur.execute(f"ALTER TABLE consultations ADD COLUMN discarded_at {T}")
    cur.execute(f"ALTER TABLE consultations ADD COLUMN discarded_by {T} NOT NULL DEFAULT ''")
    cur.execute(f"ALTER TABLE consultations ADD COLUMN discard_reason {T} NOT NULL DEFAULT ''")
    cur.execute(f"ALTER TABLE consultations ADD COLUMN addendum_reason {T} NOT NULL DEFAULT ''")
    cur.execute("CREATE INDEX consultations_state ON consultations (state, discarded_at)")
    discarded = "OLD.discarded_at IS NOT NULL"
    _refuse(cur, "consultations_discarded_no_update", "BEFORE UPDATE", "consultations",
            DISCARDED, discarded)  # fmt: skip
    _refuse(cur, "consultations_discarded_no_delete", "BEFORE DELETE", "consultations",
            DISCARDED, discarded)  # fmt: skip
    _refuse(cur, "consultations_signed_not_discarded", "BEFORE UPDATE", "consultations",
            "a signed consultation cannot be discarded",
            "NEW.discarded_at IS NOT NULL AND NEW.state <> 'draft'")  # fmt: skip


MIGRATIONS: tuple[Migration, ...] = (
    Migration("pg_0001_core", "0001_core", _pg_0001_core),
    Migration("pg_0002_signed_documents", "0002_signed_documents", _pg_0002_signed_documents),
    Migration("pg_0003_accounts_audit", "0003_accounts_audit", _pg_0003_accounts_audit),
    Migration("pg_0004_integrity", "0004_integrity", _pg_0004_integrity),
    Migration("pg_0005_seal_in_database", "0005_seal_in_database", _pg_0005_seal_in_database),
    Migration("pg_0006_front_desk", "0006_front_desk", _pg_0006_front_desk),
    Migration("pg_0007_repeat_visits", "0007_repeat_visits", _pg_0007_repeat_visits),
)
SCHEMA = tuple(m.name for m in MIGRATIONS)
# The functions the migrations create (the triggers' bodies), dropped with the tables when a
# restore builds the schema anew.
FUNCTIONS = (
    "clinic_refuse()",
    "clinic_refuse_if_signed()",
    "clinic_patient_keys_insert()",
    "clinic_patient_keys_delete()",
    "clinic_patient_keys_update()",
)


def applied(cur: Cursor) -> list[str] | None:
    """The migrations applied to the connected database, in order; None without the table."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [MIGRATIONS_TABLE])
    row = cur.fetchone()
    if not row or not row[0]:
        return None
    cur.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = %s ORDER BY seq",
        [MIGRATION_SET],
    )
    return [str(r[0]) for r in cur.fetchall()]


def apply(cur: Cursor, now: str, stop_before: str | None = None) -> list[str]:
    """Apply the pending migrations (up to `stop_before`) inside the caller's transaction.

    The caller holds the migration lock, so two workstations opening a new database at once
    migrate it once. Returns the names applied.
    """
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (seq INTEGER PRIMARY KEY, "
        f"migration_set {T} NOT NULL, name {T} NOT NULL, applied_at {T} NOT NULL, "
        "UNIQUE (migration_set, name))"
    )
    done = applied(cur) or []
    names: list[str] = []
    for migration in MIGRATIONS:
        if migration.name == stop_before:
            break
        if migration.name in done:
            continue
        migration.apply(cur)
        cur.execute(
            f"INSERT INTO {MIGRATIONS_TABLE} (seq, migration_set, name, applied_at) "
            f"VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM {MIGRATIONS_TABLE}), %s, %s, %s)",
            [MIGRATION_SET, migration.name, now],
        )
        names.append(migration.name)
    return names
