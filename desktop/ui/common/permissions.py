"""Controls offered by role: what the signed-in user may not do is greyed out, saying why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from desktop.auth import ACTIONS, PERMISSIONS, ROLE_LABELS, ROLES

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from desktop.clinic.session import Session


def refusal(session: Session, permission: str) -> str:
    """Why the signed-in user may not use `permission` ("" when they may): who can instead."""
    if session.can(permission):
        return ""
    able = [ROLE_LABELS[r].lower() for r in ROLES if permission in PERMISSIONS[r]]
    who = " or ".join(able) or "nobody"
    user = session.signed_in
    if user is None:
        return f"Sign in first: only a {who} can {ACTIONS.get(permission, permission)}."
    roles = ", ".join(ROLE_LABELS.get(r, r) for r in user.roles)
    return (
        f"Only a {who} can {ACTIONS.get(permission, permission)}; you are signed in as "
        f"{user.display_name} ({roles})."
    )


def offer(control: QWidget | QAction, session: Session, permission: str, tooltip: str = "") -> bool:
    """Enable `control` when the signed-in user may use `permission`; else grey it out with
    the reason as its tooltip. Returns whether it is allowed."""
    why = refusal(session, permission)
    control.setEnabled(not why)
    control.setToolTip(why or tooltip)
    return not why
