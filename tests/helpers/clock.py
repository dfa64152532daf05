"""A settable clock and the time zone the tests live in (UTC+1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=1))
START = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)  # when a test's clinic starts its day


class FakeClock:
    """A settable clock: tests move time instead of sleeping. Called, it returns `now`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock on by `timedelta(**delta)` (days=1, minutes=5, ...)."""
        self.now += timedelta(**delta)
