"""The audit trail as a section of the Admin tab, for whoever may read it (admins).

The Admin tab hands over its main widget; it gets back either that widget (no
``view_audit`` permission: the trail is not built at all) or sub-tabs
"Models and training" | "Audit trail". The permission is also enforced by
:class:`~medstation.access.audit_query.AuditTrail` itself, not only by not showing it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

from medstation.access.roles import Permission
from medstation.ui.access.audit_view import AuditTrailView


def with_audit_section(admin_tab: QWidget, main: QWidget, db, session, runner) -> QWidget:
    """``main`` alone, or a QTabWidget holding it and the audit trail (set as ``admin_tab.audit_view``)."""
    actor = getattr(session, "actor", None)
    admin_tab.audit_view = None
    if db is None or actor is None or not actor.can(Permission.view_audit):
        return main

    sections = QTabWidget()
    sections.setObjectName("admin_sections")
    sections.addTab(main, "Models and training")
    admin_tab.audit_view = AuditTrailView(db, session, runner)
    sections.addTab(admin_tab.audit_view, "Audit trail")
    admin_tab.sections = sections
    return sections
