"""Who is using the clinic: sign-in, lockout, screen lock, user accounts and the audit trail."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from desktop.audit import AuditEntry, ChainReport, verify_chain
from desktop.auth import (
    MAX_FAILURES,
    ROLES,
    PasswordHasher,
    User,
    check_password,
    check_username,
    locked_until,
    parse_roles,
)
from desktop.errors import Conflict, PermissionDenied, ValidationError
from desktop.models import new_id
from desktop.storage import Store
from desktop.storage.accounts import Account, Accounts

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
WRONG = "The user name or password is wrong."
IDLE_KEY = "idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 5
# Repeats of these by the same user on the same record within the window make one audit row.
COALESCED = frozenset({"update consultation"})
COALESCE_WINDOW = timedelta(minutes=1)


def system_actor() -> User:
    """The operating-system user running a headless command (who can already read the file)."""
    try:
        import getpass  # only headless commands need it

        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return User(f"os:{name}", f"os:{name}", f"{name} (command line)", ROLES, system=True)


class ClinicSession:
    """The signed-in user, their permissions, and the audit trail of what they do."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._user = actor
        self._locked = False
        self._hasher = hasher

    @property
    def hasher(self) -> PasswordHasher:
        if self._hasher is None:
            self._hasher = PasswordHasher()
        return self._hasher

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.store)

    # The session ------------------------------------------------------------------------

    @property
    def user(self) -> User:
        if self._user is None:
            raise PermissionDenied("Sign in first: patient data is for clinic staff only.")
        if self._locked:
            raise PermissionDenied("The screen is locked; unlock it with your password.")
        return self._user

    @property
    def signed_in(self) -> User | None:
        return self._user

    @property
    def locked(self) -> bool:
        return self._locked

    def can(self, permission: str) -> bool:
        return self._user is not None and not self._locked and self._user.can(permission)

    def _require(self, permission: str) -> User:
        user = self.user
        user.require(permission)
        return user

    def _audit(self, action: str, target: str = "", patient: str = "", **detail: object) -> None:
        who = self._user.username if self._user else "-"
        at = self.clock().isoformat()
        if action in COALESCED and self._repeats_last(who, action, target, at):
            return
        text = json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""
        entry = self.accounts.append(at, who, action, target, patient, text)
        self._write_anchor(entry)

    def _repeats_last(self, who: str, action: str, target: str, at: str) -> bool:
        """Autosave edits the same draft many times a minute: one audit row stands for them."""
        last = self.accounts.entries("seq = (SELECT max(seq) FROM audit)")
        if not last or (last[0].user, last[0].action, last[0].target) != (who, action, target):
            return False
        age = datetime.fromisoformat(at) - datetime.fromisoformat(last[0].at)
        return timedelta(0) <= age < COALESCE_WINDOW

    def _anchor_path(self) -> Path | None:
        path = self.store.path
        return path.with_name(path.name + ".audit-anchor") if path is not None else None

    def _write_anchor(self, entry: AuditEntry) -> None:
        anchor = self._anchor_path()
        if anchor is None:
            return
        try:
            tmp = anchor.with_name(anchor.name + ".tmp")
            tmp.write_text(json.dumps({"count": entry.seq, "hash": entry.hash}))
            tmp.chmod(0o600)
            tmp.replace(anchor)
        except OSError:
            log.warning("could not update the audit anchor %s", anchor)

    def _read_anchor(self) -> tuple[int, str] | None:
        anchor = self._anchor_path()
        if anchor is None or not anchor.exists():
            return None
        try:
            data = json.loads(anchor.read_text())
            return int(data["count"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # Setup and sign-in ------------------------------------------------------------------

    def needs_setup(self) -> bool:
        return self.accounts.count() == 0

    def setup(
        self, username: str, display_name: str, password: str, *, clinician: bool = False
    ) -> User:
        """First run: create the first administrator (no default password exists) and sign in."""
        if not self.needs_setup():
            raise Conflict("This clinic is already set up; sign in instead.")
        roles = ("clinician", "administrator") if clinician else ("administrator",)
        user = self._new_user(username, display_name, roles, password)
        self._user, self._locked = user, False
        self._audit("setup", f"user:{user.username}", roles=list(user.roles))
        self._audit("login", f"user:{user.username}")
        return user

    def _new_user(
        self, username: str, display_name: str, roles: tuple[str, ...], password: str
    ) -> User:
        name = " ".join(display_name.split())
        if not name:
            raise ValidationError("Give the person's full name.", field="display_name")
        check_password(password)
        user = User(new_id(), check_username(username), name, parse_roles(roles))
        self.accounts.add_user(user, self.hasher.hash(password), self.clock())
        return user

    def _check_password(self, account: Account, password: str) -> None:
        """Verify a password under the lockout policy; failures count and are audited."""
        now = self.clock()
        until = locked_until(account.failed_attempts, account.last_failure)
        if until is not None and now < until:
            self._audit("failed login", f"user:{account.user.username}", reason="locked")
            raise PermissionDenied(
                f"Too many wrong passwords: the account '{account.user.username}' is locked "
                f"until {until.astimezone().strftime('%H:%M:%S')}. Try again then, or ask an "
                "administrator to reset the password."
            )
        if not self.hasher.verify(account.password_hash, password):
            self.accounts.record_failure(account.user.id, now)
            self._audit("failed login", f"user:{account.user.username}")
            left = MAX_FAILURES - account.failed_attempts - 1
            hint = f" {left} attempt(s) left before the account locks." if 0 < left <= 2 else ""
            if left <= 0:
                hint = " The account is now locked for a while."
            raise PermissionDenied(WRONG + hint)
        self.accounts.clear_failures(account.user.id)

    def login(self, username: str, password: str) -> User:
        account = self.accounts.find(username.strip().lower())
        if account is None:
            self._audit("failed login", f"user:{username.strip().lower()[:40]}")
            raise PermissionDenied(WRONG)
        if account.user.disabled:
            self._audit("failed login", f"user:{account.user.username}", reason="disabled")
            raise PermissionDenied("This account is disabled; ask an administrator.")
        self._check_password(account, password)
        self._user, self._locked = account.user, False
        self._audit("login", f"user:{account.user.username}")
        log.info("user %s signed in", account.user.id)
        return account.user

    def logout(self) -> None:
        if self._user is not None:
            self._audit("logout", f"user:{self._user.username}")
        self._user, self._locked = None, False

    def lock(self) -> None:
        """Hide everything until the same user's password unlocks (idle timeout or Ctrl+L)."""
        if self._user is not None and not self._locked:
            self._audit("lock", f"user:{self._user.username}")
            self._locked = True

    def unlock(self, password: str) -> User:
        if self._user is None:
            raise PermissionDenied("Nobody is signed in; sign in instead.")
        self._check_password(self.accounts.get(self._user.id), password)
        self._locked = False
        self._audit("unlock", f"user:{self._user.username}")
        return self._user

    def confirm_password(self, password: str) -> User:
        """Ask for the signed-in user's password again before a deliberate act (signing)."""
        user = self.user
        if user.system:
            return user
        self._check_password(self.accounts.get(user.id), password)
        return user

    def idle_minutes(self) -> int:
        return int(self.store.get_setting(IDLE_KEY, DEFAULT_IDLE_MINUTES))

    def set_idle_minutes(self, minutes: int) -> None:
        self._require("settings")
        if not 1 <= int(minutes) <= 60:
            raise ValidationError("The automatic lock must be between 1 and 60 minutes.")
        self.store.set_setting(IDLE_KEY, int(minutes))
        self._audit("settings", "setting:idle_lock_minutes", value=int(minutes))

    # User administration ----------------------------------------------------------------

    def list_users(self) -> list[User]:
        self._require("users")
        return self.accounts.all()

    def create_user(
        self, username: str, display_name: str, roles: tuple[str, ...], password: str
    ) -> User:
        self._require("users")
        user = self._new_user(username, display_name, roles, password)
        self._audit("create user", f"user:{user.username}", roles=list(user.roles))
        return user

    def reset_password(self, user_id: str, new_password: str) -> None:
        self._require("users")
        check_password(new_password)
        account = self.accounts.get(user_id)
        self.accounts.set_password(user_id, self.hasher.hash(new_password), self.clock())
        self._audit("reset password", f"user:{account.user.username}")

    def change_password(self, old_password: str, new_password: str) -> None:
        user = self.confirm_password(old_password)
        check_password(new_password)
        self.accounts.set_password(user.id, self.hasher.hash(new_password), self.clock())
        self._audit("change password", f"user:{user.username}")

    def set_user_disabled(self, user_id: str, disabled: bool) -> User:
        """Disable or re-enable an account; accounts are never deleted (the audit names them)."""
        me = self._require("users")
        account = self.accounts.get(user_id)
        if disabled and account.user.id == me.id:
            raise ValidationError("You cannot disable your own account.")
        if disabled and "administrator" in account.user.roles:
            admins = [u for u in self.accounts.all() if "administrator" in u.roles]
            if len([u for u in admins if not u.disabled]) <= 1:
                raise ValidationError("Keep at least one active administrator.")
        updated = User(
            account.user.id,
            account.user.username,
            account.user.display_name,
            account.user.roles,
            disabled,
        )
        self.accounts.update_user(updated, self.clock())
        self._audit("disable user" if disabled else "enable user", f"user:{updated.username}")
        return updated

    def set_user_roles(self, user_id: str, roles: tuple[str, ...]) -> User:
        self._require("users")
        account = self.accounts.get(user_id)
        u = account.user
        updated = User(u.id, u.username, u.display_name, parse_roles(roles), u.disabled)
        self.accounts.update_user(updated, self.clock())
        self._audit("change roles", f"user:{u.username}", roles=list(updated.roles))
        return updated

    # The audit trail --------------------------------------------------------------------

    def audit_entries(
        self,
        *,
        user: str = "",
        patient: str = "",
        action: str = "",
        since: date | None = None,
        until: date | None = None,
        limit: int = 5000,
    ) -> list[AuditEntry]:
        self._require("audit.view")
        where, params = _audit_filter(user, patient, action, since, until)
        return self.accounts.entries(where, params, limit)

    def open_audit_viewer(self) -> None:
        """Check that the signed-in user may read the audit trail, and record that they did."""
        self._require("audit.view")
        self._audit("view audit", "audit")

    def audit_choices(self) -> tuple[list[str], list[str]]:
        """Every user name and every action the whole trail holds (for the viewer's filters)."""
        self._require("audit.view")
        return self.accounts.audit_values("user"), self.accounts.audit_values("action")

    def audit_patients(self) -> dict[str, str]:
        """Patient ID → "Family, Given (date of birth)" for every patient the trail names."""
        self._require("audit.view")
        labels: dict[str, str] = {}
        for r in self.accounts.audit_patients():
            if r["family_name"] is None:
                labels[r["id"]] = f"{r['id']} (no such patient)"
            else:
                name = f"{r['family_name']}, {r['given_name']}"
                labels[r["id"]] = f"{name} ({r['date_of_birth']})"
        return labels

    def export_audit_csv(self, **filters: object) -> str:
        """The whole filtered audit trail as CSV text (the export itself is audited)."""
        filters.setdefault("limit", -1)
        entries = self.audit_entries(**filters)  # type: ignore[arg-type]
        out = io.StringIO()
        import csv

        writer = csv.writer(out)
        writer.writerow(["seq", "time", "user", "action", "target", "patient", "detail", "hash"])
        for e in entries:
            writer.writerow([e.seq, e.at, e.user, e.action, e.target, e.patient, e.detail, e.hash])
        self._audit("export", "audit", rows=len(entries))
        return out.getvalue()

    def verify_audit(self) -> ChainReport:
        """Walk the hash chain; the check itself is then recorded (after the rows it checked)."""
        self._require("audit.view")
        report = verify_chain(self.accounts.entries(), self._read_anchor())
        self._audit("audit verify", "audit", intact=report.intact, rows=report.count)
        return report


def _audit_filter(
    user: str, patient: str, action: str, since: date | None, until: date | None
) -> tuple[str, list[object]]:
    clauses: list[str] = ["1"]
    params: list[object] = []
    for column, value in (("user", user), ("patient", patient), ("action", action)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("substr(at, 1, 10) >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("substr(at, 1, 10) <= ?")
        params.append(until.isoformat())
    return " AND ".join(clauses), params
