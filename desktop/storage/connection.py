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
    `atomic()` blocks nest as savepoints; the outermost one starts with BEGIN IMMEDIATE.
    """

    def __init__(self, target: Path | None, *, read_only: bool = False) -> None:
        if target is None:
            self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        elif read_only:
            self.conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        else:
            # The store serialises every use of this connection (SqliteStore._using), so
            # a worker thread may take its turn.
            self.conn = sqlite3.connect(target, check_same_thread=False)
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
        # IMMEDIATE: take the write lock now, waiting up to the busy timeout for another
        # program's transaction; a deferred BEGIN that reads and then writes fails at once.
        self.conn.execute("BEGIN IMMEDIATE")
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
