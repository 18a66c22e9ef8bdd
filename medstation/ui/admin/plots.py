"""The Admin tab's two plots: a run's live curves and the A/B per-modality heatmap (pyqtgraph).

The curves never auto-zoom: Dice and IoU are drawn on their whole 0–1 scale and the loss from 0, so a
drop of 0.013 looks like one; the base model's validation Dice (epoch 0, before any training) is a
dashed reference line, so a reader sees at once whether an epoch beat it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from medstation.training.comparison.ab import ComparisonResult


class CurvesPlot(QWidget):
    """Training loss per step (left axis) and validation Dice per epoch (second plot)."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        layout.addWidget(self.graphics)
        self.loss_plot = self.graphics.addPlot(row=0, col=0, title="training loss (Dice + BCE + IoU MSE)")
        self.loss_plot.setLabel("bottom", "epoch")
        self.val_plot = self.graphics.addPlot(row=0, col=1, title="validation Dice / IoU (viewer decoding)")
        self.val_plot.setLabel("bottom", "epoch")
        self.val_plot.addLegend(offset=(5, 5))
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#c0392b", width=2), symbol="o", symbolSize=5)
        self.step_curve = self.loss_plot.plot(pen=pg.mkPen("#e8a09a", width=1))
        self.dice_curve = self.val_plot.plot(pen=pg.mkPen("#1f6fb2", width=2), symbol="o", symbolSize=6, name="Dice")
        self.iou_curve = self.val_plot.plot(pen=pg.mkPen("#27ae60", width=2), symbol="s", symbolSize=5, name="IoU")
        dashed = pg.mkPen("#555555", width=1, style=Qt.PenStyle.DashLine)
        self.base_line = pg.InfiniteLine(angle=0, movable=False, pen=dashed, label="base model {value:.3f}",
                                         labelOpts={"position": 0.85, "color": "#555555", "anchors": [(1, 1), (1, 1)]})
        self.val_plot.addItem(self.base_line)
        self.val_plot.setYRange(0.0, 1.0, padding=0)  # the whole Dice scale, never zoomed on a small change
        self.val_plot.enableAutoRange(axis="y", enable=False)
        self.loss_plot.enableAutoRange(axis="y", enable=False)
        self.clear()

    def clear(self) -> None:
        self._steps: list[tuple[float, float]] = []
        self._epochs: dict[int, dict] = {}
        self._steps_per_epoch = 1
        self._redraw()

    def set_history(self, metrics: dict[str, list[tuple[int, float]]]) -> None:
        """Curves from stored metrics (``runs.metrics_of``): ``{name: [(epoch, value), ...]}``."""
        self.clear()
        for name, points in metrics.items():
            for epoch, value in points:
                self._epochs.setdefault(int(epoch), {})[name] = value
        self._redraw()

    def add_partial(self, data: dict) -> None:
        """A live worker partial: ``{"kind": "step", "epoch", "step", "loss"}`` or ``{"kind": "epoch", ...}``."""
        if data.get("kind") == "step" and "epoch" in data:
            self._steps_per_epoch = max(self._steps_per_epoch, int(data["step"]) + 1)
            self._steps.append((data["epoch"] - 1 + (data["step"] + 1) / self._steps_per_epoch, data["loss"]))
        elif data.get("kind") == "epoch":
            self._epochs[int(data["epoch"])] = dict(data)
        self._redraw()

    def _redraw(self) -> None:
        epochs = sorted(self._epochs)
        loss = [(e, self._epochs[e]["train_loss"]) for e in epochs if self._epochs[e].get("train_loss") is not None]
        self.loss_curve.setData([p[0] for p in loss], [p[1] for p in loss])
        self.step_curve.setData([p[0] for p in self._steps], [p[1] for p in self._steps])
        dice = [(e, self._epochs[e]["val_dice"]) for e in epochs if self._epochs[e].get("val_dice") is not None]
        iou = [(e, self._epochs[e]["val_iou"]) for e in epochs if self._epochs[e].get("val_iou") is not None]
        self.dice_curve.setData([p[0] for p in dice], [p[1] for p in dice])
        self.iou_curve.setData([p[0] for p in iou], [p[1] for p in iou])
        base = self._epochs.get(0, {}).get("val_dice")
        self.base_line.setVisible(base is not None)
        if base is not None:
            self.base_line.setValue(float(base))
        top = max([p[1] for p in loss] + [p[1] for p in self._steps] + [0.0])
        self.loss_plot.setYRange(0.0, top * 1.05 if top > 0 else 1.0, padding=0)  # from zero: no exaggerated dips

    def y_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(loss plot, validation plot) visible y ranges: what a reader's eye compares."""
        return (tuple(self.loss_plot.viewRange()[1]), tuple(self.val_plot.viewRange()[1]))


class ABHeatmap(QWidget):
    """Mean paired difference (candidate − active) per modality (rows) and metric (columns), red to blue."""

    LIMIT = 0.1  # colour scale ±0.1 Dice: differences beyond it saturate

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background="w", title="A/B: candidate − active, per modality")
        layout.addWidget(self.plot)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        cmap = pg.colormap.get("CET-D1")
        self.image.setLookupTable(cmap.getLookupTable(nPts=256)[::-1])  # red = candidate worse, blue = better
        self.image.setLevels((-self.LIMIT, self.LIMIT))
        self.plot.invertY(True)
        self._labels: list[pg.TextItem] = []

    def show_result(self, result: ComparisonResult | None) -> None:
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        if result is None or not result.groups:
            self.image.clear()
            return
        self.plot.setTitle(f"A/B: candidate − active, per {'template' if result.kind == 'llm' else 'modality'}")
        metrics = list(result.overall)
        groups = list(result.groups)
        values = np.array([[result.groups[g][m]["mean_diff"] for m in metrics] for g in groups], float)
        self.image.setImage(values.T, levels=(-self.LIMIT, self.LIMIT))  # ImageItem is (x, y) = (metric, group)
        for i, m in enumerate(metrics):
            for j, g in enumerate(groups):
                s = result.groups[g][m]
                ci = f"\n[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]" if s["ci_low"] is not None else ""
                text = pg.TextItem(f"{s['mean_diff']:+.3f}{ci}\nn={s['n']}", color="k", anchor=(0.5, 0.5))
                text.setPos(i + 0.5, j + 0.5)
                self.plot.addItem(text)
                self._labels.append(text)
        left = self.plot.getAxis("left")
        left.setTicks([[(j + 0.5, g) for j, g in enumerate(groups)]])
        self.plot.getAxis("bottom").setTicks([[(i + 0.5, m) for i, m in enumerate(metrics)]])
        self.plot.setRange(xRange=(0, len(metrics)), yRange=(0, len(groups)), padding=0.02)
