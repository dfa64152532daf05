"""Test spots and their 4- and 12-week reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from desktop.models import TestSpot, TestSpotReview
from desktop.storage.rows import iso, spot_from_row, spot_review_from_row

if TYPE_CHECKING:
    from desktop.storage.store import Store


class TestSpotRepository:
    __test__ = False  # not a pytest test class

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, spot: TestSpot, created: datetime) -> None:
        self._store.write(
            "INSERT INTO test_spots (id, consultation_id, patient_id, site, done_on, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [spot.id, spot.consultation_id, spot.patient_id, spot.site,
             spot.done_on.isoformat(), iso(created)],
        )  # fmt: skip

    def save_review(self, review_id: str, spot_id: str, review: TestSpotReview) -> None:
        """Record the review of `week`, replacing an earlier record of the same week."""
        self._store.write(
            "INSERT INTO test_spot_reviews (id, test_spot_id, week, result, reviewed_on, "
            "reviewer, notes) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(test_spot_id, week) DO UPDATE SET result = excluded.result, "
            "reviewed_on = excluded.reviewed_on, reviewer = excluded.reviewer, "
            "notes = excluded.notes",
            [review_id, spot_id, review.week, review.result, review.reviewed_on.isoformat(),
             review.reviewer, review.notes],
        )  # fmt: skip

    def get(self, spot_id: str) -> TestSpot | None:
        found = self._where("id = ?", [spot_id])
        return found[0] if found else None

    def for_patient(self, patient_id: str) -> list[TestSpot]:
        return self._where("patient_id = ?", [patient_id])

    def unreviewed(self, week: int, done_by: date, limit: int) -> list[TestSpot]:
        """Spots done on or before `done_by` whose `week` review is not recorded, oldest
        first, at most `limit` (two queries, whatever the clinic's history)."""
        return self._where(
            "done_on <= ? AND NOT EXISTS (SELECT 1 FROM test_spot_reviews r "
            "WHERE r.test_spot_id = test_spots.id AND r.week = ?)",
            [done_by.isoformat(), week],
            limit,
        )

    def _where(self, where: str, params: Sequence[Any], limit: int | None = None) -> list[TestSpot]:
        tail = " LIMIT ?" if limit is not None else ""
        spots = self._store.rows(
            f"SELECT * FROM test_spots WHERE {where} ORDER BY done_on, created{tail}",
            [*params, limit] if limit is not None else params,
        )
        if not spots:
            return []
        ids = [s["id"] for s in spots]
        marks = ", ".join("?" for _ in ids)
        reviews: dict[str, list[TestSpotReview]] = {i: [] for i in ids}
        for r in self._store.rows(
            f"SELECT * FROM test_spot_reviews WHERE test_spot_id IN ({marks}) ORDER BY week", ids
        ):
            reviews[r["test_spot_id"]].append(spot_review_from_row(r))
        return [spot_from_row(s, reviews[s["id"]]) for s in spots]
