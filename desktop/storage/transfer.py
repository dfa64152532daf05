"""Copying a whole clinic between databases (file <-> server), proven before it commits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.audit import AuditEntry, ChainReport, verify_chain
from desktop.errors import StorageError, ValidationError
from desktop.storage.rows import Row
from desktop.storage.store import Store

__all__ = ["TABLES", "TableProof", "TransferReport", "copy_clinic"]

# Every clinic table, parents before children (foreign keys). A table added by a migration
# goes here too (a test checks that this covers every table both backends have).
TABLES = (
    "settings",
    "users",
    "patients",
    "consultations",
    "signatures",
    "documents",
    "test_spots",
    "test_spot_reviews",
    "seal_certificates",
    "seal",
    "audit",
)
_PAGE = 5000
# Consultation columns written after every consultation is in (links, the discard mark).
DEFERRED = ("amends_id", "copied_from", "discarded_at")
_MOD = 1 << 256

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TableProof:
    table: str
    rows: int
    digest: str  # sha256-based, independent of row order: equal digests, equal contents


@dataclass(frozen=True)
class TransferReport:
    """What was copied and how it was checked (every check passed, or nothing was kept)."""

    source: str
    target: str
    tables: tuple[TableProof, ...]
    documents: int  # documents whose PDF bytes hash to their recorded SHA-256
    chain: ChainReport  # the copied audit trail, walked
    audit_head: tuple[int, str] | None  # (seq, hash) of its last entry: the same as the source's
    seal_certificates: int

    def lines(self) -> list[str]:
        out = [f"{p.table}: {_n(p.rows, 'row')}, identical ({p.digest[:12]})" for p in self.tables]
        out.append(f"documents: {_n(self.documents, 'PDF')} matching their SHA-256")
        if self.chain.intact:
            out.append(
                f"audit trail: {_n(self.chain.count, 'row')}, hash chain intact, same last entry"
            )
        else:
            out.append(
                f"audit trail: copied as it was, BROKEN at row {self.chain.broken_seq} "
                f"({self.chain.reason}), same last entry as the source"
            )
        out.append(f"clinic seal: {_n(self.seal_certificates, 'certificate')}, identical")
        return out


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class _Digest:
    """An order-independent digest of rows: the sum of each row's SHA-256, modulo 2**256."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, values: Sequence[Any]) -> None:
        h = hashlib.sha256()
        for v in values:
            h.update(_canonical(v))
        self.total = (self.total + int.from_bytes(h.digest(), "big")) % _MOD
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.total:064x}"


def _canonical(v: Any) -> bytes:
    if v is None:
        return b"N;"
    if isinstance(v, bool | int):
        return b"i%d;" % int(v)
    if isinstance(v, float):
        return b"f" + repr(v).encode() + b";"
    if isinstance(v, bytes | bytearray | memoryview):
        return b"b" + hashlib.sha256(bytes(v)).digest() + b";"
    text = str(v).encode("utf-8")
    return b"s%d:" % len(text) + text + b";"


def _refuse(target: Store, why: str) -> StorageError:
    return StorageError(
        f"The clinic cannot be copied into {target.label}: {why}. Nothing was changed."
    )


