"""One clinic used from the window's thread and a worker at once: every write lands, in order."""

from __future__ import annotations

import threading
from pathlib import Path

from desktop.clinic import Clinic
from tests.helpers.clinics import FAST_HASHER, signed_in
from tests.helpers.clock import FakeClock
from tests.helpers.patients import patient_fields


def test_two_threads_writing_through_one_clinic_lose_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=clock, hasher=FAST_HASHER))
    errors: list[BaseException] = []

    def register(prefix: str) -> None:
        try:
            for i in range(40):
                clinic.patients.register(
                    patient_fields(
                        given_name=f"{prefix}{i}", date_of_birth=f"1980-01-{i % 28 + 1:02d}"
                    )
                )
                clinic.patients.search(prefix)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(p,)) for p in ("Ann", "Ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert clinic.patients.count() == 80
    report = clinic.audit.verify()
    assert report.intact and report.count >= 80 + 2
    clinic.close()


def test_a_long_read_does_not_hold_up_writes(tmp_path: Path, clock: FakeClock) -> None:
    clinic = signed_in(Clinic.open(tmp_path / "c.sqlite", clock=clock, hasher=FAST_HASHER))
    for i in range(20):
        clinic.patients.register(patient_fields(given_name=f"P{i}"))
    rows = clinic._store.audit.stream()  # a reader of its own, left open mid-way
    first = next(rows)
    clinic.patients.register(patient_fields(given_name="During"))  # not blocked
    assert first.seq == 1 and sum(1 for _ in rows) >= 20
    clinic.close()
