"""Named, ordered schema migrations of the clinic database (sqlite-utils migrations)."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from desktop.storage.schema import APPLICATION_ID

MIGRATIONS = Migrations("clinic_intake")  # storage.MIGRATION_SET and storage.SCHEMA name these

# The FTS index holds names folded by storage.fold() (so "Żółć" and "zolc" meet) and is
# tokenised with unicode61, which also strips any diacritics left over.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"


@MIGRATIONS(name="0001_core")
def m0001_core(db: Database) -> None:
    """Patients with full-text search, draft consultations and settings."""
    db.execute(
        """
        CREATE TABLE patients (
            id TEXT PRIMARY KEY,
            given_name TEXT NOT NULL,
            family_name TEXT NOT NULL,
            date_of_birth TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            fitzpatrick TEXT,
            notes TEXT NOT NULL DEFAULT '',
            demo INTEGER NOT NULL DEFAULT 0,
            search_name TEXT NOT NULL,
            search_phone TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX patients_name_dob ON patients (search_name, date_of_birth)")
    for statement in _patients_fts():
        db.execute(statement)
    db.execute(
        """
        CREATE TABLE consultations (
            id TEXT PRIMARY KEY,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            clinician TEXT NOT NULL DEFAULT '',
            date TEXT NOT NULL,
            device TEXT NOT NULL DEFAULT '',
            needle_depth_mm REAL,
            product TEXT NOT NULL DEFAULT '',
            areas TEXT NOT NULL DEFAULT '[]',
            session_number INTEGER NOT NULL DEFAULT 1,
            checklist_id TEXT NOT NULL,
            checklist_version TEXT NOT NULL,
            answers TEXT NOT NULL DEFAULT '{}',
            strict INTEGER NOT NULL DEFAULT 0,
            assessment TEXT,
            override_decision TEXT,
            override_reason TEXT,
            override_author TEXT,
            override_at TEXT,
            state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'signed')),
            amends_id TEXT REFERENCES consultations(id),
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            signed_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX consultations_patient ON consultations (patient_id, date)")
    db.execute("CREATE INDEX consultations_date ON consultations (date)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@MIGRATIONS(name="0002_signed_documents")
def m0002_signed_documents(db: Database) -> None:
    """Signatures, sealed documents, test spots, and the triggers that make signed immutable."""
    db.execute("ALTER TABLE consultations ADD COLUMN photo_other_use INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE signatures (
            id TEXT PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations(id),
            role TEXT NOT NULL,
            signer_name TEXT NOT NULL,
            strokes TEXT NOT NULL,
            width REAL NOT NULL,
            height REAL NOT NULL,
            signed_at TEXT NOT NULL,
            UNIQUE (consultation_id, role)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations(id),
            kind TEXT NOT NULL,
            template_id TEXT NOT NULL,
            template_version TEXT NOT NULL,
            pdf BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            created TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX documents_consultation ON documents (consultation_id)")
    db.execute("CREATE UNIQUE INDEX documents_sha256 ON documents (sha256)")
    db.execute(
        """
        CREATE TABLE test_spots (
            id TEXT PRIMARY KEY,
            consultation_id TEXT NOT NULL REFERENCES consultations(id),
            patient_id TEXT NOT NULL REFERENCES patients(id),
            site TEXT NOT NULL,
            done_on TEXT NOT NULL,
            created TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX test_spots_patient ON test_spots (patient_id)")
    db.execute(
        """
        CREATE TABLE test_spot_reviews (
            id TEXT PRIMARY KEY,
            test_spot_id TEXT NOT NULL REFERENCES test_spots(id),
            week INTEGER NOT NULL CHECK (week IN (4, 12)),
            result TEXT NOT NULL,
            reviewed_on TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            UNIQUE (test_spot_id, week)
        )
        """
    )
    for statement in _immutability_triggers():
        db.execute(statement)


def _patients_fts() -> list[str]:
    """FTS5 over the folded name, phone and birth date, with 2- and 3-letter prefix indexes."""
    cols = "search_name, search_phone, date_of_birth"
    new = "new.search_name, new.search_phone, new.date_of_birth"
    old = "old.search_name, old.search_phone, old.date_of_birth"
    delete = (
        f"INSERT INTO patients_fts (patients_fts, rowid, {cols}) "
        f"VALUES ('delete', old.rowid, {old});"
    )
    insert = f"INSERT INTO patients_fts (rowid, {cols}) VALUES (new.rowid, {new});"
    return [
        f"CREATE VIRTUAL TABLE patients_fts USING fts5({cols}, content=patients, "
        f"tokenize='{FTS_TOKENIZE}', prefix='2 3')",
        f"CREATE TRIGGER patients_ai AFTER INSERT ON patients BEGIN {insert} END",
        f"CREATE TRIGGER patients_ad AFTER DELETE ON patients BEGIN {delete} END",
        f"CREATE TRIGGER patients_au AFTER UPDATE ON patients BEGIN {delete} {insert} END",
    ]


def _immutability_triggers() -> list[str]:
    immutable = "a signed consultation cannot be changed; record an addendum instead"
    signed = "(SELECT state FROM consultations WHERE id = {}.consultation_id) = 'signed'"
    abort = "BEGIN SELECT RAISE(ABORT, '{}'); END"
    return [
        "CREATE TRIGGER consultations_signed_no_update BEFORE UPDATE ON consultations "
        f"WHEN OLD.state = 'signed' {abort.format(immutable)}",
        "CREATE TRIGGER consultations_signed_no_delete BEFORE DELETE ON consultations "
        f"WHEN OLD.state = 'signed' {abort.format(immutable)}",
        "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents "
        + abort.format("a stored document cannot be changed"),
        "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents "
        + abort.format("a stored document cannot be deleted"),
        "CREATE TRIGGER documents_only_for_drafts BEFORE INSERT ON documents "
        f"WHEN {signed.format('NEW')} {abort.format(immutable)}",
        "CREATE TRIGGER signatures_signed_no_insert BEFORE INSERT ON signatures "
        f"WHEN {signed.format('NEW')} {abort.format(immutable)}",
        "CREATE TRIGGER signatures_signed_no_update BEFORE UPDATE ON signatures "
        f"WHEN {signed.format('OLD')} {abort.format(immutable)}",
        "CREATE TRIGGER signatures_signed_no_delete BEFORE DELETE ON signatures "
        f"WHEN {signed.format('OLD')} {abort.format(immutable)}",
    ]


@MIGRATIONS(name="0003_accounts_audit")
def m0003_accounts_audit(db: Database) -> None:
    """User accounts, who started each consultation, and the append-only audit trail."""
    db.execute(
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            roles TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            last_failure TEXT,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )
        """
    )
    db.execute("ALTER TABLE consultations ADD COLUMN created_by TEXT")
    db.execute(
        """
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            patient TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX audit_user ON audit (user, at)")
    db.execute("CREATE INDEX audit_patient ON audit (patient)")
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )


@MIGRATIONS(name="0004_integrity")
def m0004_integrity(db: Database) -> None:
    """Revisions on patients and consultations, signatures bound to the content shown, the
    clinic's identity, and the application id that marks the file as a clinic database."""
    for table in ("patients", "consultations"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN revision INTEGER NOT NULL DEFAULT 1")
        db.execute(f"ALTER TABLE {table} ADD COLUMN updated_by TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE signatures ADD COLUMN content_sha256 TEXT NOT NULL DEFAULT ''")
    # A random identity per clinic: a restore from another clinic's backup asks first.
    db.execute(
        "INSERT OR IGNORE INTO settings (key, value) "
        "VALUES ('clinic_id', json_quote(lower(hex(randomblob(16)))))"
    )
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@MIGRATIONS(name="0005_seal_in_database")
def m0005_seal_in_database(db: Database) -> None:
    """The clinic seal in the database: its key and chain, and every certificate it has had.

    Before this, the key and certificate were files beside the database (not in backups) and
    the certificate history a setting; the clinic service moves them in on first use.
    """
    db.execute(
        """
        CREATE TABLE seal_certificates (
            seq INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            certificate TEXT NOT NULL,
            added TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE seal (
            slot INTEGER PRIMARY KEY CHECK (slot = 1),
            fingerprint TEXT NOT NULL REFERENCES seal_certificates(fingerprint),
            private_key TEXT NOT NULL,
            chain TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('generated', 'imported')),
            since TEXT NOT NULL
        )
        """
    )
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER seal_certificates_no_{event.lower()} BEFORE {event} "
            "ON seal_certificates BEGIN SELECT RAISE(ABORT, "
            "'the seal certificate history is append-only'); END"
        )


@MIGRATIONS(name="0006_front_desk")
def m0006_front_desk(db: Database) -> None:
    """Address, emergency contact and the E.164 phone on patients; patient search over one
    index of folded name, phone and birth-date keys (replacing full-text search); indexes for
    the newest patients and for the audit viewer's filters."""
    for column in ("phone_e164", "address", "emergency_contact_name", "emergency_contact_phone"):
        db.execute(f"ALTER TABLE patients ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE patients ADD COLUMN search_keys TEXT NOT NULL DEFAULT '{}'")
    for trigger in ("patients_ai", "patients_ad", "patients_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS patients_fts")
    db.execute(
        "CREATE TABLE patient_keys (key TEXT NOT NULL, patient INTEGER NOT NULL, "
        "PRIMARY KEY (key, patient DESC)) WITHOUT ROWID"
    )
    for statement in _patient_keys_triggers():
        db.execute(statement)
    _refill_search_columns(db)
    db.execute("CREATE INDEX patients_updated ON patients (updated)")
    # The viewer lists a user's, an action's or a day's newest entries: each index ends in
    # the row's number (seq), so the newest come first without sorting the trail.
    db.execute("DROP INDEX audit_user")
    db.execute("CREATE INDEX audit_user ON audit (user)")
    db.execute("CREATE INDEX audit_action ON audit (action)")
    db.execute("CREATE INDEX audit_at ON audit (at)")


def _patient_keys_triggers() -> list[str]:
    """`patient_keys` follows the keys in each patient's `search_keys` (storage.search.KEYS)."""
    insert = (
        "INSERT OR IGNORE INTO patient_keys (key, patient) "
        "SELECT value, new.rowid FROM json_each(new.search_keys, '$.\"~k\"');"
    )
    delete = (
        "DELETE FROM patient_keys WHERE patient = old.rowid "
        "AND key IN (SELECT value FROM json_each(old.search_keys, '$.\"~k\"'));"
    )
    return [
        f"CREATE TRIGGER patient_keys_ai AFTER INSERT ON patients BEGIN {insert} END",
        f"CREATE TRIGGER patient_keys_ad AFTER DELETE ON patients BEGIN {delete} END",
        "CREATE TRIGGER patient_keys_au AFTER UPDATE OF search_keys ON patients "
        f"WHEN old.search_keys IS NOT new.search_keys BEGIN {delete} {insert} END",
    ]


def _refill_search_columns(db: Database, batch: int = 5000) -> None:
    """Recompute every patient's search columns with today's folding. A phone typed with
    its country code gains its E.164 form; what is shown and printed stays as it was."""
    from desktop.storage.search import name_key, phone_key, read_phone, search_keys

    conn = db.conn
    last = -1
    while True:
        rows = conn.execute(
            "SELECT rowid, given_name, family_name, date_of_birth, phone FROM patients "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?",
            [last, batch],
        ).fetchall()
        if not rows:
            return
        updates = []
        for rowid, given, family, dob, phone in rows:
            e164 = read_phone(phone, None).e164
            keys = search_keys(given, family, date.fromisoformat(dob), e164, phone)
            updates.append((e164, name_key(given, family), phone_key(e164, phone), keys, rowid))
        conn.executemany(
            "UPDATE patients SET phone_e164 = ?, search_name = ?, search_phone = ?, "
            "search_keys = ? WHERE rowid = ?",
            updates,
        )
        last = rows[-1][0]


@MIGRATIONS(name="0007_repeat_visits")
def m0007_repeat_visits(db: Database) -> None:
    """Repeat visits and handover: answers carried over from an earlier consultation wait for
    confirmation; a stray draft can be discarded with a reason (kept, never changed again);
    an addendum records why it was made."""
    db.execute("ALTER TABLE consultations ADD COLUMN unconfirmed TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE consultations ADD COLUMN copied_from TEXT REFERENCES consultations(id)")
    db.execute("ALTER TABLE consultations ADD COLUMN discarded_at TEXT")
    db.execute("ALTER TABLE consultations ADD COLUMN discarded_by TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE consultations ADD COLUMN discard_reason TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE consultations ADD COLUMN addendum_reason TEXT NOT NULL DEFAULT ''")
    # The lists (a patient's history, open drafts, a day's) leave discarded drafts out.
    db.execute("CREATE INDEX consultations_state ON consultations (state, discarded_at)")
    discarded = "a discarded draft cannot be changed; start a new consultation instead"
    db.execute(
        "CREATE TRIGGER consultations_discarded_no_update BEFORE UPDATE ON consultations "
        f"WHEN OLD.discarded_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{discarded}'); END"
    )
    db.execute(
        "CREATE TRIGGER consultations_discarded_no_delete BEFORE DELETE ON consultations "
        f"WHEN OLD.discarded_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{discarded}'); END"
    )
    db.execute(
        "CREATE TRIGGER consultations_signed_not_discarded BEFORE UPDATE ON consultations "
        "WHEN NEW.discarded_at IS NOT NULL AND NEW.state <> 'draft' "
        "BEGIN SELECT RAISE(ABORT, 'a signed consultation cannot be discarded'); END"
    )
