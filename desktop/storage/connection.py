"""A thin sqlite3 connection: autocommitted writes, nested atomic blocks, rows as dicts."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Params = Sequence[Any] | dict[str, Any]


class Connection:
    """The database connection the store works through day to day.

    sqlite-utils is needed only to build or upgrade the schema (storage.Store imports it then);
    opening an up-to-date database stays light, which keeps the window's start-up quick.
    Semantics match sqlite-utils 4: a write outside a transaction commits at once, and
    `atomic()` blocks nest as savepoints.
    """

    def __init__(self, target: Path | None) -> None:
        self.conn = sqlite3.connect(":memory:" if target is None else target)
        self.conn.isolation_level = None  # we say BEGIN and COMMIT ourselves

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        if self.conn.in_transaction:
            name = f"sp_{secrets.token_hex(8)}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")  # a writer waits for the lock, then reads
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def table_names(self) -> list[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [r[0] for r in rows]

    def close(self) -> None:
        self.conn.close()
