"""The audit trail's rows: append chained entries, read them filtered or streamed in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from desktop.audit import GENESIS, AuditEntry, entry_hash
from desktop.storage.rows import Row

if TYPE_CHECKING:
    from desktop.storage.store import Store


def _entry(r: Row) -> AuditEntry:
    return AuditEntry(r["seq"], r["at"], r["user"], r["action"], r["target"], r["patient"],
                      r["detail"], r["prev_hash"], r["hash"])  # fmt: skip


class AuditRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def append(
        self, at: str, user: str, action: str, target: str, patient: str, detail: str
    ) -> AuditEntry:
        """Append one entry, chained to the last, inside one transaction."""
        with self._store.transaction():
            last = self.last()
            seq = last.seq + 1 if last else 1
            prev = last.hash if last else GENESIS
            digest = entry_hash(seq, at, user, action, target, patient, detail, prev)
            self._store.execute(
                'INSERT INTO audit (seq, at, "user", action, target, patient, detail, prev_hash, '
                "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at, user, action, target, patient, detail, prev, digest],
            )
        return AuditEntry(seq, at, user, action, target, patient, detail, prev, digest)

    def first(self) -> AuditEntry | None:
        return self.at(1)

    def at(self, seq: int) -> AuditEntry | None:
        rows = self._store.rows("SELECT * FROM audit WHERE seq = ?", [seq])
        return _entry(rows[0]) if rows else None

    def last(self) -> AuditEntry | None:
        rows = self._store.rows("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")
        return _entry(rows[0]) if rows else None

    def values(self, column: str) -> list[str]:
        """Every distinct user or action the trail holds, sorted: one index step per value
        (not a pass over the whole trail)."""
        if column not in ("user", "action"):
            raise ValueError(f"not an audit column to list: {column}")
        rows = self._store.rows(
            f'WITH RECURSIVE v(x) AS (SELECT min("{column}") FROM audit UNION ALL '
            f'SELECT (SELECT min("{column}") FROM audit WHERE "{column}" > v.x) FROM v '
            "WHERE v.x IS NOT NULL) SELECT x AS v FROM v WHERE x IS NOT NULL"
        )
        return [str(r["v"]) for r in rows]

    def names_patient(self, patient_id: str) -> bool:
        """Whether any entry concerns the patient (one index step)."""
        rows = self._store.rows("SELECT 1 AS x FROM audit WHERE patient = ? LIMIT 1", [patient_id])
        return bool(rows)

    def entries(
        self,
        *,
        user: str = "",
        patient: str = "",
        action: str = "",
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Matching entries in chain order; with a `limit`, the newest `limit` of them."""
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        for column, value in (("user", user), ("patient", patient), ("action", action)):
            if value:
                clauses.append(f'"{column}" = ?')
                params.append(value)
        # Times are ISO text starting with the local date: a day's range is a text range.
        if since is not None:
            clauses.append("at >= ?")
            params.append(since.isoformat())
        if until is not None:
            clauses.append("at < ?")
            params.append((until + timedelta(days=1)).isoformat())
        # Days alone walk the time index from the end of the range (the newest of those
        # days); any other filter walks its own index, which ends in the row's number.
        days_only = (since or until) and not (user or patient or action)
        order = "at DESC, seq DESC" if days_only else "seq DESC"
        sql = f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY {order}"
        if limit is not None and limit >= 0:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._store.rows(sql, params)
        rows.sort(key=lambda r: int(r["seq"]))
        return [_entry(r) for r in rows]

    def link_problems(self) -> list[str]:
        """Whether the trail's rows link up as a chain: numbered 1, 2, 3... and each row's
        `prev_hash` the `hash` of the row before (audit verify also recomputes every hash).
        Reads the whole trail in the database: run it in a worker. A line when they do
        not, none when they do."""
        rows = self._store.rows(
            "SELECT count(*) AS n, min(seq) AS first FROM (SELECT seq, prev_hash, "
            "lag(seq) OVER w AS seq_before, lag(hash) OVER w AS hash_before FROM audit "
            "WINDOW w AS (ORDER BY seq)) AS a WHERE CASE WHEN seq_before IS NULL "
            "THEN seq <> 1 OR prev_hash <> ? ELSE seq <> seq_before + 1 OR "
            "prev_hash <> hash_before END",
            [GENESIS],
        )
        n, first = rows[0]["n"], rows[0]["first"]
        if not n:
            return []
        return [
            f"the audit trail does not link up at {n} row(s), the first at number {first} "
            "(a row missing, moved or changed): run audit verify"
        ]

    def stream(self) -> Iterator[AuditEntry]:
        """Every entry in chain order, one at a time (memory flat in the trail's size)."""
        for r in self._store.iter_rows("SELECT * FROM audit ORDER BY seq"):
            yield _entry(r)
