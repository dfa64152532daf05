"""Several workstations on the clinic's server: what one saves the others see, stale saves
are refused, concurrent writers lose nothing, and a server lost mid-save loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.clinic import Clinic
from desktop.errors import StaleRecord, StorageError
from tests.helpers.answers import green_answers, stable_vitiligo_answers
from tests.helpers.clinics import OWNER_PASSWORD, signed_in, workstation
from tests.helpers.clock import FakeClock
from tests.helpers.paths import ROOT
from tests.helpers.patients import patient_fields
from tests.pg_cluster import Cluster
from tests.pg_fixtures import clinic_database


@pytest.fixture
def desk_and_room(pg_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[Clinic, Clinic]]:
    """The front desk (A, which set the clinic up) and a treatment room (B), both signed in."""
    a = signed_in(workstation(pg_url, clock, tmp_path / "desk"))
    b = workstation(pg_url, clock, tmp_path / "room")
    b.session.login("owner", OWNER_PASSWORD)
    yield a, b
    a.close()
    b.close()


def test_a_patient_registered_at_the_desk_is_found_in_the_treatment_room_at_once(
    desk_and_room: tuple[Clinic, Clinic],
) -> None:
    desk, room = desk_and_room
    p = desk.patients.register(patient_fields())
    assert [x.id for x in room.patients.search("zolc luk")] == [p.id]
    c = room.consultations.start(p.id, clinician="Dr Ada")
    assert [d.id for d in desk.consultations.drafts()] == [c.id]


def test_a_stale_save_from_another_workstation_is_refused_and_changes_nothing(
    desk_and_room: tuple[Clinic, Clinic],
) -> None:
    desk, room = desk_and_room
    p = desk.patients.register(patient_fields())
    c = desk.consultations.start(p.id, clinician="Dr Ada")
    opened_in_room = room.consultations.get(c.id)
    saved = desk.consultations.save_draft(c.id, answers=green_answers(), revision=c.revision)
    with pytest.raises(StaleRecord, match="Dr Ada Lovelace"):
        room.consultations.save_draft(
            c.id, answers=stable_vitiligo_answers(), revision=opened_in_room.revision
        )
    assert room.consultations.get(c.id).answers == saved.answers
    with pytest.raises(StaleRecord):
        room.patients.update(p.id, {"phone": "+48 600 000 000"}, revision=p.revision - 1)


def test_two_workstations_saving_the_same_revision_at_once_one_wins(
    desk_and_room: tuple[Clinic, Clinic],
) -> None:
    """Under READ COMMITTED a read-then-write could overtake another; the write lock taken
    at the start of each use case makes exactly one of two simultaneous saves win."""
    desk, room = desk_and_room
    p = desk.patients.register(patient_fields())
    c = desk.consultations.start(p.id, clinician="Dr Ada")
    for round_ in range(10):
        current = desk.consultations.get(c.id)
        gate = threading.Barrier(2)
        outcomes: list[str] = []

        def save(
            clinic: Clinic,
            answers: dict[str, object],
            rev: int = current.revision,
            gate: threading.Barrier = gate,
            outcomes: list[str] = outcomes,
        ) -> None:
            gate.wait()
            try:
                clinic.consultations.save_draft(c.id, answers=answers, revision=rev)
                outcomes.append("saved")
            except StaleRecord:
                outcomes.append("stale")

        threads = [
            threading.Thread(target=save, args=(desk, green_answers())),
            threading.Thread(target=save, args=(room, stable_vitiligo_answers())),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["saved", "stale"], round_
        assert desk.consultations.get(c.id).revision == current.revision + 1
    assert desk.audit.verify().intact


@pytest.mark.slow
def test_four_workstations_writing_at_once_lose_nothing_and_keep_the_chain(
    pg_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    owner = signed_in(workstation(pg_url, clock, tmp_path / "owner"))
    before = owner._store.count("audit")
    count = 15
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.clinic.pg_writer", pg_url, name, str(count)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("Desk", "RoomA", "RoomB", "Office")
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["failed"] for r in results] == [[], [], [], []]
    assert sum(r["written"] for r in results) == 4 * count
    assert owner.patients.count() == 4 * count
    for name in ("Desk", "RoomA", "RoomB", "Office"):
        assert len(owner.patients.search(name)) == count
    report = owner.audit.verify()
    # register, start, two saves (the second within a minute coalesces: same user and draft)
    assert report.intact and report.count >= before + 4 * count * 3
    drafts = owner.consultations.drafts()
    assert len(drafts) == 4 * count and all(d.revision == 3 for d in drafts)
    owner.close()


# A server stopped in the middle of a save: a cluster of this test's own.


@pytest.mark.slow
def test_a_server_lost_mid_save_keeps_nothing_half_written_and_the_next_save_works(
    own_server: Cluster, clock: FakeClock, tmp_path: Path
) -> None:
    url = clinic_database(own_server)
    clinic = signed_in(workstation(url, clock, tmp_path / "ws"))
    p = clinic.patients.register(patient_fields())
    c = clinic.consultations.start(p.id, clinician="Dr Ada")
    rows_before = clinic._store.count("audit")

    # Stop the server between the draft's write and its audit entry.
    store = clinic._store
    real_append = store.audit.append
    stopped: list[bool] = []

    def stop_then_append(*args: object) -> object:
        if not stopped:
            stopped.append(True)
            own_server.stop("immediate")
        return real_append(*args)  # type: ignore[arg-type]

    store.audit.append = stop_then_append  # type: ignore[method-assign]
    with pytest.raises(StorageError) as err:
        clinic.consultations.save_draft(c.id, answers=green_answers(), revision=c.revision)
    message = str(err.value)
    assert "cannot be reached" in message and "Nothing was saved" in message
    store.audit.append = real_append  # type: ignore[method-assign]

    # While the server is down, the next attempt says the same and changes nothing.
    with pytest.raises(StorageError, match="cannot be reached"):
        clinic.consultations.save_draft(c.id, answers=green_answers(), revision=c.revision)

    own_server.start()
    # The form kept on screen is saved once the server is back: same revision as loaded.
    saved = clinic.consultations.save_draft(c.id, answers=green_answers(), revision=c.revision)
    assert saved.revision == c.revision + 1
    assert clinic.consultations.get(c.id).answers == saved.answers
    report = clinic.audit.verify()
    assert report.intact
    # The lost attempt left no audit row: the save (and its assessment), then the check.
    actions = [e.action for e in clinic._store.audit.entries()][rows_before:]
    assert actions == ["update consultation", "assess", "audit verify"]
    clinic.close()
    assert os.path.isdir(own_server.data)
