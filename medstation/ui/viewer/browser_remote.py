"""Remote studies in the series browser: a "Remote (NODE)" group per PACS node, beside local patients.

Only shows what a PACS query answered (``StudyHit``\\ s) and says which one the user wants retrieved;
the retrieve itself is a job started by the viewer (``pacs_dialog.retrieve_from_browser``). Remote rows
are italic and blue and say "remote" in the modality tooltip, so they never pass for local series.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QTreeWidgetItem

REMOTE_HIT_ROLE = Qt.ItemDataRole.UserRole + 3  # (PacsNode, StudyHit) of a remote study row
REMOTE_COLOUR = QColor("#1565c0")


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def _style(item: QTreeWidgetItem, columns: int) -> None:
    font = QFont(item.font(0))
    font.setItalic(True)
    for c in range(columns):
        item.setForeground(c, QBrush(REMOTE_COLOUR))
        item.setFont(c, font)


def group_label(node) -> str:
    return f"Remote ({node.describe()})"


def add_remote_groups(tree, remote: dict) -> None:
    """Append one top-level item per node in ``remote`` ({label: (node, [StudyHit])}) to ``tree``."""
    columns = tree.columnCount()
    for label, (node, hits) in remote.items():
        if not hits:
            continue
        group = QTreeWidgetItem([label, "", "", str(sum(h.n_instances or 0 for h in hits))])
        group.setToolTip(0, f"Studies on the PACS {node.describe()}; not on this workstation.\n"
                            "Double-click a study (or right-click → Retrieve) to retrieve it.")
        _style(group, columns)
        tree.addTopLevelItem(group)
        for hit in hits:
            name = hit.patient_name.replace("^", " ").strip() or "(no name)"  # DICOM PN: Family^Given
            text = f"{name} [{hit.patient_id or '-'}] {hit.description or '(study without description)'}"
            item = QTreeWidgetItem([text, "/".join(hit.modalities), _date(hit.date),
                                    "?" if hit.n_instances is None else str(hit.n_instances)])
            item.setData(0, REMOTE_HIT_ROLE, (node, hit))
            item.setToolTip(0, f"remote study {hit.study_uid} on {node.describe()}")
            _style(item, columns)
            group.addChild(item)


def remote_study_items(tree) -> list[QTreeWidgetItem]:
    """Every remote study row now in ``tree``."""
    items = []
    for p in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(p)
        items.extend(top.child(k) for k in range(top.childCount()) if top.child(k).data(0, REMOTE_HIT_ROLE))
    return items
