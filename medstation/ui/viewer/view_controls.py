"""The viewer tab's view controls: windowing, slice and crosshair navigation, MPR, tools, cine, overlay.

A mixin of :class:`~medstation.ui.viewer.tab.ViewerTab`, relying on its attributes (``views`` and the three
``SliceView`` planes, ``toolbar``, ``slider``, ``slice_label``, ``readout``, ``_grid``, ``_cine``,
``_tags_timer``, ``_volume``, ``_crosshair``, ``_loading_volume``) and its ``sig_slice_changed`` signal.
Everything here runs on the GUI thread and touches only widgets: no file or database access.
"""

from __future__ import annotations

import numpy as np

from medstation.imaging.windowing import presets_for, resolve_window
from medstation.ui.viewer.overlay import has_orientation, no_orientation_letters, overlay_corners
from medstation.ui.viewer.toolbar import CUSTOM_WINDOW


class ViewControls:
    """What the toolbar, slider and mouse do to the views of the open volume."""

    _applying_preset = False  # True while apply_preset sets the window (any other change is manual)
    _preset_for_next_volume: str | None = None  # a preset picked while a series loads: the new volume opens in it

    # -- windowing ------------------------------------------------------------------------------
    def fit_views(self) -> None:
        """Fit/reset: every plane shows its whole image, with no manual zoom or pan left."""
        for view in self.views.values():
            if view.volume is not None:
                view.fit()

    def _fill_presets(self, modality: str) -> None:
        combo = self.toolbar.presets
        combo.clear()
        for preset in presets_for(modality):
            combo.addItem(preset.label, preset.key)

    def apply_preset(self, key: str) -> None:
        """Apply window preset ``key`` (see :func:`medstation.imaging.windowing.presets_for`)."""
        vol = self._volume
        if not key or key == CUSTOM_WINDOW:  # "Custom" keeps the window as it is
            return
        if self._loading_series():
            self._preset_for_next_volume = key  # the choice is for what is about to be on screen
        if vol is None:
            return
        window = resolve_window(key, vol.pixels, vol.modality, vol.window)
        combo = self.toolbar.presets
        index = combo.findData(key)
        if index >= 0 and combo.currentIndex() != index:
            combo.setCurrentIndex(index)
        self._applying_preset = True  # the change below is the preset's, not a manual one
        try:
            self.axial_view.set_window(*window)
        finally:
            self._applying_preset = False

    def _loading_series(self) -> bool:
        handle = getattr(self, "_load_handle", None)
        return handle is not None and not handle.finished

    def _apply_preset_picked_during_load(self) -> None:
        """Called once the new volume is on screen in its default window."""
        key, self._preset_for_next_volume = self._preset_for_next_volume, None
        if key and self.toolbar.presets.findData(key) >= 0:  # the new modality offers that preset
            self.apply_preset(key)

    def _on_view_window_changed(self, center: float, width: float) -> None:
        if not self._applying_preset:
            self.toolbar.show_custom_window()  # a right drag: the box must stop naming a preset
        for view in self.views.values():
            if view.window != (center, width):
                view.blockSignals(True)
                view.set_window(center, width)
                view.blockSignals(False)
        self._update_overlay()

    # -- navigation -----------------------------------------------------------------------------
    def _on_axial_slice_changed(self, index: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        if self._volume is not None:
            self.slice_label.setText(f"Slice {index + 1}/{self._volume.shape[0]}")
            if self._crosshair is not None and int(round(self._crosshair[0])) != index:
                self.set_crosshair((float(index), self._crosshair[1], self._crosshair[2]))
        self._tags_timer.start()
        if not self._loading_volume:
            self.sig_slice_changed.emit(index)

    def set_crosshair(self, voxel) -> None:
        """Move every plane to the voxel (z, y, x) and draw the crosshair through it."""
        if self._volume is None:
            return
        z, y, x = (float(np.clip(v, 0, n - 1)) for v, n in zip(voxel, self._volume.shape))
        self._crosshair = (z, y, x)
        self.axial_view.set_index(int(round(z)))
        self.coronal_view.set_index(int(round(y)))
        self.sagittal_view.set_index(int(round(x)))
        show = self.toolbar.mpr.isChecked()
        self.axial_view.set_crosshair(x + 0.5, y + 0.5) if show else self.axial_view.set_crosshair(None)
        self.coronal_view.set_crosshair(x + 0.5, z + 0.5)
        self.sagittal_view.set_crosshair(y + 0.5, z + 0.5)

    def set_mpr(self, on: bool) -> None:
        if self.toolbar.mpr.isChecked() != on:
            self.toolbar.mpr.setChecked(on)
            return
        self.coronal_view.setVisible(on)
        self.sagittal_view.setVisible(on)
        self._grid.setColumnStretch(0, 3)
        self._grid.setColumnStretch(1, 2 if on else 0)
        if self._crosshair is not None:
            self.set_crosshair(self._crosshair)

    def set_tool(self, name: str) -> None:
        for view in self.views.values():
            if name in view.tools():
                view.set_tool(name)
        action = self.toolbar.tool_actions.get(name)
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def _on_axial_tool_changed(self, name: str) -> None:
        """Keep the toolbar honest when a side panel (segmentation) picks one of its own tools."""
        group = self.toolbar.tool_group
        action = self.toolbar.tool_actions.get(name)
        if action is not None:
            group.setExclusionPolicy(group.ExclusionPolicy.Exclusive)
            action.setChecked(True)
        elif group.checkedAction() is not None:
            group.setExclusionPolicy(group.ExclusionPolicy.ExclusiveOptional)
            group.checkedAction().setChecked(False)

    def set_cine(self, on: bool) -> None:
        self._cine.start() if on and self._volume is not None else self._cine.stop()

    def _on_cine_tick(self) -> None:
        if self._volume is None:
            return
        self.set_slice((self.axial_view.index + 1) % self._volume.shape[0])

    def set_overlay_visible(self, visible: bool) -> None:
        for view in self.views.values():
            view.set_overlay_visible(visible)

    def _update_overlay(self, *_args) -> None:
        if self._volume is None:
            return
        oriented = has_orientation(self._volume)
        for view in self.views.values():
            corners = overlay_corners(self._volume, view.plane, view.index, view.window)
            if not oriented:  # no ImageOrientationPatient/Position: the drawn letters would be invented
                corners.update(no_orientation_letters())
            view.set_overlay_text(**corners)

    def _on_view_cursor(self, info) -> None:
        if info is None or self._volume is None:
            self.readout.setText("")
            return
        x, y, z = info["patient_mm"]
        unit = " HU" if self._volume.modality == "CT" else ""
        vz, vy, vx = (int(v) for v in info["voxel"])
        self.readout.setText(f"X {x:.1f}  Y {y:.1f}  Z {z:.1f} mm (patient, LPS)   value {info['value']:.0f}{unit}   voxel z{vz} y{vy} x{vx}")
