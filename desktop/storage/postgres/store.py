"""The PostgreSQL backend: the clinic's server, shared by every workstation (psycopg's home)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.rows import dict_row, tuple_row

from desktop.errors import IntakeError, StorageError, ValidationError
from desktop.storage.key_search import Dialect, KeySearch
from desktop.storage.postgres import migrations, server
from desktop.storage.postgres.dialect import translate
from desktop.storage.rows import Row
from desktop.storage.schema import DERIVED_TABLES
from desktop.storage.search import KEYS, SORT, Found, Term
from desktop.storage.store import Params, Store

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

APPLICATION_NAME = "Clinic Intake"
CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT = "15s"  # how long a write waits for another workstation's transaction
# A workstation that stops answering in the middle of a transaction must not hold the clinic's
# write lock for long: the server ends such a session (and so rolls it back) after this.
IDLE_IN_TRANSACTION_TIMEOUT = "120s"
# pg_advisory_xact_lock keys: one write lock per clinic database (the twin of SQLite's BEGIN
# IMMEDIATE: a use case that reads and then writes cannot be overtaken in between, and the
# audit chain is appended by one transaction at a time), and one for migrations.
CLOSING_POLLS = 10
WRITE_LOCK = 0x434C4E49_0001  # "CLNI" 1
MIGRATE_LOCK = 0x434C4E49_0002
# What another application leaves in a database, in any schema but the server's own (pg_*,
# information_schema): tables, views, sequences and foreign tables, functions and
# procedures, and types of its own (not those an extension brings, such as `amcheck`, which
# a clinic's administrator may install; not the array and row types made with another
# object). A database without the clinic's schema that holds any of them is not taken over.
_OURS_NOT = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
FOREIGN_OBJECTS = f"""
    SELECT name FROM (
      SELECT n.nspname || '.' || c.relname AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_OURS_NOT}
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                         AND d.objid = c.oid AND d.deptype = 'e')
      UNION ALL
      SELECT n.nspname || '.' || p.proname || '()' FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE {_OURS_NOT}
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                         AND d.objid = p.oid AND d.deptype = 'e')
      UNION ALL
      SELECT n.nspname || '.' || t.typname FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND {_OURS_NOT}
         AND NOT (t.typcategory = 'A' AND t.typelem <> 0)
         AND (t.typrelid = 0 OR EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = t.typrelid
                                        AND k.relkind = 'c'))
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                         AND d.objid = t.oid AND d.deptype = 'e')
    ) AS found ORDER BY name LIMIT 3
