"""Settings: JSON values under text keys (clinic profile, seal history, preferences)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.storage.store import Store


class SettingsRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:
        rows = self._store.rows("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set(self, key: str, value: Any) -> None:
        self._store.write(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value, sort_keys=True)],
        )

    def remove(self, key: str) -> None:
        """Forget `key` (nothing happens when it is not set)."""
        self._store.write("DELETE FROM settings WHERE key = ?", [key])
