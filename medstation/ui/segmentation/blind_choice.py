"""The viewer's meetings with a segmentation candidate: blind choice between two masks, and shadow runs.

* Blind preference (``settings.blind_preference_segmentation`` and a candidate exists): a box prompt runs
  :func:`~medstation.training.canary.preference.segment_blind_pair` in the ``segmentation`` lane; the two masks
  are shown side by side as "Mask A" / "Mask B" on the same slice crop (:class:`BlindMaskDialog`), in the
  order the session's seed drew. The pick is stored; the picked mask goes into the segment like any model
  mask, and its prompt record names the version that drew it (``model_version_id``, ``preference_id``).
  "Neither" (or closing the dialog, which records nothing) keeps the active model's mask.
* Shadow (``settings.shadow_share_segmentation``): after the active mask is shown, the candidate may also
  segment the same slice and box in the ``shadow`` lane; its mask is only stored. Cases are scored against
  the accepted segment when the Admin tab reads them.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QPushButton, QVBoxLayout

from medstation.store.tables import ModelKind
from medstation.training.canary.preference import NEITHER, BlindPair, BlindSession, segment_blind_pair
from medstation.training.canary.shadow import SegmentationRequest
from medstation.ui.errors import report_failure

log = logging.getLogger(__name__)

MASK_RGB = (255, 64, 200)  # one colour for both masks, so colour says nothing about the model
BOX_RGB = (255, 220, 0)  # the prompt box both models were given
VIEW_PX = 420


def overlay_rgb(image: np.ndarray, mask: np.ndarray, box, *, margin: float = 0.35) -> np.ndarray:
    """uint8 (h, w, 3): ``image`` ((y, x) in [0, 1]) cropped around ``box`` (x0, y0, x1, y1 pixels, plus
    ``margin`` of its size each side), the prompt box outlined, the mask tinted and its outline drawn solid."""
    h, w = image.shape
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin + 8, (y1 - y0) * margin + 8
    c0, c1 = int(max(0, np.floor(x0 - mx))), int(min(w, np.ceil(x1 + mx)))
    r0, r1 = int(max(0, np.floor(y0 - my))), int(min(h, np.ceil(y1 + my)))
    gray = (np.clip(image[r0:r1, c0:c1], 0.0, 1.0) * 255).astype(np.uint8)
    rgb = np.repeat(gray[:, :, None], 3, axis=2).astype(np.float32)
    bx0, bx1 = int(round(x0)) - c0, min(int(round(x1)) - c0, rgb.shape[1] - 1)
    by0, by1 = int(round(y0)) - r0, min(int(round(y1)) - r0, rgb.shape[0] - 1)
    rgb[[by0, by1], max(0, bx0):bx1 + 1] = BOX_RGB
    rgb[max(0, by0):by1 + 1, [bx0, bx1]] = BOX_RGB
    m = np.asarray(mask, bool)[r0:r1, c0:c1]
    colour = np.array(MASK_RGB, np.float32)
    rgb[m] = 0.55 * rgb[m] + 0.45 * colour
    edge = m & ~(np.roll(m, 1, 0) & np.roll(m, -1, 0) & np.roll(m, 1, 1) & np.roll(m, -1, 1))
    rgb[edge] = colour
    return np.ascontiguousarray(rgb.astype(np.uint8))


def _pixmap(rgb: np.ndarray) -> QPixmap:
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: own the pixels
    return QPixmap.fromImage(image).scaled(VIEW_PX, VIEW_PX, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


class BlindMaskDialog(QDialog):
    """Two unlabelled masks on the same crop; ``sig_chosen("A" | "B" | "neither")`` once the user picks."""

    sig_chosen = Signal(str)

    def __init__(self, image: np.ndarray, box, mask_a: np.ndarray, mask_b: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a mask")
        self.choice: str | None = None
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        self.views: dict[str, QLabel] = {}
        for column, (letter, mask) in enumerate((("A", mask_a), ("B", mask_b))):
            grid.addWidget(QLabel(f"<b>Mask {letter}</b> — {int(np.count_nonzero(mask))} px"), 0, column)
            view = QLabel()
            view.setPixmap(_pixmap(overlay_rgb(image, mask, box)))
            grid.addWidget(view, 1, column)
            button = QPushButton(f"Use mask {letter}")
            button.clicked.connect(lambda _=False, c=letter: self._choose(c))
            grid.addWidget(button, 2, column)
            self.buttons[letter], self.views[letter] = button, view
        self.neither = QPushButton("Neither is better — keep the clinic's default mask")
        self.neither.clicked.connect(lambda: self._choose(NEITHER))
        layout = QVBoxLayout(self)
        intro = QLabel("Two models segmented this box. Pick the mask you would rather start from; your choice "
                       "is recorded to compare the models. The mask stays a draft: edit and accept it as usual.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.neither)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.sig_chosen.emit(choice)
        self.accept()


def _shadow_job(ctx, shadow, plan, segmenter, index: int, prediction):
    """Job (shadow lane): the request as the active engine saw it, then the candidate's run."""
    request = SegmentationRequest(segmenter.volume.series_uid, int(index), tuple(prediction.box),
                                  segmenter.slice_image(index), np.asarray(prediction.mask, bool).copy(),
                                  tuple(segmenter.window) if segmenter.window else None,
                                  str(segmenter.volume.modality))
    return shadow.run_segmentation(ctx, plan, request)


