"""The clinic's server as the app names it: URLs without passwords, labels, errors in words."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urlencode

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from desktop.errors import Conflict, StorageError
from desktop.storage.postgres import SCHEMES, is_server_url

__all__ = [
    "SCHEMES",
    "friendly_error",
    "is_server_url",
    "label",
    "parse",
    "unreachable",
    "without_password",
    "workstation_key",
]


def parse(url: str) -> dict[str, str]:
    """The connection parameters of `url` (libpq's parser). StorageError for a malformed URL."""
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError as exc:
        raise StorageError(
            f"'{without_password(url)}' is not a server address this program can read "
            f"({_first_line(exc)}). Write it as postgresql://user@host:5432/database."
        ) from exc


def without_password(url: str) -> str:
    """`url` rebuilt without any password (what the app may keep or show)."""
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError:
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1@", url)
    params.pop("password", None)
    user = params.pop("user", "")
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = params.pop("dbname", "")
    netloc = quote(user, safe="") + "@" if user else ""
    if host and not host.startswith("/"):
        netloc += f"[{host}]" if ":" in host else host
    elif host:
        params["host"] = host
    if port:
        netloc += f":{port}"
    query = f"?{urlencode(sorted(params.items()))}" if params else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{query}"


def label(url: str) -> str:
    """How messages and the status line name the server: user@host:port/database."""
    p = parse(url)
    host = p.get("host") or "localhost"
    port = p.get("port") or "5432"
    who = f"{p['user']}@" if p.get("user") else ""
    service = f" (service {p['service']})" if p.get("service") else ""
    return f"{who}{host}:{port}/{p.get('dbname', '')}{service}"


def workstation_key(url: str, clinic_id: str) -> str:
    """A file-name-safe key for one clinic database on one server (host, port, database,
    clinic id): this computer's anchors and files for that clinic are named by it."""
    p = parse(url)
    where = f"{p.get('host') or 'localhost'}:{p.get('port') or '5432'}/{p.get('dbname', '')}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", where.replace(":", "-").replace("/", "-"))
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    return f"pg-{readable[:60]}-{digest}-{clinic_id}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else exc.__class__.__name__


def unreachable(where: str, exc: BaseException | None = None, *, saving: bool = True) -> str:
    detail = f" ({_first_line(exc)})" if exc is not None else ""
    nothing = " Nothing was saved; what you typed stays on screen to save again." if saving else ""
    return (
        f"The clinic's server {where} cannot be reached{detail}.{nothing} Check that the "
        "server computer is on and that this computer is on the clinic's network, then try "
        "again."
    )


def friendly_error(
    exc: psycopg.Error, where: str, user: str = "", *, saving: bool = True
) -> StorageError | Conflict:
    """What went wrong with the server at `where`, in words a clinic user can act on."""
    text = _first_line(exc)
    low = str(exc).lower()
    who = f"'{user}'" if user else "this computer's user"
    if isinstance(exc, pg_errors.IntegrityError):
        message = exc.diag.message_primary or text
        return Conflict(f"The change was refused: {message}.")
    if isinstance(exc, pg_errors.InvalidPassword) or "password authentication failed" in low:
        return StorageError(
            f"The clinic's server {where} refused the password of {who}. Put the right "
            "password in this computer's password file (~/.pgpass, or the file PGPASSFILE "
            "names), or ask whoever set up the server."
        )
    if "no password supplied" in low or "password is required" in low:
        return StorageError(
            f"The clinic's server {where} asks for a password for {who}, and none was found. "
            "Put it in this computer's password file (~/.pgpass, or the file PGPASSFILE "
            "names); Clinic Intake never stores server passwords itself."
        )
    if "no pg_hba.conf entry" in low:
        return StorageError(
            f"The clinic's server {where} does not accept {who} from this computer (its "
            "pg_hba.conf has no entry for it, or asks for TLS). Ask whoever set up the server "
            "to allow this computer; see the README, 'Several computers'."
        )
    if "certificate" in low or "ssl" in low or "tls" in low:
        return StorageError(
            f"A secure (TLS) connection to the clinic's server {where} could not be made "
            f"({text}). Check the sslmode and the server's certificate (sslrootcert) in the "
            "server address, or ask whoever set up the server."
        )
    if isinstance(exc, pg_errors.InvalidCatalogName) or (
        "database" in low and "does not exist" in low
    ):
        return StorageError(
            f"The database named in {where} does not exist on the server ({text}). Check the "
            "name, or ask whoever set up the server to create it (README, 'Several computers')."
        )
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return StorageError(
            f"The server's user {who} may not do this on {where} ({text}); nothing was "
            "saved. Ask whoever set up the server to make that user the database's owner."
        )
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
        return StorageError(
            f"The clinic's server {where} is busy with another workstation's change; nothing "
            "was saved. Try again in a moment."
        )
    if isinstance(exc, pg_errors.DiskFull):
        return StorageError(
            f"The clinic's server {where} has no disk space left; nothing was saved. Tell "
            "whoever looks after the server."
        )
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        return StorageError(
            f"The clinic's server {where} accepts no changes at the moment (it is read-only, "
            "e.g. a standby copy); nothing was saved. Connect to the main server."
        )
    if isinstance(exc, psycopg.OperationalError):  # the connection failed or was lost
        return StorageError(unreachable(where, exc, saving=saving))
    return StorageError(f"The clinic's server {where} could not be used: {text}.")
