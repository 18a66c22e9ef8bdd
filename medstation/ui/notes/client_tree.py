"""The Notes tab's left column: clients with their sessions in a tree, each item tagged with what it is.

Items carry ``("client", id)`` or ``("session", id)`` in ``Qt.ItemDataRole.UserRole``. Filling and selecting
never emit the tree's signals, so only a user's choice opens a session.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem


def fill(tree: QTreeWidget, clients) -> dict[int, str]:
    """Show ``clients`` (``[(ClientInfo, [SessionInfo, ...]), ...]``); returns each client's code by id."""
    codes: dict[int, str] = {}
    tree.blockSignals(True)
    tree.clear()
    for client, sessions in clients:
        codes[client.id] = client.code
        item = QTreeWidgetItem([client.code])
        item.setData(0, Qt.ItemDataRole.UserRole, ("client", client.id))
        for s in sessions:
            child = QTreeWidgetItem([f"{s.session_date} · {s.modality} · {s.duration_min} min"])
            child.setData(0, Qt.ItemDataRole.UserRole, ("session", s.id))
            item.addChild(child)
        tree.addTopLevelItem(item)
    tree.expandAll()
    tree.blockSignals(False)
    return codes


def select_session(tree: QTreeWidget, session_id: int | None) -> None:
    """Make the item of ``session_id`` current (none when it is not listed)."""
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).data(0, Qt.ItemDataRole.UserRole) == ("session", session_id):
                tree.blockSignals(True)
                tree.setCurrentItem(top.child(j))
                tree.blockSignals(False)


def current_client(tree: QTreeWidget) -> int | None:
    """The client of the current item (a client, or a session's client); None when nothing is current."""
    item = tree.currentItem()
    if item is None:
        return None
    kind, ident = item.data(0, Qt.ItemDataRole.UserRole)
    return ident if kind == "client" else item.parent().data(0, Qt.ItemDataRole.UserRole)[1]
