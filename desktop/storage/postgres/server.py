"""The clinic's server as the app names it: URLs without passwords, labels, errors in words."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

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
    "shown",
    "unreachable",
    "without_password",
    "workstation_key",
]


# Connection parameters that hold a secret: the user's password, the passphrase of the
# computer's TLS key. Neither is ever kept on disk or shown.
SECRET_KEYS = frozenset({"password", "sslpassword"})
_QUERY_ITEM = re.compile(r"(?<=[?&])([^&=]*)=([^&]*)(&|$)")
_HINT = (
    "Write it as postgresql://user@host:5432/database; an @, / or : inside a user name or "
    "password is written in %-code (@ as %40, / as %2F, : as %3A), and a password is best "
    "left out of the address, in this computer's password file (~/.pgpass; README, "
    "'Several computers')"
)


def _pieces(url: str) -> tuple[str, str | None, str, str | None]:
    """`url` cut as libpq cuts it: ("postgresql://", the user information before the first
    '@' that comes before any '/' (or None), the hosts, ports and database, the query after
    the first '?' that follows (or None))."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None, "", None
    stop = next((i for i, ch in enumerate(rest) if ch in "@/"), len(rest))
    userinfo: str | None = None
    if stop < len(rest) and rest[stop] == "@":
        userinfo, rest = rest[:stop], rest[stop + 1 :]
    where, mark, query = rest.partition("?")
    return scheme + sep, userinfo, where, query if mark else None


def _without_secret_items(query: str) -> str:
    """The query `a=1&b=2` without its password items (keys compared percent-decoded, as
    libpq reads them: `%70assword` is `password`)."""
    kept = [item for item in query.split("&") if unquote(item.partition("=")[0]) not in SECRET_KEYS]
    return "&".join(kept)


def _ambiguous(url: str) -> bool:
    """True when an '@' lies where libpq reads hosts or the database: a password holding an
    '@' or a '/' typed without %-code, which libpq would read partly as a host or database
    name (and show in its messages)."""
    _, _, where, _ = _pieces(url)
    return "@" in where


def shown(url: str) -> str:
    """`url` as it may be shown whatever it holds, read or not: everything before its last
    '@' (the user information, a password in any spelling, with an '@' or '/' in it or not)
    and every password item of the query left out."""
    scheme, sep, rest = url.partition("://")
    rest = _QUERY_ITEM.sub(
        lambda m: "" if unquote(m.group(1)) in SECRET_KEYS else m.group(0), rest
    ).rstrip("&?")
    at = rest.rfind("@")
    return f"{scheme}{sep}…@{rest[at + 1 :]}" if at >= 0 else f"{scheme}{sep}{rest}"


def parse(url: str) -> dict[str, str]:
    """The connection parameters of `url` (libpq's parser). StorageError for a malformed URL
    and for one libpq would read otherwise than meant (an '@' or '/' of a password typed
    without %-code); the message never shows a password."""
    if _ambiguous(url):
        raise StorageError(
            f"The server address '{shown(url)}' cannot be read as it was meant: it has an @ "
            f"where the server's name or the database belongs. {_HINT}."
        )
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError as exc:
        safe = shown(url)
        # libpq's own words quote the address; only where nothing secret could be in them.
        detail = f" ({_first_line(exc)})" if safe == url else ""
        raise StorageError(
            f"'{safe}' is not a server address this program can read{detail}. {_HINT}."
        ) from exc


def without_password(url: str) -> str:
    """`url` as written, less its password and key passphrase (what the app may keep or
    show): the password of the user information and the query's `password` and
    `sslpassword` items go, every other character stays as it was (host lists, ports,
    %-codes). An address libpq cannot read, or would read otherwise than meant, is given as
    `shown` gives it."""
    scheme, userinfo, where, query = _pieces(url)
    if _ambiguous(url):
        return shown(url)
    user = userinfo.partition(":")[0] if userinfo is not None else ""
    items = _without_secret_items(query) if query is not None else ""
    kept = f"{scheme}{user + '@' if user else ''}{where}{'?' + items if items else ''}"
    try:
        before = {k: v for k, v in conninfo_to_dict(url).items() if k not in SECRET_KEYS}
        after = conninfo_to_dict(kept)
    except psycopg.ProgrammingError:
        return shown(url)
    return kept if before == after else shown(url)


def label(url: str) -> str:
    """How messages and the status line name the server: user@host:port/database (each
    host with its port where the address names several)."""
    p = parse(url)
    hosts = (p.get("host") or "localhost").split(",")
    ports = (p.get("port") or "").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    where = ",".join(
        f"{_host(h)}:{(ports[i] if i < len(ports) else '') or '5432'}" for i, h in enumerate(hosts)
    )
    who = f"{p['user']}@" if p.get("user") else ""
    service = f" (service {p['service']})" if p.get("service") else ""
    return f"{who}{where}/{p.get('dbname', '')}{service}"


def _host(host: str) -> str:
    """A host as an address writes it: an IPv6 address in brackets."""
    if not host:
        return "localhost"
    return f"[{host}]" if ":" in host and not host.startswith("/") else host


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
            f"({text}). Check the security setting and the server's certificate (Settings > "
            "Database; sslmode and sslrootcert in a server address), or ask whoever set up "
            "the server."
        )
    if "role" in low and "does not exist" in low:  # the server answered: no such user
        return StorageError(
            f"The clinic's server {where} has no user {who} ({text}). Check the user name in "
            "the server address, or ask whoever set up the server to create it (README, "
            "'Several computers')."
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
