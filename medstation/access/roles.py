"""Roles, permissions and the acting user.

The composition root owns one :class:`UserSession`; every service that acts for
a person asks it for the :class:`Actor` (``session.require(Permission.X)``), so
the check happens in the domain, not by hiding buttons.
"""

from __future__ import annotations

import enum
import getpass
import threading
from collections.abc import Callable
from dataclasses import dataclass

from medstation.errors import PermissionDenied, UserFacingError


class Role(str, enum.Enum):
    radiologist = "radiologist"
    therapist = "therapist"
    admin = "admin"
    read_only = "read_only"


class Permission(str, enum.Enum):
    view_imaging = "view_imaging"
    edit_imaging = "edit_imaging"  # draw, accept, reject, measure
    export_imaging = "export_imaging"  # NIfTI, DICOM-SEG, de-identified DICOM
    view_notes = "view_notes"
    edit_notes = "edit_notes"  # import transcripts, draft, edit
    sign_notes = "sign_notes"
    use_chat = "use_chat"
    manage_kb = "manage_kb"
    train_models = "train_models"
    manage_models = "manage_models"  # promote, roll back, schedule
    manage_users = "manage_users"
    view_audit = "view_audit"
    backup_restore = "backup_restore"  # medstation backup / restore (admins)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.radiologist: frozenset(
        {Permission.view_imaging, Permission.edit_imaging, Permission.export_imaging, Permission.use_chat}
    ),
    Role.therapist: frozenset({Permission.view_notes, Permission.edit_notes, Permission.sign_notes, Permission.use_chat}),
    Role.admin: frozenset(Permission),
    Role.read_only: frozenset({Permission.view_imaging, Permission.view_notes, Permission.use_chat}),
}


class Access:
    """Command-line access rules other than a permission (values of ``cli.COMMAND_ACCESS``;
    enforced by :func:`medstation.access.headless.command_sign_in`)."""

    ANY_ROLE = "any signed-in role"
    WINDOW = "signs in in its own window"
    WORKER = "a worker ticket from the process that started it"
    FIRST_RUN_OR_ADMIN = "none for the first account (an admin), else manage_users"


@dataclass(frozen=True)
class Actor:
    """The person on whose behalf an action runs."""

    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


class NotSignedIn(UserFacingError):
    """No one is signed in (or the session is locked)."""


#: Called with (actor or None, permission, the refusal sentence) each time :meth:`UserSession.require` refuses.
DenialRecorder = Callable[["Actor | None", Permission, str], None]


class UserSession:
    """Who is acting now. Thread-safe; one per app, built by the composition root.

    ``on_denied`` (set by :func:`medstation.access.headless.bind_audit_actor`) records every refusal of
    :meth:`require` in the audit trail: the one place permissions are checked is the one place denials are logged.
    """

    def __init__(self, actor: Actor | None = None, *, on_denied: DenialRecorder | None = None) -> None:
        self._lock = threading.Lock()
        self._actor = actor
        self._locked = False
        self.on_denied = on_denied

    @classmethod
    def from_os_user(cls, role: Role = Role.admin) -> "UserSession":
        """Single-user fallback until accounts exist: the OS login name."""
        return cls(Actor(getpass.getuser() or "user", role))

    @property
    def actor(self) -> Actor | None:
        with self._lock:
            return self._actor

    def sign_in(self, actor: Actor) -> None:
        with self._lock:
            self._actor = actor
            self._locked = False

    def sign_out(self) -> None:
        with self._lock:
            self._actor = None
            self._locked = False

    @property
    def locked(self) -> bool:
        with self._lock:
            return self._locked

    def lock(self) -> None:
        """Idle lock: the actor stays (their unsaved work stays open) but nothing new may act until unlock."""
        with self._lock:
            self._locked = self._actor is not None

    def unlock(self, actor: Actor) -> None:
        """Unlock after the signed-in person proved their password again; anyone else must sign in."""
        with self._lock:
            if self._actor is not None and actor != self._actor:
                raise PermissionDenied(f"The workstation is locked by {self._actor.name}; only they can unlock it.")
            self._actor, self._locked = actor, False

    def require(self, permission: Permission) -> Actor:
        """The actor, if allowed ``permission``; raises :class:`PermissionDenied` otherwise."""
        with self._lock:
            actor, locked = self._actor, self._locked
        if actor is None:
            raise self._denied(None, permission, NotSignedIn("Please sign in first."))
        if locked:
            raise self._denied(actor, permission,
                               NotSignedIn("The workstation is locked; enter your password to continue."))
        if not actor.can(permission):
            raise self._denied(actor, permission, PermissionDenied(
                f"{actor.name} ({actor.role.value}) may not {permission.value.replace('_', ' ')}."))
        return actor

    def _denied(self, actor: Actor | None, permission: Permission, error: UserFacingError) -> UserFacingError:
        """Record the refusal (when a recorder is bound) and return the error to raise."""
        recorder = self.on_denied
        if recorder is not None:
            recorder(actor, permission, str(error))
        return error
