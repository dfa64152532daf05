"""User accounts: first-run setup and administration (accounts are disabled, never deleted)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from desktop.auth import User, check_password, check_username, parse_roles
from desktop.clinic.audit_log import AuditLog
from desktop.clinic.documents import same_clinician
from desktop.clinic.limits import check_length
from desktop.clinic.session import Session
from desktop.clinic.settings import Settings
from desktop.errors import Conflict, ValidationError
from desktop.models import new_id
from desktop.storage import Store


class Accounts:
    """Create and manage the clinic's user accounts ("users" permission for all but setup)."""

    def __init__(
        self,
        store: Store,
        session: Session,
        audit: AuditLog,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._session = session
        self._audit = audit
        self._settings = settings
        self._clock = clock

    def needs_setup(self) -> bool:
        """True until the first administrator exists."""
        return self._store.users.count() == 0

    def setup(
        self,
        username: str,
        display_name: str,
        password: str,
        *,
        clinician: bool = False,
        clinic: Mapping[str, str] | None = None,
    ) -> User:
        """First run: the clinic's profile (name, address, phone) and its first administrator,
        who is then signed in.

        Everything is checked before anything is written: a missing clinic name or a bad
        account field changes nothing. Raises Conflict once the clinic is set up.
        """
        if not self.needs_setup():
            raise Conflict("This clinic is already set up; sign in instead.")
        if clinic is not None:
            if not str(clinic.get("name", "")).strip():
                raise ValidationError("Give the clinic's name; it heads every document.", "name")
            unknown = sorted(set(clinic) - {"name", "address", "phone"})
            if unknown:
                raise ValidationError(f"Unknown clinic detail: {unknown[0]}.", unknown[0])
            check_username(username)
            check_password(password)
        roles = ("clinician", "administrator") if clinician else ("administrator",)
        hashed = self._session.hasher.hash(password)
        with self._store.transaction():
            if not self.needs_setup():
                raise Conflict("This clinic is already set up; sign in instead.")
            user = self._new_user(username, display_name, roles, password, hashed)
            self._session.begin(user)
            try:
                self._audit.record("setup", f"user:{user.username}", roles=list(user.roles))
                self._audit.record("login", f"user:{user.username}")
                if clinic is not None:
                    self._settings.update_profile(**clinic)
            except BaseException:
                self._session.begin_none()
                raise
        return user

    def _new_user(
        self,
        username: str,
        display_name: str,
        roles: tuple[str, ...],
        password: str,
        hashed: str | None = None,
    ) -> User:
        name = " ".join(display_name.split())
        if not name:
            raise ValidationError("Give the person's full name.", field="display_name")
        check_length("User.display_name", name, "The full name", "display_name")
        taken = next(
            (u for u in self._store.users.all() if same_clinician(u.display_name, name)), None
        )
        if taken is not None:
            # A consultation names its clinician by name: two accounts read as one name
            # could sign for each other.
            raise Conflict(
                f"The account '{taken.username}' already has the name {taken.display_name}; "
                "two accounts cannot share a name (add a middle initial, or the role, e.g. "
                f"'{name} (locum)'), and nothing was created."
            )
        check_password(password)
        user = User(new_id(), check_username(username), name, parse_roles(roles))
        # Hashing takes a deliberate ~0.1 s: done before the write transaction when it can be.
        hashed = hashed if hashed is not None else self._session.hasher.hash(password)
        self._store.users.add(user, hashed, self._clock())
        return user

    def clinicians(self) -> list[User]:
        """The active accounts with the clinician role, by name: whom a consultation or a
        test-spot review can name as its clinician (anyone who may view patients asks)."""
        self._session.require("patient.view")
        found = [u for u in self._store.users.all() if "clinician" in u.roles and not u.disabled]
        return sorted(found, key=lambda u: u.display_name.casefold())

    def list(self) -> list[User]:
        self._session.require("users")
        return self._store.users.all()

    def create(
        self, username: str, display_name: str, roles: tuple[str, ...], password: str
    ) -> User:
        self._session.require("users")
        check_password(password)
        hashed = self._session.hasher.hash(password)
        with self._store.transaction():
            user = self._new_user(username, display_name, roles, password, hashed)
            self._audit.record("create user", f"user:{user.username}", roles=list(user.roles))
        return user

    def reset_password(self, user_id: str, new_password: str) -> None:
        self._session.require("users")
        check_password(new_password)
        hashed = self._session.hasher.hash(new_password)
        with self._store.transaction():
            account = self._store.users.get(user_id)
            self._store.users.set_password(user_id, hashed, self._clock())
            self._audit.record("reset password", f"user:{account.user.username}")

    def change_password(self, old_password: str, new_password: str) -> None:
        """The signed-in user changes their own password (the old one is asked first)."""
        user = self._session.confirm_password(old_password)
        check_password(new_password)
        hashed = self._session.hasher.hash(new_password)
        with self._store.transaction():
            self._store.users.set_password(user.id, hashed, self._clock())
            self._audit.record("change password", f"user:{user.username}")

    def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disable or re-enable an account; accounts are never deleted (the audit names them)."""
        me = self._session.require("users")
        with self._store.transaction():
            return self._set_disabled(me, user_id, disabled)

    def _set_disabled(self, me: User, user_id: str, disabled: bool) -> User:
        account = self._store.users.get(user_id)
        if disabled and account.user.id == me.id:
            raise ValidationError("You cannot disable your own account.")
        if disabled and "administrator" in account.user.roles:
            admins = [u for u in self._store.users.all() if "administrator" in u.roles]
            if len([u for u in admins if not u.disabled]) <= 1:
                raise ValidationError("Keep at least one active administrator.")
        u = account.user
        updated = User(u.id, u.username, u.display_name, u.roles, disabled)
        self._store.users.update(updated, self._clock())
        self._audit.record("disable user" if disabled else "enable user", f"user:{u.username}")
        return updated

    def set_roles(self, user_id: str, roles: tuple[str, ...]) -> User:
        self._session.require("users")
        with self._store.transaction():
            u = self._store.users.get(user_id).user
            updated = User(u.id, u.username, u.display_name, parse_roles(roles), u.disabled)
            self._store.users.update(updated, self._clock())
            self._audit.record("change roles", f"user:{u.username}", roles=list(updated.roles))
        return updated