def copy_clinic(source: Store, target: Store, progress: Progress | None = None) -> TransferReport:
    """Copy every row of `source` (one consistent moment of it) into the empty `target`.

    Both stores are open with this version's schema. Inside one transaction of `target`,
    the copy is then proven: per table the row count and an order-independent digest of
    every value equal the source's, every document's PDF hashes to its recorded SHA-256, the
    audit trail walks and ends with the source's last entry, and the seal's certificates are
    the same. Only then does it commit; any failure leaves `target` as it was.

    Raises StorageError when `target` already holds a clinic (patients, users, records or an
    audit trail), when the schemas differ, or when a check fails; ValidationError, before
    anything is copied, when a text of the file clinic holds a character the clinic's server
    cannot store (naming the record).
    """
    say = progress or (lambda _line: None)
    with target.transaction():
        _check_empty(target)
        _check_same_tables(source, target)
        digests: dict[str, _Digest] = {}
        signed: list[str] = []
        with source.snapshot() as snap:
            if target.server and not source.server:
                _check_storable(source, snap, target)
            for table in _ordered(source.tables()):
                say(f"copying {table}")
                digests[table] = _copy_table(source, snap, target, table, signed)
            head = _audit_head(snap.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        _sign_copied(target, signed)
        say("checking the copy")
        proofs = []
        for table, digest in digests.items():
            copied = _table_digest(target, table)
            if (copied.count, copied.hexdigest()) != (digest.count, digest.hexdigest()):
                raise _refuse(
                    target,
                    f"the copied table {table} differs from the source ({copied.count} rows "
                    f"against {digest.count})",
                )
            proofs.append(TableProof(table, digest.count, digest.hexdigest()))
        documents = _check_documents(target)
        chain = verify_chain(_audit_entries(target))
        copied_head = _audit_head(
            target.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        )
        if copied_head != head:
            raise _refuse(target, "the copied audit trail does not end where the source's does")
        seal = _seal_certificates(target)
        say("committing")
    if not target.in_transaction:
        target.adopt_identity()
    return TransferReport(source.label, target.label, tuple(proofs), documents, chain, head, seal)


def _ordered(tables: Sequence[str]) -> list[str]:
    known = [t for t in TABLES if t in tables]
    return known + sorted(t for t in tables if t not in TABLES)


def _check_empty(target: Store) -> None:
    for table in _ordered(target.tables()):
        if table == "settings":
            continue
        n = target.count(table)
        if n:
            raise _refuse(
                target,
                f"it already holds a clinic ({n} rows in {table}); a clinic is moved only into "
                "an empty database",
            )


def _check_storable(source: Store, snap: Store.Reader, target: Store) -> None:
    """A database file's text may hold a NUL character; the server's cannot. The first
    record whose text holds one is named (table, column, record) before anything is copied,
    with what to do about it. One pass over each table (SQLite: `typeof` skips BLOBs)."""
    for table in _ordered(source.tables()):
        columns = source.copy_columns(table)
        holds = " OR ".join(
            f'(typeof("{c}") = \'text\' AND instr("{c}", char(0)) > 0)' for c in columns
        )
        names = ", ".join(f'"{c}"' for c in columns)
        found = snap.rows(f'SELECT {names} FROM "{table}" WHERE {holds} LIMIT 1')
        if not found:
            continue
        row = found[0]
        column = next(c for c in columns if isinstance(row[c], str) and "\x00" in row[c])
        raise ValidationError(
            f"The clinic cannot be copied into {target.label}: the {column} of the {table} "
            f"record {columns[0]} {row[columns[0]]} holds a NUL character (an invisible "
            "control character), which the clinic's server cannot store. Nothing was "
            "copied. Where that record can still be edited (a draft, a patient's details), "
            "retype that text without the character and move the clinic again; a signed or "
            "discarded record and the audit trail are kept as they were written: then keep "
            "the clinic in its file, and ask whoever supports Clinic Intake.",
            f"{table}.{column}",
        )


def _check_same_tables(source: Store, target: Store) -> None:
    ours, theirs = set(source.tables()), set(target.tables())
    if ours != theirs:
        diff = sorted(ours ^ theirs)
        raise _refuse(target, f"the two databases' tables differ ({', '.join(diff)})")
    for table in ours:
        if set(source.copy_columns(table)) != set(target.copy_columns(table)):
            raise _refuse(target, f"the two databases' {table} tables have different columns")


def _copy_table(
    source: Store, snap: Store.Reader, target: Store, table: str, signed: list[str]
) -> _Digest:
    columns = source.copy_columns(table)
    names = ", ".join(f'"{c}"' for c in columns)
    order = source.registration_order(table)
    rows = snap.iter_rows(f'SELECT {names} FROM "{table}" ORDER BY {order}')
    digest = _Digest()
    if table == "settings":
        target.execute("DELETE FROM settings")  # the new database's own identity gives way
    if table != "consultations":

        def tuples() -> Iterator[tuple[Any, ...]]:
            for r in rows:
                values = tuple(r[c] for c in columns)
                digest.add(values)
                yield values

        target.insert_many(table, columns, tuples())
        return digest
    # Consultations go in as plain drafts: the triggers refuse signatures and documents of a
    # signed consultation and any change to a discarded one, and a consultation may name
    # another (amends_id, copied_from) stored after it. Links and discards are set once all
    # consultations are in; signing comes last (_sign_copied).
    deferred = {c: None for c in DEFERRED if c in columns}
    at = {c: columns.index(c) for c in deferred}
    state_at = columns.index("state")
    later: list[tuple[str, list[Any]]] = []

    def drafts() -> Iterator[tuple[Any, ...]]:
        for r in rows:
            values = tuple(r[c] for c in columns)
            digest.add(values)
            if values[state_at] == "signed":
                signed.append(r["id"])
            held = [values[at[c]] for c in deferred]
            if any(v is not None for v in held):
                later.append((r["id"], held))
            draft = list(values)
            draft[state_at] = "draft"
            for c in deferred:
                draft[at[c]] = None
            yield tuple(draft)

    target.insert_many(table, columns, drafts())
    if later:
        sets = ", ".join(f'"{c}" = ?' for c in deferred)
        for cid, held in later:
            target.execute(f"UPDATE consultations SET {sets} WHERE id = ?", [*held, cid])
    return digest


def _table_digest(target: Store, table: str) -> _Digest:
    """The digest of `table` as `target` holds it (inside the copy's transaction)."""
    columns = target.copy_columns(table)
    key = columns[0]
    names = ", ".join(f'"{c}"' for c in columns)
    digest = _Digest()
    last: Any = None
    while True:
        where, params = (f' WHERE "{key}" > ?', [last]) if last is not None else ("", [])
        page = target.rows(
            f'SELECT {names} FROM "{table}"{where} ORDER BY "{key}" LIMIT {_PAGE}', params
        )
        for r in page:
            digest.add(tuple(r[c] for c in columns))
        if len(page) < _PAGE:
            return digest
        last = page[-1][key]


def _sign_copied(target: Store, signed: list[str]) -> None:
    for start in range(0, len(signed), 500):
        chunk = signed[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        target.execute(f"UPDATE consultations SET state = 'signed' WHERE id IN ({marks})", chunk)


def _check_documents(target: Store) -> int:
    count = 0
    last = ""
    while True:
        page = target.rows(
            "SELECT id, sha256, pdf FROM documents WHERE id > ? ORDER BY id LIMIT 200", [last]
        )
        for r in page:
            if hashlib.sha256(bytes(r["pdf"])).hexdigest() != r["sha256"]:
                raise StorageError(
                    f"The copied document {r['id']} does not match its recorded SHA-256; "
                    "nothing was changed."
                )
            count += 1
        if len(page) < 200:
            return count
        last = page[-1]["id"]


def _audit_entries(target: Store) -> Iterator[AuditEntry]:
    last = 0
    while True:
        page = target.rows("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", [last, _PAGE])
        for r in page:
            yield AuditEntry(r["seq"], r["at"], r["user"], r["action"], r["target"],
                             r["patient"], r["detail"], r["prev_hash"], r["hash"])  # fmt: skip
        if len(page) < _PAGE:
            return
        last = page[-1]["seq"]


def _audit_head(rows: list[Row]) -> tuple[int, str] | None:
    return (int(rows[0]["seq"]), str(rows[0]["hash"])) if rows else None


def _seal_certificates(target: Store) -> int:
    """How many certificates the clinic has sealed with (the seal's history), as copied."""
    count = target.count("seal_certificates")
    rows = target.rows("SELECT value FROM settings WHERE key = ?", ["seal_certificate_history"])
    legacy = json.loads(rows[0]["value"]) if rows else []  # not yet moved in by the service
    return count + (len(legacy) if isinstance(legacy, list) else 0)
