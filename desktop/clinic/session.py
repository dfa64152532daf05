"""Who is using the clinic: sign-in, lockout, the screen lock and permission checks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from desktop.auth import MAX_FAILURES, ROLES, PasswordHasher, User, locked_until
from desktop.clinic.anchors import Anchors
from desktop.clinic.audit_log import AuditLog
from desktop.errors import PermissionDenied
from desktop.storage import Store
from desktop.storage.accounts import Account

log = logging.getLogger(__name__)
WRONG = "The user name or password is wrong."


def system_actor() -> User:
    """The operating-system user running a headless command (who can already read the file)."""
    try:
        import getpass  # only headless commands need it

        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return User(f"os:{name}", f"os:{name}", f"{name} (command line)", ROLES, system=True)


class Session:
    """The signed-in user and their permissions; sign-in, sign-out, lock and unlock.

    `actor` starts the session signed in (headless commands run as `system_actor()`).
    Every sign-in event is audited, failures included (lockout policy: desktop.auth).
    `audit_log` records in the name of whoever is signed in; every service records with it.
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        anchors: Anchors,
        *,
        actor: User | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self.audit_log = self._audit = AuditLog(store, clock, self.actor_name, anchors)
        self._user = actor
        self._locked = False
        self._hasher = hasher

    @property
    def hasher(self) -> PasswordHasher:
        """The password hasher (argon2id), made on first use."""
        if self._hasher is None:
            self._hasher = PasswordHasher()
        return self._hasher

    @property
    def user(self) -> User:
        """The signed-in user; PermissionDenied when nobody is signed in or the screen is locked."""
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

    def actor_name(self) -> str:
        """Who the audit trail names for the next action ("-" before anyone signs in)."""
        return self._user.username if self._user else "-"

    def can(self, permission: str) -> bool:
        return self._user is not None and not self._locked and self._user.can(permission)

    def require(self, permission: str) -> User:
        """The signed-in user if their roles allow `permission`; PermissionDenied otherwise."""
        user = self.user
        user.require(permission)
        return user

    def begin(self, user: User) -> None:
        """Make `user` the signed-in user (after a checked password, or first-run setup)."""
        self._user, self._locked = user, False

    def begin_none(self) -> None:
        """Nobody is signed in (a first-run setup that failed part-way)."""
        self._user, self._locked = None, False

    def check_password(self, account: Account, password: str) -> None:
        """Verify a password under the lockout policy; failures count and are audited.

        A right password clears the count of failures (in the caller's transaction, if any).
        """
        now = self._clock()
        until = locked_until(account.failed_attempts, account.last_failure)
        if until is not None and now < until:
            self._audit.record("failed login", f"user:{account.user.username}", reason="locked")
            raise PermissionDenied(
                f"Too many wrong passwords: the account '{account.user.username}' is locked "
                f"until {until.astimezone().strftime('%H:%M:%S')}. Try again then, or ask an "
                "administrator to reset the password."
            )
        if not self.hasher.verify(account.password_hash, password):
            with self._store.transaction():
                self._store.users.record_failure(account.user.id, now)
                self._audit.record("failed login", f"user:{account.user.username}")
            left = MAX_FAILURES - account.failed_attempts - 1
            hint = f" {left} attempt(s) left before the account locks." if 0 < left <= 2 else ""
            if left <= 0:
                hint = " The account is now locked for a while."
            raise PermissionDenied(WRONG + hint)
        self._store.users.clear_failures(account.user.id)

    def login(self, username: str, password: str) -> User:
        account = self._store.users.find(username.strip().lower())
        if account is None:
            self._audit.record("failed login", f"user:{username.strip().lower()[:40]}")
            raise PermissionDenied(WRONG)
        if account.user.disabled:
            self._audit.record("failed login", f"user:{account.user.username}", reason="disabled")
            raise PermissionDenied("This account is disabled; ask an administrator.")
        self.check_password(account, password)
        with self._store.transaction():
            self.begin(account.user)
            self._audit.record("login", f"user:{account.user.username}")
        log.info("user %s signed in", account.user.id)
        return account.user

    def logout(self) -> None:
        if self._user is not None:
            self._audit.record("logout", f"user:{self._user.username}")
        self._user, self._locked = None, False

    def lock(self) -> None:
        """Hide everything until the same user's password unlocks (idle timeout or Ctrl+L)."""
        if self._user is not None and not self._locked:
            self._audit.record("lock", f"user:{self._user.username}")
            self._locked = True

    def unlock(self, password: str) -> User:
        if self._user is None:
            raise PermissionDenied("Nobody is signed in; sign in instead.")
        self.check_password(self._store.users.get(self._user.id), password)
        self._locked = False
        self._audit.record("unlock", f"user:{self._user.username}")
        return self._user

    def confirm_password(self, password: str) -> User:
        """Ask for the signed-in user's password again before a deliberate act (signing)."""
        user = self.user
        if user.system:
            return user
        self.check_password(self._store.users.get(user.id), password)
        return user
