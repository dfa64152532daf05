"""The SQLite schema this code expects: the migration names in order, and the file's mark."""

from __future__ import annotations

# The schema this code expects: the names of storage.migrations, in order (a test checks they
# agree). Opening a database that has them all never loads sqlite-utils at all.
MIGRATION_SET = "clinic_intake"
SCHEMA = (
    "0001_core",
    "0002_signed_documents",
    "0003_accounts_audit",
    "0004_integrity",
    "0005_seal_in_database",
    "0006_front_desk",
    "0007_repeat_visits",
)
# "CLNI": the SQLite header's application id of a clinic database (set by 0004_integrity).
APPLICATION_ID = 0x434C4E49
# Tables the database fills itself from other tables' columns (triggers): the patient search
# index, from each patient's `search_keys`. Never copied between databases (its patient numbers
# are each database's own); rebuilt where the patients land.
DERIVED_TABLES = frozenset({"patient_keys"})
