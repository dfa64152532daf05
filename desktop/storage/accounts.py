"""Users and the audit trail in the clinic database (part of the store; no sqlite-utils here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from desktop.audit import GENESIS, AuditEntry, entry_hash
from desktop.auth import User, parse_roles
from desktop.errors import Conflict, NotFound

if TYPE_CHECKING:
    from desktop.storage import Row, Store


@dataclass(frozen=True)
class Account:
    """A user row with what only authentication needs."""

    user: User
    password_hash: str
    failed_attempts: int
    last_failure: datetime | None


def _account(r: dict[str, Any]) -> Account:
    user = User(
        id=r["id"],
        username=r["username"],
        display_name=r["display_name"],
        roles=parse_roles(json.loads(r["roles"])),
        disabled=bool(r["disabled"]),
    )
    last = datetime.fromisoformat(r["last_failure"]) if r["last_failure"] else None
    return Account(user, r["password_hash"], r["failed_attempts"], last)


class Accounts:
    """Reads and writes of users and audit entries through one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_user(self, user: User, password_hash: str, now: datetime) -> None:
        if self.find(user.username) is not None:
            raise Conflict(f"The user name '{user.username}' is taken; choose another.")
        self.store.write(
            "INSERT INTO users (id, username, display_name, roles, password_hash, disabled, "
            "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                user.id,
                user.username,
                user.display_name,
                json.dumps(list(user.roles)),
                password_hash,
                int(user.disabled),
                now.isoformat(),
                now.isoformat(),
            ],
        )

    def update_user(self, user: User, now: datetime) -> None:
        self.store.write(
            "UPDATE users SET display_name = ?, roles = ?, disabled = ?, updated = ? WHERE id = ?",
            [user.display_name, json.dumps(list(user.roles)), int(user.disabled), now.isoformat(),
             user.id],
        )  # fmt: skip

    def set_password(self, user_id: str, password_hash: str, now: datetime) -> None:
        self.store.write(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, last_failure = NULL, "
            "updated = ? WHERE id = ?",
            [password_hash, now.isoformat(), user_id],
        )

    def record_failure(self, user_id: str, now: datetime) -> None:
        self.store.write(
            "UPDATE users SET failed_attempts = failed_attempts + 1, last_failure = ? WHERE id = ?",
            [now.isoformat(), user_id],
        )

    def clear_failures(self, user_id: str) -> None:
        self.store.write(
            "UPDATE users SET failed_attempts = 0, last_failure = NULL WHERE id = ?", [user_id]
        )

    def find(self, username: str) -> Account | None:
        rows = self.store.rows("SELECT * FROM users WHERE username = ?", [username])
        return _account(rows[0]) if rows else None

    def get(self, user_id: str) -> Account:
        rows = self.store.rows("SELECT * FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"No user account with ID {user_id}.")
        return _account(rows[0])

    def all(self) -> list[User]:
        return [_account(r).user for r in self.store.rows("SELECT * FROM users ORDER BY username")]

    def count(self) -> int:
        return self.store.count("users")

    # Audit ------------------------------------------------------------------------------

    def append(
        self, at: str, user: str, action: str, target: str, patient: str, detail: str
    ) -> AuditEntry:
        """Append one entry, chained to the last, inside one transaction."""
        with self.store.transaction():
            last = self.store.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            seq = last[0]["seq"] + 1 if last else 1
            prev = last[0]["hash"] if last else GENESIS
            digest = entry_hash(seq, at, user, action, target, patient, detail, prev)
            self.store.db.execute(
                "INSERT INTO audit (seq, at, user, action, target, patient, detail, prev_hash, "
                "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at, user, action, target, patient, detail, prev, digest],
            )
        return AuditEntry(seq, at, user, action, target, patient, detail, prev, digest)

    def audit_values(self, column: str) -> list[str]:
        """Every distinct user or action the trail holds, sorted."""
        if column not in ("user", "action"):
            raise ValueError(f"not an audit column to list: {column}")
        rows = self.store.rows(f'SELECT DISTINCT "{column}" AS v FROM audit ORDER BY v')
        return [str(r["v"]) for r in rows]

    def audit_patients(self) -> list[Row]:
        """Every patient the trail names: id, given and family name, date of birth."""
        return self.store.rows(
            "SELECT DISTINCT a.patient AS id, p.given_name, p.family_name, p.date_of_birth "
            "FROM audit a LEFT JOIN patients p ON p.id = a.patient WHERE a.patient != '' "
            "ORDER BY p.family_name, p.given_name, a.patient"
        )

    def entries(
        self, where: str = "1", params: Sequence[Any] = (), limit: int = -1
    ) -> list[AuditEntry]:
        """Matching entries in chain order; with a `limit`, the newest `limit` of them."""
        rows = self.store.rows(
            f"SELECT * FROM audit WHERE {where} ORDER BY rowid DESC LIMIT ?", [*params, limit]
        )
        rows.reverse()
        return [
            AuditEntry(r["seq"], r["at"], r["user"], r["action"], r["target"], r["patient"],
                       r["detail"], r["prev_hash"], r["hash"])
            for r in rows
        ]  # fmt: skip
