"""User accounts: who may sign in, their roles, password hashes and failed attempts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from desktop.auth import User, parse_roles
from desktop.errors import Conflict, NotFound

if TYPE_CHECKING:
    from desktop.storage.store import Store


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


class UserRepository:
    """Reads and writes of user accounts."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, user: User, password_hash: str, now: datetime) -> None:
        if self.find(user.username) is not None:
            raise Conflict(f"The user name '{user.username}' is taken; choose another.")
        self._store.write(
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

    def update(self, user: User, now: datetime) -> None:
        self._store.write(
            "UPDATE users SET display_name = ?, roles = ?, disabled = ?, updated = ? WHERE id = ?",
            [user.display_name, json.dumps(list(user.roles)), int(user.disabled), now.isoformat(),
             user.id],
        )  # fmt: skip

    def set_password(self, user_id: str, password_hash: str, now: datetime) -> None:
        self._store.write(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, last_failure = NULL, "
            "updated = ? WHERE id = ?",
            [password_hash, now.isoformat(), user_id],
        )

    def record_failure(self, user_id: str, now: datetime) -> None:
        self._store.write(
            "UPDATE users SET failed_attempts = failed_attempts + 1, last_failure = ? WHERE id = ?",
            [now.isoformat(), user_id],
        )

    def clear_failures(self, user_id: str) -> None:
        self._store.write(
            "UPDATE users SET failed_attempts = 0, last_failure = NULL WHERE id = ?", [user_id]
        )

    def find(self, username: str) -> Account | None:
        rows = self._store.rows("SELECT * FROM users WHERE username = ?", [username])
        return _account(rows[0]) if rows else None

    def get(self, user_id: str) -> Account:
        rows = self._store.rows("SELECT * FROM users WHERE id = ?", [user_id])
        if not rows:
            raise NotFound(f"No user account with ID {user_id}.")
        return _account(rows[0])

    def all(self) -> list[User]:
        return [_account(r).user for r in self._store.rows("SELECT * FROM users ORDER BY username")]

    def count(self) -> int:
        return self._store.count("users")