class SegmentationCandidateHooks(QObject):
    """Blind choice and shadow runs for :class:`~medstation.ui.segmentation.panel.SegmentationPanel`."""

    def __init__(self, panel, shadow) -> None:
        super().__init__(panel)
        self.panel, self.shadow = panel, shadow
        self.blind = BlindSession()
        self.dialog: BlindMaskDialog | None = None

    def _active_id(self) -> int | None:
        return self.panel.service.model_version_id() if self.panel.service is not None else None

    def decode(self, segmenter, index: int, box):
        """Start a blind two-mask request for a box prompt; returns its handle, or None when blind mode is off."""
        if self.shadow is None or not self.shadow.blind_applies(ModelKind.segmentation):  # the service decides
            return None
        panel = self.panel
        segs, key = panel.segments, panel.current_key
        handle = panel.runner.submit("segmentation", segment_blind_pair, segmenter, self.shadow, self.blind, index,
                                     box, self._active_id(), name="blind masks", requester=panel)
        handle.sig_progress.connect(lambda _f, m: panel.status_label.setText(m))
        handle.sig_done.connect(lambda result, s=segs, k=key, sg=segmenter: self._on_pair(s, k, sg, result))
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(panel, "", m, tb, exc, panel.status_label))
        return handle

    def _on_pair(self, segs, key, segmenter, result) -> None:
        if result.pair is None:
            self.panel.prompts.land(segs, key, result.active_output)
            self.panel.status_label.setText(result.message)
            return
        pair: BlindPair = result.pair
        index, box = pair.context["slice"], pair.context["box"]
        self.dialog = BlindMaskDialog(segmenter.slice_image(index), box, pair.shown("A").mask, pair.shown("B").mask,
                                      self.panel)
        self.dialog.sig_chosen.connect(lambda choice, p=pair: self._on_chosen(segs, key, p, choice))
        self.dialog.rejected.connect(lambda p=pair: self._on_dismissed(segs, key, p))
        self.dialog.open()

    def _on_chosen(self, segs, key, pair: BlindPair, choice: str):
        """Record the pick in the io lane (a database write), then put the kept mask in the segment."""
        shadow, panel = self.shadow, self.panel
        panel.status_label.setText("Recording your choice…")
        handle = panel.runner.submit("io", lambda ctx: shadow.record_blind_choice(pair, choice),
                                     name="record blind choice", queue=True)
        handle.sig_done.connect(lambda info: self._on_recorded(segs, key, pair, choice, info))
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(panel, "", m, tb, exc, panel.status_label))
        return handle

    def _on_recorded(self, segs, key, pair: BlindPair, choice: str, info) -> None:
        self._apply(segs, key, pair, pair.kept(choice), info.chosen_version_id or pair.active_version_id, info.id)
        said = "Neither preferred: the clinic's default mask" if choice == NEITHER else f"Mask {choice}"
        self.panel.status_label.setText(f"{said} is in the segment (DRAFT); your choice was recorded.")

    def _on_dismissed(self, segs, key, pair: BlindPair) -> None:
        if self.dialog is not None and self.dialog.choice is None:
            self._apply(segs, key, pair, pair.outputs["active"], pair.active_version_id, None)
            self.panel.status_label.setText("No mask chosen: the clinic's default mask is in the segment "
                                            "(no preference recorded).")

    def _apply(self, segs, key, pair: BlindPair, prediction, version_id, preference_id) -> None:
        index = pair.context["slice"]
        # the prompt record names the version that really drew this mask, and the choice that put it there
        self.panel.prompts.land(segs, key, (index, prediction), provenance={
            "model_version_id": version_id, "preference_id": preference_id, "blind_order": list(pair.order)})

    def after_decode(self, segmenter, result) -> None:
        """The active mask of a box prompt is shown: maybe let the candidate segment it too, in the background."""
        index, prediction = result
        if self.shadow is None or prediction.box is None or prediction.points:
            return
        pending = len(self.panel.runner.active("shadow"))
        plan = self.shadow.plan(ModelKind.segmentation, self._active_id(), pending=pending)
        if plan is not None:
            handle = self.panel.runner.submit("shadow", _shadow_job, self.shadow, plan, segmenter, index, prediction,
                                              name="shadow mask", queue=True)
            handle.sig_failed.connect(lambda m, tb: log.error("shadow mask failed: %s\n%s", m, tb))
