"""Viewer tab (placeholder until the viewer lands)."""

from __future__ import annotations

from medstation.ui.planned_tab import PlannedTab


class ViewerTab(PlannedTab):
    def __init__(self, services, runner) -> None:
        super().__init__("Viewer — for radiologists", ["DICOM browser, MPR, measurement, MedSAM segmentation."])

    def start(self, open_path=None) -> None:
        pass
