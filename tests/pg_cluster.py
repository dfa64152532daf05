"""A throwaway PostgreSQL cluster for the tests: initdb, TLS, start and stop in a temp folder.

    python -m tests.pg_cluster start DIR   prints `export CLINIC_TEST_PG_*=...` lines (eval them)
    python -m tests.pg_cluster stop DIR    stops it and removes DIR
    python -m tests.pg_cluster run CMD...  runs CMD with a cluster started for it (and removed
                                           after), unless CLINIC_TEST_PG_URL names a server

The cluster listens on 127.0.0.1 (a free port) and on a unix socket inside DIR, trusts local
connections except the `clinic_tls` role, which needs TLS and its password (scram-sha-256),
and serves a self-signed certificate for "localhost". `initdb` refuses to run as root: as
root, every server command runs as the `postgres` user (runuser). Durability is switched off
(fsync; a commit still reaches the operating system, so a killed server loses none) for
speed: the cluster holds test data only.
"""

from __future__ import annotations

import datetime
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TLS_ROLE = "clinic_tls"
TLS_PASSWORD = "tls-role-password"
SUPERUSER = "postgres"

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them: Debian/Ubuntu "
    "`sudo apt-get install postgresql`, Fedora `sudo dnf install postgresql-server`, macOS "
    "`brew install postgresql@15`; or set PG_BIN to the folder holding initdb. To test against "
    "a server of your own instead, set CLINIC_TEST_PG_URL=postgresql://superuser@host:port/postgres."
)


class ClusterError(RuntimeError):
    pass


def pg_bin() -> Path:
    """The folder of initdb and pg_ctl: $PG_BIN, pg_config --bindir, the newest Debian one."""
    candidates: list[str] = []
    if os.environ.get("PG_BIN"):
        candidates.append(os.environ["PG_BIN"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    candidates += debian
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise ClusterError(INSTALL_HINT)


def _as_server_user(cmd: list[str]) -> list[str]:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *cmd]
    return cmd


def _run(cmd: list[str], what: str) -> str:
    result = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed ({result.returncode}): {result.stderr or result.stdout}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(folder: Path) -> None:
    """server.crt / server.key for CN=localhost (also 127.0.0.1), valid for a year."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "server.key").chmod(0o600)


@dataclass
class Cluster:
    """One running throwaway cluster."""

    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def root_cert(self) -> Path:
        return self.base / "root.crt"

    def pg_ctl(self, *args: str) -> str:
        log = self.base / "server.log"
        return _run(
            [str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", *args],
            f"pg_ctl {' '.join(args)}",
        )

    def start(self) -> None:
        self.pg_ctl("start", "-o", f"-p {self.port}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise ClusterError(f"the server did not start listening on {self.port}")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode)

    def exports(self) -> str:
        lines = {
            "CLINIC_TEST_PG_URL": self.url,
            "CLINIC_TEST_PG_DIR": str(self.base),
            "CLINIC_TEST_PG_ROOTCERT": str(self.root_cert),
            "CLINIC_TEST_PG_TLS_ROLE": TLS_ROLE,
            "CLINIC_TEST_PG_TLS_PASSWORD": TLS_PASSWORD,
        }
        return "".join(f"export {k}='{v}'\n" for k, v in lines.items())


def create(base: Path, port: int | None = None) -> Cluster:
    """initdb in `base`/data, configure TLS and access, start; returns the running cluster."""
    bindir = pg_bin()
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    cluster = Cluster(base, port or free_port())
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(base, SUPERUSER, SUPERUSER)
    _run(
        [str(bindir / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER, "-E", "UTF8",
         "--locale=C.UTF-8", "-A", "trust", "--no-sync"],
        "initdb",
    )  # fmt: skip
    staging = base / "tls"
    staging.mkdir(exist_ok=True)
    _self_signed(staging)
    shutil.copy(staging / "server.crt", cluster.root_cert)
    cluster.root_cert.chmod(0o644)
    conf = (
        f"listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{base}'\n"
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
        "fsync = off\nfull_page_writes = off\n"
        "max_connections = 100\nshared_buffers = 128MB\n"
        "password_encryption = 'scram-sha-256'\n"
    )
    hba = (
        f"hostssl all {TLS_ROLE} 127.0.0.1/32 scram-sha-256\n"
        f"host    all {TLS_ROLE} 127.0.0.1/32 reject\n"
        "local   all all trust\n"
        "host    all all 127.0.0.1/32 trust\n"
    )
    script = (
        f"cat >> '{cluster.data}/postgresql.conf' <<'EOF'\n{conf}EOF\n"
        f"cat > '{cluster.data}/pg_hba.conf' <<'EOF'\n{hba}EOF\n"
        f"cp '{staging}/server.crt' '{staging}/server.key' '{cluster.data}/'\n"
        f"chmod 600 '{cluster.data}/server.key'\n"
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(staging / "server.key", SUPERUSER, SUPERUSER)
        shutil.chown(staging / "server.crt", SUPERUSER, SUPERUSER)
    _run(["sh", "-c", script], "configuring the cluster")
    cluster.start()
    psql = str(bindir / "psql")
    _run(
        [psql, "-h", str(base), "-p", str(cluster.port), "-U", SUPERUSER, "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", "-c",
         f"CREATE ROLE {TLS_ROLE} LOGIN CREATEDB PASSWORD '{TLS_PASSWORD}'"],
        "creating the TLS role",
    )  # fmt: skip
    return cluster


def destroy(base: Path) -> None:
    """Stop the cluster in `base` (if running) and remove the folder."""
    data = base / "data"
    if (data / "postmaster.pid").exists():
        try:
            _run([str(pg_bin() / "pg_ctl"), "-D", str(data), "-w", "stop", "-m", "immediate"],
                 "pg_ctl stop")  # fmt: skip
        except ClusterError as exc:
            sys.stderr.write(f"{exc}\n")
    shutil.rmtree(base, ignore_errors=True)


def run(command: list[str]) -> int:
    """Run `command` with CLINIC_TEST_PG_* set for a cluster started for it; its exit code."""
    if os.environ.get("CLINIC_TEST_PG_URL"):
        return subprocess.run(command, check=False).returncode
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    try:
        cluster = create(base)
        env = dict(os.environ)
        for line in cluster.exports().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
        sys.stderr.write(f"PostgreSQL for the tests: {cluster.url} (in {base})\n")
        return subprocess.run(command, env=env, check=False).returncode
    except ClusterError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    finally:
        destroy(base)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run":
        return run(argv[1:])
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        sys.stderr.write(__doc__ or "")
        return 2
    base = Path(argv[1])
    try:
        if argv[0] == "start":
            sys.stdout.write(create(base).exports())
        else:
            destroy(base)
    except ClusterError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
