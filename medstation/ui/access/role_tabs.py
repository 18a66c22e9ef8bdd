"""Which tabs and buttons a role sees (no Qt): a therapist is not shown Viewer-edit or Admin.

Hiding is for clarity only. Every service still checks the permission itself
(``UserSession.require``), so a button that slipped through is refused, not obeyed.

| role        | tabs                          | in the Viewer                              |
|-------------|-------------------------------|--------------------------------------------|
| radiologist | Viewer, Chat                  | segmentation, measuring tools, export       |
| therapist   | Chat, Notes                   | (no Viewer)                                 |
| read_only   | Viewer, Chat, Notes           | view only: navigate, window, MPR, screenshot |
| admin       | Viewer, Chat, Notes, Admin    | everything                                  |
"""

from __future__ import annotations

from dataclasses import dataclass

from medstation.access.roles import Actor, Permission

TAB_ORDER = ("viewer", "chat", "notes", "admin")
# A tab is shown when the actor holds any one of its permissions.
TAB_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "viewer": (Permission.view_imaging,),
    "chat": (Permission.use_chat,),
    "notes": (Permission.view_notes,),
    "admin": (Permission.manage_models, Permission.train_models, Permission.manage_users, Permission.view_audit),
}


@dataclass(frozen=True)
class RoleView:
    """What the window shows for one actor."""

    tabs: tuple[str, ...]  # in TAB_ORDER
    edit_imaging: bool  # the segmentation panel (draw, accept, export masks) and the measuring tools
    export_imaging: bool  # the de-identified export button

    def shows(self, tab: str) -> bool:
        return tab in self.tabs


def role_view(actor: Actor | None) -> RoleView:
    """The tabs and Viewer controls for ``actor`` (nobody signed in: nothing)."""
    if actor is None:
        return RoleView((), False, False)
    tabs = tuple(name for name in TAB_ORDER if any(actor.can(p) for p in TAB_PERMISSIONS[name]))
    return RoleView(tabs, actor.can(Permission.edit_imaging), actor.can(Permission.export_imaging))