"""
# The `amcheck` functions the full check uses where the server's administrator installed them.
AMCHECK_BTREE = "bt_index_check(regclass, boolean)"
AMCHECK_HEAP = "verify_heapam(regclass, boolean, boolean, text, bigint, bigint)"

# How patient search (storage.key_search) is written for PostgreSQL: text columns are "C"
# collated (byte-wise, as SQLite compares), and a value out of JSON is given that collation.
DIALECT = Dialect(
    row_id="row_seq",
    contains="strpos({}, ?) > 0",
    sort_name=f"(({{}}::json) ->> '{SORT}') COLLATE \"C\"",
    keys_of=(
        'LATERAL (SELECT j.value COLLATE "C" AS value FROM '
        f"jsonb_array_elements_text(p.search_keys::jsonb -> '{KEYS}') AS j (value)) AS e"
    ),
    arrays=True,
)


def _json_text(value: object) -> str | None:
    return str(json.loads(str(value))) if value is not None else None


def _now() -> str:
    return datetime.now().astimezone().replace(microsecond=0).isoformat()


def _dropped(conn: psycopg.Connection[Row], exc: psycopg.Error) -> bool:
    """Whether `exc` means the server had dropped `conn` (restarted, or the network cut it)."""
    return isinstance(exc, psycopg.OperationalError) and (conn.broken or conn.closed)


def _is_read(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


# What PostgreSQL's text cannot hold: the NUL character, and half of a UTF-16 surrogate
# pair (not a character at all; Python strings can carry one, UTF-8 cannot).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(params: Params, *, reading: bool) -> Params:
    """`params` as they may go to the server.

    A text the server cannot hold (a NUL character or a lone surrogate) is never sent: in a
    read it stands for a value no stored text equals, starts with or contains (nothing
    stored can hold it), so it goes as NULL, which SQL compares with nothing; in a write it
    is refused with ValidationError, before anything is sent, saying what to do.
    """
    values = params.values() if isinstance(params, dict) else params
    if not any(_holds_unstorable(v) for v in values):
        return params
    if isinstance(params, dict):
        return {k: _storable_value(v, reading) for k, v in params.items()}
    return [_storable_value(v, reading) for v in params]


def _holds_unstorable(value: object) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, list | tuple):
        return any(_holds_unstorable(v) for v in value)
    return False


def _storable_value(value: Any, reading: bool) -> Any:
    if isinstance(value, list | tuple):
        return [_storable_value(v, reading) for v in value]
    if not _holds_unstorable(value):
        return value
    if reading:
        return None
    raise _unstorable(str(value))


def _unstorable(text: str, field: str | None = None, record: str = "") -> ValidationError:
    """The refusal of `text` (in `field` of `record`, when known), in words a user can act on:
    where in the text the character is (the NUL shown as ␀), and what to do."""
    at = _UNSTORABLE.search(text)
    start = at.start() if at is not None else 0
    left, right = max(0, start - 24), start + 24
    excerpt = "".join(_visible(ch) for ch in text[left:right])
    excerpt = ("…" if left else "") + excerpt + ("…" if right < len(text) else "")
    what = (
        "a NUL character (an invisible control character, often pasted from another program)"
        if "\x00" in text
        else "half of a character pair (not valid text; from a damaged file or paste)"
    )
    where = f" (the {field} of {record})" if record else ""
    return ValidationError(
        f"The text “{excerpt}”{where} holds {what}, which the clinic's server cannot store; "
        "nothing was saved. Remove it (retype that part of the text) and save again.",
        field,
    )


def _visible(ch: str) -> str:
    if ch == "\x00":
        return "\u2400"  # SYMBOL FOR NULL
    return "\ufffd" if "\ud800" <= ch <= "\udfff" else ch


class PostgresStore(Store):
    """A clinic database on a PostgreSQL server, named by a postgresql:// URL.

    Passwords come from where libpq looks (the URL, ~/.pgpass or PGPASSFILE, PGSERVICE);
    TLS follows the URL's sslmode. One connection serves the window and its workers in turn
    (a lock); long reads use connections of their own. A connection lost between use cases
    is replaced on the next one, after checking that the server still holds the same clinic.
    """

    path = None
    server = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.params = server.parse(url)
        self.label = server.label(url)
        self._user = self.params.get("user", "")
        self._using = threading.RLock()
        self._keys = KeySearch(DIALECT, self._search_values, self._search_rows)
        self._depth = 0
        self.clinic_id: str | None = None
        self._conn: psycopg.Connection[Row] | None = None
        conn = self._connect(saving=False)
        try:
            self._prepare(conn)
            self.clinic_id = self._clinic_id(conn)
            self.identity = server.workstation_key(url, self.clinic_id or "")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        super().__init__()

    # Connections ------------------------------------------------------------------------

    def _connect(self, *, saving: bool = True) -> psycopg.Connection[Row]:
        defaults: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": APPLICATION_NAME,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 20000,
        }
        options = {k: v for k, v in defaults.items() if k not in self.params}
        try:
            conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, **options)
        except psycopg.Error as exc:
            raise self._error(exc, saving=saving) from exc
        try:
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute(
                f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"
            )
        except psycopg.Error as exc:
            conn.close()
            raise self._error(exc, saving=saving) from exc
        return conn

    def _error(self, exc: psycopg.Error, *, saving: bool = True) -> IntakeError:
        if isinstance(exc, psycopg.OperationalError) and self._lost(exc):
            return StorageError(server.unreachable(self.label, exc, saving=saving))
        return server.friendly_error(exc, self.label, self._user, saving=saving)

    def _lost(self, exc: psycopg.Error) -> bool:
        """Whether `exc` means the open connection is gone (not a refused connection)."""
        conn = self._conn
        if conn is None:
            return False
        if conn.broken or conn.closed:
            return True
        return isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.ConnectionFailure)

    def _prepare(self, conn: psycopg.Connection[Row]) -> None:
        """Recognise the database, and create or upgrade its schema (once, under a lock)."""
        try:
            with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATE_LOCK])
                done = self._recognise(cur)
                if done != list(migrations.SCHEMA):
                    names = migrations.apply(cur, _now())
                    log.info("applied migrations %s to %s", ", ".join(names), self.label)
        except psycopg.Error as exc:
            raise self._error(exc, saving=False) from exc

    def _recognise(self, cur: migrations.Cursor) -> list[str]:
        """Refuse another application's database and one from a newer version of ours."""
        done = migrations.applied(cur)
        if done is None:
            cur.execute(FOREIGN_OBJECTS)
            found = [str(r[0]) for r in cur.fetchall()]
            if found:
                raise StorageError(
                    f"The database {self.label} holds another application's tables or other "
                    f"objects ({', '.join(found)}), not a clinic's; it was left as it was. "
                    "Point Clinic Intake at an empty database made for the clinic (README, "
                    "'Several computers')."
                )
            return []
        unknown = [n for n in done if n not in migrations.SCHEMA]
        if unknown or done != list(migrations.SCHEMA[: len(done)]):
            raise StorageError(
                f"The database {self.label} was made by a newer version of Clinic Intake (it "
                f"has the schema change {(unknown or done)[-1]}, which this version does not "
                "know); it was left as it was. Install the newer version on this computer."
            )
        return done

    def _clinic_id(self, conn: psycopg.Connection[Row]) -> str | None:
        row = conn.execute("SELECT value FROM settings WHERE key = 'clinic_id'").fetchone()
        return _json_text(row["value"]) if row is not None else None

    def _ready(self) -> psycopg.Connection[Row]:
        """The connection, replaced first when it was lost (only between use cases)."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        self._conn = None
        conn = self._connect()
        try:
            with conn.cursor(row_factory=tuple_row) as cur:
                done = migrations.applied(cur)
            if done != list(migrations.SCHEMA):
                raise StorageError(
                    f"The database {self.label} was changed by another version of Clinic "
                    "Intake while this one was disconnected; nothing was saved. Close Clinic "
                    "Intake and start it again (install the newer version if it asks)."
                )
            if self._clinic_id(conn) != self.clinic_id:
                raise StorageError(
                    f"The database {self.label} now holds another clinic (it was restored or "
                    "replaced while this computer was disconnected); nothing was saved. Close "
                    "Clinic Intake and open it again."
                )
        except psycopg.Error as exc:
            conn.close()
            raise self._error(exc) from exc
        except BaseException:
            conn.close()
            raise
        log.info("reconnected to %s", self.label)
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._using:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # Transactions -----------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._using:
            if self._depth == 0:
                yield from self._outermost()
            else:
                yield from self._nested()

    def _outermost(self) -> Iterator[None]:
        conn, row = self._begin()
        if row is None or _json_text(row["clinic"]) != self.clinic_id:
            self._rollback(conn)
            raise StorageError(
                f"The database {self.label} now holds another clinic (it was restored or "
                "replaced from another computer); nothing was saved. Close Clinic Intake and "
                "open it again."
            )
        if row["moved"] is not None:
            self._rollback(conn)
            raise StorageError(
                f"The clinic was moved out of {self.label} ({_json_text(row['moved'])}); "
                "nothing was saved here. Point this computer at the clinic's new place "
                "(Settings > Database, or --db), then enter the change again."
            )
        self._depth = 1
        try:
            yield
        except BaseException as exc:
            self._depth = 0
            self._rollback(conn)
            self._rolled_back()
            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from exc
            raise
        self._depth = 0
        try:
            if conn.info.transaction_status != pq.TransactionStatus.INTRANS:
                raise StorageError(
                    f"A change to {self.label} failed part-way and was undone; nothing was "
                    "saved. Try again."
                )
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            self._rollback(conn)
            self._rolled_back()
            if isinstance(exc, psycopg.OperationalError) and self._lost(exc):
                raise StorageError(
                    f"The connection to the clinic's server {self.label} was lost while "
                    "saving, so the change may or may not have been saved. Once the server "
                    "is back, open the record again to see what it holds."
                ) from exc
            raise self._error(exc) from exc
        except BaseException:
            self._rollback(conn)
            self._rolled_back()
            raise
        self._committed()

    def _begin(self) -> tuple[psycopg.Connection[Row], Row | None]:
        """Open the use case's transaction: BEGIN, the write lock, the clinic held now.

        A connection the server dropped since the last use case (a restart, a network
        outage) is found out here, before anything of the use case was sent: it is replaced
        once (`_ready` checks the server still holds the same clinic) and the transaction
        begun again. Nothing is ever sent again once the use case's own statements ran.
        """
        for attempt in (1, 2):
            conn = self._ready()
            try:
                conn.execute("BEGIN")
                # The write lock, and (same round trip) the clinic this database holds now:
                # a database restored from another clinic's backup is not written to unawares.
                # A clinic moved elsewhere meanwhile is not written to either.
                row = conn.execute(
                    "SELECT pg_advisory_xact_lock(%s) AS locked, "
                    "(SELECT value FROM settings WHERE key = 'clinic_id') AS clinic, "
                    "(SELECT value FROM settings WHERE key = 'moved_to') AS moved",
                    [WRITE_LOCK],
                ).fetchone()
            except psycopg.Error as exc:
                self._rollback(conn)
                if attempt == 1 and _dropped(conn, exc):
                    log.info("the connection to %s was dropped; connecting again", self.label)
                    continue
                raise self._error(exc) from exc
            return conn, row
        raise AssertionError("unreachable")  # pragma: no cover

    def _nested(self) -> Iterator[None]:
        conn = self._conn
        assert conn is not None
        name = f"sp_{secrets.token_hex(6)}"
        try:
            conn.execute(f"SAVEPOINT {name}")
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        self._depth += 1
        try:
            yield
        except BaseException as exc:
            self._depth -= 1
            if not conn.broken:
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from exc
            raise
        self._depth -= 1
        try:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def _rollback(self, conn: psycopg.Connection[Row]) -> None:
        if conn.closed or conn.broken:
            return
        if conn.info.transaction_status == pq.TransactionStatus.IDLE:
            return
        with contextlib.suppress(psycopg.Error):
            conn.execute("ROLLBACK")

    # Statements -------------------------------------------------------------------------

    def _conn_for_statement(self) -> psycopg.Connection[Row]:
        if self._depth:
            assert self._conn is not None
            return self._conn
        return self._ready()

    def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement. ValidationError, before anything is sent, when a text to be
        written holds what the server cannot store (storable)."""
        params = storable(params, reading=_is_read(sql))
        with self._using:
            conn = self._conn_for_statement()
            try:
                conn.execute(translate(sql), params)
            except psycopg.Error as exc:
                raise self._error(exc) from exc

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return self.native_rows(translate(sql), params)

    def native_rows(self, sql: str, params: Params = ()) -> list[Row]:
        """`rows` for SQL already written in psycopg's style (`%s` placeholders). A query
        outside a use case's transaction is run again once on a new connection when the
        server had dropped the old one (a read changes nothing: running it twice is safe)."""
        reading = _is_read(sql)
        params = storable(params, reading=reading)
        with self._using:
            return self._reading(lambda conn: conn.execute(sql, params).fetchall(), reading)

    def _reading(self, run: Callable[[psycopg.Connection[Row]], _T], again: bool = True) -> _T:
        """`run(connection)`, and once more on a new connection if the connection was found
        dropped outside a transaction and `again` (a read)."""
        for attempt in (1, 2):
            conn = self._conn_for_statement()
            try:
                return run(conn)
            except psycopg.Error as exc:
                if attempt == 1 and again and not self._depth and _dropped(conn, exc):
                    log.info("the connection to %s was dropped; connecting again", self.label)
                    continue
                raise self._error(exc, saving=self._depth > 0) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Rows one at a time through a server-side cursor on a connection of its own, so a
        long read (a million audit rows) neither holds up nor waits for other work."""
        params = storable(params, reading=True)
        reader = self._connect(saving=False)
        try:
            with reader.transaction(), reader.cursor(name="clinic_stream") as cur:
                cur.itersize = 2000
                cur.execute(translate(sql), params)
                yield from cur
        except psycopg.Error as exc:
            raise server.friendly_error(exc, self.label, self._user) from exc
        finally:
            reader.close()

    def applied_migrations(self) -> list[str]:
        with self._using:
            conn = self._conn_for_statement()
            with conn.cursor(row_factory=tuple_row) as cur:
                return migrations.applied(cur) or []

    # Search -----------------------------------------------------------------------------

    def search_patients(self, terms: list[Term], limit: int) -> Found:
        """Patients matching every term, over the `patient_keys` index: the same algorithm
        and SQL as SQLite's (storage.key_search), so both give the same patients in the same
        order; each typed prefix is one range of the "C"-collated B-tree on the keys."""
        with self._using:
            # Reads only: run again once on a new connection if the server had dropped it.
            return self._reading(
                lambda _conn: self._keys.search(terms, limit, self.patients.ranked_at_most)
            )

    def _search_values(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        # Never a prepared statement: each range is planned for its own bounds (a generic
        # plan cannot tell a range of ten keys from one of a million).
        conn = self._conn_for_statement()
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(translate(sql), storable(params, reading=True), prepare=False)
            return cur.fetchall()

    def _search_rows(self, sql: str, params: list[Any]) -> list[Row]:
        conn = self._conn_for_statement()
        return conn.execute(
            translate(sql), storable(params, reading=True), prepare=False
        ).fetchall()

    # Checks -----------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """The full check of the clinic database (reads every table: run it in a worker);
        an empty list means it is sound. Every table and B-tree index is checked against its
        rows with the server's `amcheck` where the server's administrator installed it in
        this database and let the clinic's role run it (`CREATE EXTENSION amcheck; GRANT
        EXECUTE ON FUNCTION` AMCHECK_BTREE, AMCHECK_HEAP `TO clinic`); then the patient search
        index against the patients' keys, the audit trail's links, invalid indexes, and
        switched-off triggers (the refusals that keep signed records and the audit trail
        unchanged)."""
        with self._using:
            try:
                problems = self._amcheck_problems()
                problems += self._catalog_problems()
                problems += self._keys.index_problems()
                problems += self.audit.link_problems()
            except psycopg.Error as exc:
                problems = [f"the check could not finish: {str(exc).strip()}"]
            return problems

    def _amcheck_problems(self) -> list[str]:
        """What the server's `amcheck` finds wrong in the clinic's tables and B-tree indexes
        (nothing when the administrator did not install it for this database: logged)."""
        (can,) = self.native_rows(
            "SELECT coalesce(has_function_privilege(to_regprocedure(%s), 'EXECUTE'), false) "
            "AS btree, coalesce(has_function_privilege(to_regprocedure(%s), 'EXECUTE'), false) "
            "AS heap",
            [AMCHECK_BTREE, AMCHECK_HEAP],
        )
        if not (can["btree"] and can["heap"]):
            log.info("amcheck is not installed for %s: tables and indexes not checked", self.label)
        problems: list[str] = []
        ours = self.tables() + sorted(DERIVED_TABLES)
        if can["heap"]:
            for table in ours:
                for r in self.native_rows(
                    "SELECT blkno, offnum, msg FROM verify_heapam(%s::regclass, "
                    "check_toast => true) LIMIT 3",
                    [table],
                ):
                    problems.append(f"{table}: page {r['blkno']}, row {r['offnum']}: {r['msg']}")
        if can["btree"]:
            indexes = self.native_rows(
                "SELECT c.relname AS name FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE t.relname = ANY(%s) AND "
                "t.relnamespace = current_schema()::regnamespace AND a.amname = 'btree' "
                "AND i.indisvalid ORDER BY 1",
                [ours],
            )
            for r in indexes:
                try:
                    # Every row of the table is looked up in the index (heapallindexed).
                    self.native_rows("SELECT bt_index_check(%s::regclass, true)", [r["name"]])
                except (psycopg.errors.IndexCorrupted, psycopg.errors.DataCorrupted) as exc:
                    problems.append(f"index {r['name']}: {str(exc).strip()}")
        return problems

    def _catalog_problems(self) -> list[str]:
        problems = []
        for r in self.native_rows(
            "SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid "
            "ORDER BY 1"
        ):
            problems.append(
                f"index {r['name']} is not valid (a failed rebuild): rebuild it with REINDEX"
            )
        for r in self.native_rows(
            "SELECT t.tgname AS name, c.relname AS tab FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND "
            "t.tgenabled = 'D' AND c.relnamespace = current_schema()::regnamespace ORDER BY 1"
        ):
            problems.append(
                f"trigger {r['name']} on {r['tab']} is switched off: what it refuses or keeps "
                "in step is not enforced; switch it on (ALTER TABLE ... ENABLE TRIGGER)"
            )
        return problems

    # Moving, backing up, restoring ------------------------------------------------------

    def tables(self) -> list[str]:
        """The clinic's tables: not the migrations' own, not the patient key index
        (schema.DERIVED_TABLES)."""
        return [t for t in self._all_tables() if t not in DERIVED_TABLES]

    def _all_tables(self) -> list[str]:
        rows = self.native_rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> %s ORDER BY tablename",
            [migrations.MIGRATIONS_TABLE],
        )
        return [str(r["tablename"]) for r in rows]

    def copy_columns(self, table: str) -> list[str]:
        """The columns of `table` that a copy carries (not generated, not identity)."""
        rows = self.native_rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND is_generated = 'NEVER' AND "
            "is_identity = 'NO' ORDER BY ordinal_position",
            [table],
        )
        return [str(r["column_name"]) for r in rows]

    def registration_order(self, table: str) -> str:
        return "row_seq" if table == "patients" else self.copy_columns(table)[0]

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store.Reader]:
        """A read-only view of the whole database at one moment (REPEATABLE READ), on a
        connection of its own: a backup or a move copies a consistent clinic while the
        workstations go on working."""
        reader = self._connect(saving=False)
        try:
            reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _SnapshotReader(reader, self)
        except psycopg.Error as exc:
            raise server.friendly_error(exc, self.label, self._user) from exc
        finally:
            reader.close()

    def insert_many(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert `rows` into `table` with COPY (inside the current transaction)."""
        assert self._depth > 0 and self._conn is not None, "insert_many needs a transaction"
        names = ", ".join(f'"{c}"' for c in columns)
        count = 0
        row: Sequence[Any] = ()
        try:
            with self._conn.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as cp:
                for row in rows:
                    cp.write_row(row)
                    count += 1
        except (psycopg.DataError, UnicodeEncodeError) as exc:
            # psycopg refuses such text itself, before it is sent: name the value.
            for column, value in zip(columns, row, strict=False):
                if isinstance(value, str) and _UNSTORABLE.search(value):
                    raise _unstorable(value, f"{table}.{column}", f"{columns[0]} {row[0]}") from exc
            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from exc
            raise
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        return count

    def other_sessions(self) -> list[str]:
        """Who else is connected to this database: 'application (address)' per session."""
        rows = self.native_rows(
            "SELECT coalesce(nullif(application_name, ''), 'a program') AS app, "
            "coalesce(host(client_addr), 'this server') AS addr FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return [f"{r['app']} ({r['addr']})" for r in rows]

    def claim_exclusive(self) -> None:
        """StorageError when another workstation or program is connected to this database
        (a session that is just closing gets two seconds to go)."""
        others = self.other_sessions()
        for _ in range(CLOSING_POLLS):
            if not others:
                return
            time.sleep(0.2)
            others = self.other_sessions()
        if others:
            raise StorageError(
                f"The clinic's database {self.label} is in use by {len(others)} other "
                f"connection(s): {', '.join(sorted(set(others)))}; nothing was changed. Close "
                "Clinic Intake on every other computer (and any other program using the "
                "database), then try again."
            )

    def reset_schema(self) -> None:
        """Inside a transaction: drop every clinic table and build the schema anew (empty but
        for a new clinic identity). A restore fills it from the checked backup; the whole
        transaction commits or nothing changes."""
        assert self._depth > 0 and self._conn is not None, "reset_schema needs a transaction"
        conn = self._conn
        try:
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATE_LOCK])
                tables = [*self._all_tables(), migrations.MIGRATIONS_TABLE]
                cur.execute("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables)
                            + " CASCADE")  # fmt: skip
                cur.execute(f"DROP FUNCTION IF EXISTS {', '.join(migrations.FUNCTIONS)}")
                migrations.apply(cur, _now())
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def replace_with(self, source: Store, progress: Callable[[str], None] | None = None) -> Any:
        """Make this database a proven copy of `source` (a checked backup), in one
        transaction: refused while another workstation is connected; on any failure the
        database stays as it was. Returns the transfer report."""
        from desktop.storage.transfer import copy_clinic

        with self.transaction():
            self.claim_exclusive()
            self.reset_schema()
            report = copy_clinic(source, self, progress)
        self.adopt_identity()
        return report

    def adopt_identity(self) -> None:
        """After a restore committed: the database's clinic identity is the one to check."""
        with self._using:
            self.clinic_id = self._clinic_id(self._ready())
            self.identity = server.workstation_key(self.url, self.clinic_id or "")

    def backup_to(self, dest: Path) -> None:
        """Write the whole clinic, as of one moment, into a new SQLite database file `dest`:
        one self-contained file, as SQLite's own backups are (no -wal, -shm or .lock beside
        it once written)."""
        from desktop.storage.sqlite import SqliteStore
        from desktop.storage.transfer import copy_clinic

        target = SqliteStore(dest)
        try:
            copy_clinic(self, target)
            target.make_self_contained()
        finally:
            target.close()
            dest.with_name(dest.name + ".lock").unlink(missing_ok=True)


class _SnapshotReader(Store.Reader):
    def __init__(self, conn: psycopg.Connection[Row], store: PostgresStore) -> None:
        self._conn = conn
        self._store = store
        self._cursors = 0

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(translate(sql), storable(params, reading=True)).fetchall()

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[Row]:
        self._cursors += 1
        with self._conn.cursor(name=f"snapshot_{self._cursors}") as cur:
            cur.itersize = 5000
            cur.execute(translate(sql), storable(params, reading=True))
            yield from cur
