"""Patient search is one algorithm on both backends: the same patients, in the same order, with
the same broad/order verdict, for the same data; the integrity checks find a search index or
an audit trail that no longer agrees with the rows."""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from desktop.models import Patient
from desktop.storage import SqliteStore, open_store
from desktop.storage import key_search as ks
from desktop.storage.rows import patient_to_row
from desktop.storage.search import read_phone
from desktop.storage.store import Store
from tests.pg_fixtures import APP_ROLE, PgServer

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GIVEN = ["Anna", "Ann", "Siobhán", "Łukasz", "José", "Zoë", "Αλέξανδρος", "Дмитрий", "Mei",
         "Smith", "Ben", "Kwame", "", "Madonna", "美玲", "小明", "민준", "太郎"]  # fmt: skip
FAMILY = ["Smith", "Smithers", "O'Brien", "O’Brian", "Smith-Jones", "Jones", "Żółć", "Ødegård",
          "Núñez", "Anna", "Nowak", "", "陈", "王", "김", "山田", "Zzyzx", "Annan"]  # fmt: skip
PHONES = ["+44 7700 900{:03d}", "07700 900{:03d}", "0044 20 7946 0{:03d}", "ext {:03d}", ""]


def corpus(n: int, seed: int = 7) -> list[Patient]:
    """`n` patients with the names, phones and dates the front desk meets, few distinct
    enough that common words, shared keys and equal sort names all occur."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        if not given and not family:
            family = "Cher"
        typed = rng.choice(PHONES).format(rng.randint(0, 40))
        reading = read_phone(typed, "GB" if rng.random() < 0.5 else None)
        born = date(1930, 1, 1) + timedelta(days=rng.choice([0, 1, 31, 365]) * rng.randint(0, 90))
        out.append(
            Patient(
                id=f"p{i:04d}",
                given_name=given,
                family_name=family,
                date_of_birth=born,
                phone=reading.shown,
                phone_e164=reading.e164,
                created=NOW,
                # Several patients share an update time (a batch import): order must not
                # depend on which backend breaks the tie.
                updated=NOW + timedelta(seconds=i // 3),
            )
        )
    return out


def load(store: Store, patients: list[Patient]) -> None:
    rows = [patient_to_row(p) for p in patients]
    columns = list(rows[0])
    with store.transaction():
        store.insert_many("patients", columns, ([r[c] for c in columns] for r in rows))


QUERIES = ["", "s", "sm", "smith", "smi an", "anna smith", "smith anna", "anna smi", "obr",
           "o'brien", "o bri", "smith-jones", "jones", "an", "ann", "anna", "zolc", "łuk",
           "αλεξ", "дми", "odeg", "nunez", "美玲", "陈", "陈美", "김", "민준", "山田太", "0",
           "07700", "7700 900", "+44 7700 9000", "0044 7700", "020 7946", "1930", "1990-04-0",
           "1931-0", "01.01.1930", "2/1/1930", "1/2/19", "anna 1930", "a z", "zzq", "cher",
           "madonna", "ext", "zzyzx 07700"]  # fmt: skip
# (SIZED_AT_MOST, INTERSECTED_AT_MOST, NEWEST_AT_MOST, ranked_at_most): the defaults, then
# bounds small enough for this corpus to take every path (compound, intersection, newest,
# alphabetical).
BOUNDS = [(2000, 10000, 5000, 500), (25, 60, 40, 12), (4, 6, 5, 3)]


@pytest.fixture
def both(pg_server: PgServer) -> Iterator[tuple[Store, Store]]:
    """The same patients in SQLite and on the server, in a database whose own collation is a
    language's (ICU English, where the server has ICU), as a clinic's server may well have:
    the search must not depend on it."""
    name = f"clinic_icu_{os.getpid()}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        icu = admin.execute("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1")
        locale = "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" if icu.fetchone() else ""
        (ctype,) = admin.execute("SELECT datctype FROM pg_database WHERE datname = "
                                 "'template0'").fetchone() or ("C",)  # fmt: skip
        admin.execute(
            f"CREATE DATABASE {name} OWNER {APP_ROLE} TEMPLATE template0 ENCODING 'UTF8' "
            f"LOCALE '{ctype}' {locale}"
        )
    pg_server.created.append(name)
    lite, server = SqliteStore(None), open_store(pg_server.app_url(name))
    patients = corpus(600)
    load(lite, patients)
    load(server, patients)
    yield lite, server
    lite.close()
    server.close()
    pg_server.drop(name)


def test_both_backends_find_the_same_patients_in_the_same_order(
    both: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    lite, server = both
    rng = random.Random(3)
    typed = QUERIES + [
        p.family_name[: rng.randint(1, 4)] + " " + p.given_name[: rng.randint(0, 3)]
        for p in corpus(600)[:: 15]
    ]  # fmt: skip
    orders: Counter[str] = Counter()
    for sized, intersected, newest, ranked in BOUNDS:
        monkeypatch.setattr(ks, "SIZED_AT_MOST", sized)
        monkeypatch.setattr(ks, "INTERSECTED_AT_MOST", intersected)
        monkeypatch.setattr(ks, "NEWEST_AT_MOST", newest)
        for store in (lite, server):
            store.patients.ranked_at_most = ranked
        for text in typed:
            for limit in (50, 7):
                mine = [s.patients.find(text, limit, day_first=None, today=TODAY) for s in both]
                ids = [[p.id for p in f.patients] for f in mine]
                assert ids[1] == ids[0], (text, limit, sized)
                assert (mine[1].broad, mine[1].order) == (mine[0].broad, mine[0].order), text
                assert [p.full_name for p in mine[1].patients] == [
                    p.full_name for p in mine[0].patients
                ]
                orders[mine[0].order] += 1
                if text in ("smith", "o'brien", "陈", "07700", "1930") and ranked == 500:
                    assert ids[0], text  # the corpus holds these: a search that finds
    # Every kind of result was compared, not only the easy one.
    assert set(orders) == {"recent", "ranked", "newest", "alphabetical"}, orders


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    s = SqliteStore(None) if request.param == "sqlite" else open_store(
        request.getfixturevalue("pg_url"))  # fmt: skip
    load(s, corpus(40))
    yield s
    s.close()


def _audit(store: Store, seq: int, prev_hash: str) -> None:
    store.write(
        "INSERT INTO audit (seq, at, \"user\", action, prev_hash, hash) VALUES (?, ?, 'x', "
        "'test', ?, ?)",
        [seq, NOW.isoformat(), prev_hash, f"{seq:064x}"],
    )


def test_the_integrity_check_finds_a_search_index_out_of_step(store: Store) -> None:
    assert store.integrity_problems() == []
    (first,) = store.rows("SELECT key, patient FROM patient_keys ORDER BY key LIMIT 1")
    store.write("DELETE FROM patient_keys WHERE key = ? AND patient = ?",
                [first["key"], first["patient"]])  # fmt: skip
    store.write("INSERT INTO patient_keys (key, patient) VALUES ('zzzz', 1)")
    problems = store.integrity_problems()
    assert len(problems) == 2
    assert "1 search key(s) missing from the patient search index" in problems[0]
    assert f"patient number {first['patient']}" in problems[0]
    assert "1 search key(s) in the patient search index but no longer" in problems[1]
    assert "patient number 1 " in problems[1]


def test_the_integrity_check_finds_an_audit_trail_that_does_not_link_up(store: Store) -> None:
    _audit(store, 1, "0" * 64)
    _audit(store, 2, f"{1:064x}")
    assert store.integrity_problems() == []
    _audit(store, 4, f"{2:064x}")  # number 3 missing
    _audit(store, 5, "f" * 64)  # not the hash of number 4
    (problem,) = store.integrity_problems()
    assert "does not link up at 2 row(s), the first at number 4" in problem


def test_the_server_check_uses_amcheck_where_installed_and_names_switched_off_triggers(
    pg_server: PgServer, pg_fresh_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = open_store(pg_fresh_url)
    load(server, corpus(200))
    with caplog.at_level("INFO", logger="desktop.storage.postgres.store"):
        assert server.integrity_problems() == []
    assert "amcheck is not installed" in caplog.text
    dbname = pg_fresh_url.rsplit("/", 1)[-1]
    with psycopg.connect(pg_server.app_url(dbname, user="postgres"), autocommit=True) as admin:
        admin.execute("CREATE EXTENSION amcheck")
        admin.execute(
            "GRANT EXECUTE ON FUNCTION bt_index_check(regclass, boolean), "
            "verify_heapam(regclass, boolean, boolean, text, bigint, bigint) TO clinic_app"
        )
    caplog.clear()
    with caplog.at_level("INFO", logger="desktop.storage.postgres.store"):
        assert server.integrity_problems() == []
    assert "amcheck is not installed" not in caplog.text
    with psycopg.connect(pg_server.app_url(dbname, user="postgres"), autocommit=True) as admin:
        admin.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
    (problem,) = server.integrity_problems()
    assert "trigger audit_no_update on audit is switched off" in problem
    server.close()
