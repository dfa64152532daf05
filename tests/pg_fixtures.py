"""PostgreSQL for the tests: the server named by CLINIC_TEST_PG_URL, a fresh database per test.

`make test` (and CI) starts a throwaway cluster (tests/pg_cluster.py) and exports the URL of
its superuser. Without the variable, PostgreSQL tests are skipped with a reason, except in
CI (CI=true), where that fails; with the variable set, an unreachable server fails them.
The clinic's own connections use a role that is not a superuser (`clinic_app`), owner of
its database, as README asks a clinic to set up.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from desktop.clinic import Clinic
    from tests.helpers.clock import FakeClock
    from tests.pg_cluster import Cluster

APP_ROLE = "clinic_app"
_counter = itertools.count(1)


def _with(url: str, *, user: str | None = None, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    path = f"/{dbname}" if dbname is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


@dataclass
class PgServer:
    """The test server: `admin_url` (a superuser) and a migrated template database."""

    admin_url: str
    template: str
    created: list[str] = field(default_factory=list)

    def admin(self, dbname: str = "postgres") -> object:
        import psycopg

        return psycopg.connect(_with(self.admin_url, dbname=dbname), autocommit=True)

    def app_url(self, dbname: str, user: str = APP_ROLE) -> str:
        return _with(self.admin_url, user=user, dbname=dbname)

    def new_database(self, *, migrated: bool = True) -> str:
        """A new database owned by the app role (the clinic schema in it unless not
        `migrated`, with its own clinic identity); returns its name."""
        import json
        import secrets

        import psycopg

        name = f"clinic_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if migrated:
                conn.execute(
                    f"CREATE DATABASE {name} TEMPLATE {self.template} OWNER {APP_ROLE} "
                    "STRATEGY FILE_COPY"
                )
            else:
                conn.execute(f"CREATE DATABASE {name} OWNER {APP_ROLE}")
        self.created.append(name)
        if migrated:
            with psycopg.connect(self.app_url(name), autocommit=True) as conn:
                conn.execute(
                    "UPDATE settings SET value = %s WHERE key = 'clinic_id'",
                    [json.dumps(secrets.token_hex(16))],
                )
        return name

    def reset(self, name: str) -> None:
        """Empty the clinic database `name` for the next test (faster than making one):
        other sessions are ended, every table emptied (as a superuser, with triggers off),
        and a new clinic identity set."""
        import json
        import secrets

        import psycopg

        with psycopg.connect(_with(self.admin_url, dbname=name), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> '_clinic_migrations'"
                )
            ]
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES ('clinic_id', %s)",
                    [json.dumps(secrets.token_hex(16))],
                )

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if name in self.created:
            self.created.remove(name)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = os.environ.get("CLINIC_TEST_PG_URL", "")
    if not url:
        _unavailable(
            "CLINIC_TEST_PG_URL is not set: `make test` starts a throwaway PostgreSQL "
            "(tests/pg_cluster.py) and sets it"
        )
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
            if exists.fetchone() is None:
                conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            template = f"clinic_template_{os.getpid()}"
            conn.execute(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {template} OWNER {APP_ROLE}")
    except psycopg.Error as exc:
        pytest.fail(f"CLINIC_TEST_PG_URL={url} cannot be used: {exc}", pytrace=False)
    server = PgServer(url, template)
    from desktop.storage import open_store

    open_store(server.app_url(template)).close()  # migrate the template once
    yield server
    for name in [*server.created, template]:
        server.drop(name)


@pytest.fixture(scope="session")
def _pg_shared(pg_server: PgServer) -> str:
    return pg_server.new_database()


@pytest.fixture
def pg_url(pg_server: PgServer, _pg_shared: str) -> Iterator[str]:
    """The URL of an empty clinic database (schema made, nobody set up) for one test: the
    session's shared database, emptied before each test."""
    pg_server.reset(_pg_shared)
    yield pg_server.app_url(_pg_shared)


@pytest.fixture
def pg_fresh_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a database of its own (schema made), dropped after the test."""
    name = pg_server.new_database()
    yield pg_server.app_url(name)
    pg_server.drop(name)


BACKENDS = ["sqlite", "postgresql"]


def clinic_on(
    backend: str, request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path
) -> Clinic:
    """A signed-in clinic on `backend`: SQLite in memory, or an empty database on the server.

    For the `clinic` fixtures of tests/clinic and tests/storage (parametrised by BACKENDS).
    """
    from desktop.clinic import Clinic
    from tests.helpers.clinics import FAST_HASHER, signed_in

    if backend == "sqlite":
        c = Clinic.in_memory(data_dir=tmp_path / "data", clock=clock, hasher=FAST_HASHER)
    else:
        c = Clinic.open(
            request.getfixturevalue("pg_url"),
            clock=clock,
            hasher=FAST_HASHER,
            workstation_dir=tmp_path / "workstation",
            data_dir=tmp_path / "data",
        )
    return signed_in(c)


@pytest.fixture
def tls(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """A database owned by a role that must use TLS and a password file (set up by
    tests/pg_cluster.py): its URL with sslmode=verify-full, the password file, role, port."""
    root = os.environ.get("CLINIC_TEST_PG_ROOTCERT", "")
    role = os.environ.get("CLINIC_TEST_PG_TLS_ROLE", "")
    password = os.environ.get("CLINIC_TEST_PG_TLS_PASSWORD", "")
    if not (root and role and password):
        pytest.skip("the PostgreSQL server was not started by tests/pg_cluster.py (no TLS role)")
    for name in ("PGPASSWORD", "PGSERVICE", "PGSSLMODE", "PGSSLROOTCERT"):
        monkeypatch.delenv(name, raising=False)
    name = f"clinic_tls_{os.getpid()}"
    import psycopg

    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} OWNER {role}")
    port = psycopg.conninfo.conninfo_to_dict(pg_server.admin_url)["port"]
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"localhost:{port}:*:{role}:{password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    yield {
        "url": f"postgresql://{role}@localhost:{port}/{name}?sslmode=verify-full&sslrootcert={root}",
        "passfile": str(passfile),
        "role": role,
        "port": str(port),
        "name": name,
    }
    pg_server.drop(name)


@pytest.fixture
def own_server(pg_server: PgServer) -> Iterator[Cluster]:
    """A PostgreSQL cluster of the test's own, to stop and start (an outage, a restart)
    without touching the shared one; removed afterwards."""
    import tempfile

    from tests.pg_cluster import create, destroy

    base = Path(tempfile.mkdtemp(prefix="clinic-pg-own-"))
    cluster = create(base)
    try:
        yield cluster
    finally:
        destroy(base)


def clinic_database(cluster: Cluster) -> str:
    """The URL of a new, empty database "clinic" on `cluster`."""
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE clinic")
    return cluster.url.rsplit("/", 1)[0] + "/clinic"
