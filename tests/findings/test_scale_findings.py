"""Start-screen queries that grow with the clinic's history (counted, not timed)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from desktop.clinic import Clinic
from tests.helpers.patients import patient_fields


def _statements(clinic: Clinic, action: object) -> int:
    conn: sqlite3.Connection = clinic._store.db.conn  # type: ignore[attr-defined]
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        action()  # type: ignore[operator]
    finally:
        conn.set_trace_callback(None)
    return len(seen)


def test_the_start_screens_due_reviews_take_a_bounded_number_of_queries(clinic: Clinic) -> None:
    long_ago = clinic.today() - timedelta(days=400)
    for i in range(60):
        p = clinic.patients.register(patient_fields(given_name=f"Spot{i}", phone=""))
        c = clinic.consultations.start(p.id, clinician="Dr Ada Lovelace", on=long_ago)
        clinic.test_spots.record(c.id, "left jaw", long_ago)
    assert len(clinic.test_spots.due_reviews()) == 120  # 4 and 12 weeks, all overdue
    assert _statements(clinic, clinic.test_spots.due_reviews) <= 10
