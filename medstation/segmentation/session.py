"""The segmentation session, Qt-free: segments per series, prompts, model masks, undo/redo and provenance.

:class:`SegmentationSession` is what the viewer's segmentation panel shows and changes. It owns

* the segments of every series opened while the app runs (:class:`~medstation.segmentation.segments.SeriesSegments`),
  the set shown (``segments``) and the segment being edited (``current_key``);
* prompts: a box or click becomes the slice's working prompt (:meth:`box_prompt`, :meth:`point_prompt`);
* masks: :meth:`apply_prediction` puts a model mask on a slice together with the prompt that made it (one undo
  step) and writes its provenance record, once, here (a blind-pick's version and preference included);
  :meth:`apply_propagated` does the same for a propagated slice; :meth:`brush` paints strokes;
* undo/redo (:meth:`undo`, :meth:`redo`), removal, renaming;
* decisions: :meth:`record` is the snapshot an accept/reject stores, :meth:`mark_decided` what the store answered.

Methods return the sentence the panel shows (``None``: leave the status line as it is). Nothing here reads or
writes files or the database: the panel runs the service's jobs in the runner's lanes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medstation.segmentation.export import ExportSegment
from medstation.segmentation.measure import SegmentMeasurements, report_line
from medstation.segmentation.plausibility import mask_flags, refinement_flags
from medstation.segmentation.records import SegmentRecord, prompt_entry, propagation_entry
from medstation.segmentation.segments import HistoryStep, Segment, SegmentSet, SegmentStatus, SeriesSegments

STROKE_PAUSE_S = 0.4  # a longer pause between dabs starts a new stroke (one undo step per stroke)


@dataclass(frozen=True)
class SeriesOpened:
    """What opening a series gave: ``made`` True when its set is new (read its saved segments next);
    ``note`` the sentence to show (None: nothing to say)."""

    segments: SegmentSet
    made: bool
    note: str | None


@dataclass(frozen=True)
class BrushDab:
    """One brush move: ``changed`` a pixel changed; ``status_changed`` an accepted segment became a draft."""

    changed: bool
    status_changed: bool


class SegmentationSession:
    """The segments of the series opened this session, and every rule that changes them."""

    def __init__(self) -> None:
        self.workspace = SeriesSegments()
        self.segments: SegmentSet | None = None
        self.current_key: int | None = None
        self.last_prediction = None  # the newest model result applied (a MaskPrediction), for the status line
        self._stroke = 0
        self._last_dab = float("-inf")
        self._last_xy: tuple[float, float] | None = None

    # -- series -------------------------------------------------------------------------------
    def open_series(self, series_uid: str, shape: tuple[int, int, int]) -> SeriesOpened:
        """Show ``series_uid``'s segments: its drafts from this session, else a fresh set with one empty segment."""
        note = None
        try:
            self.segments, made = self.workspace.get_or_create(series_uid, shape)
        except ValueError as exc:  # same series, other files: keep the old drafts, draw on a fresh set
            self.segments, made = self.workspace.keep_aside(series_uid, shape), True
            note = f"Earlier segments kept aside: {exc}."
        if made:
            self.current_key = self.segments.add().key
        else:
            self.current_key = next(iter(self.segments.segments), None)
            drawn = [s for s in self.segments.segments.values() if s.mask.any()]
            n = len(self.segments.unsaved())
            note = (f"Back on this series: {len(drawn)} segment(s) kept"
                    + (f", {n} unsaved draft(s)." if n else ".") if drawn else "")
        return SeriesOpened(self.segments, made, note)

    def merge_saved(self, segs: SegmentSet, stored) -> str | None:
        """Add the saved segments (:class:`~medstation.segmentation.records.StoredSegment`) ``segs`` lacks; the
        empty default segment goes when any is added. Returns the note when ``segs`` is shown and changed."""
        known = segs.stored_ids()
        fresh = [st for st in stored if st.id not in known]
        if not fresh:
            return None
        blank = [k for k, s in segs.segments.items() if not s.mask.any() and s.stored_id is None]
        added, skipped = [], []
        for st in fresh:
            try:
                added.append(segs.add_stored(st).key)
            except ValueError:
                skipped.append(st.name)
        if added:
            for key in blank:  # the empty default segment made while the store was read
                segs.segments.pop(key, None)
        if segs is not self.segments:
            return None
        if self.current_key not in segs.segments:
            self.current_key = next(iter(segs.segments), None)
        note = f"Reloaded {len(added)} accepted segment(s) of this series."
        if skipped:
            note += f" Not shown (drawn on a different set of slices): {', '.join(skipped)}."
        return note

    # -- segments -----------------------------------------------------------------------------
    @property
    def current(self) -> Segment | None:
        return self.segments.segments.get(self.current_key) if self.segments is not None else None

    def add_segment(self) -> Segment | None:
        if self.segments is None:
            return None
        seg = self.segments.add()
        self.current_key = seg.key
        return seg

    def select(self, key: int | None) -> bool:
        """Make ``key`` the current segment; False when it already is or is not in the shown set."""
        if key is None or key == self.current_key or self.segments is None or key not in self.segments.segments:
            return False
        self.current_key = key
        return True

    def remove_current(self) -> str:
        """Take the current segment out (undoable); the set always keeps one segment to draw on."""
        seg = self.segments.segments[self.current_key]
        self.segments.remove(seg.key)
        if not self.segments.segments:
            self.segments.add()
        self.current_key = next(iter(self.segments.segments))
        return f"Removed '{seg.name}'. Undo (Ctrl+Z) brings it back."

    def rename(self, key: int, name: str) -> tuple[str | None, bool]:
        """(the refusal to show or None, True when a saved segment's new name must be stored)."""
        seg = self.segments.segments[key]
        old, problem = seg.name, None
        try:
            self.segments.rename(key, name)
        except ValueError as exc:
            problem = str(exc)
        return problem, seg.stored_id is not None and seg.name != old

    # -- prompts and model masks ----------------------------------------------------------------
    def prompt(self, index: int) -> dict | None:
        """The current segment's prompt on slice ``index`` (prompts belong to a segment and a slice)."""
        return self.segments.prompt(self.current_key, index) if self.segments is not None else None

    def box_prompt(self, index: int, box: tuple[float, float, float, float]) -> dict:
        """A box drawn on slice ``index``: the slice's prompt becomes the box plus any clicks waiting for one."""
        old = self.prompt(index)
        kept = old if old is not None and old["box"] is None else {"points": [], "labels": []}
        prompt = {"box": tuple(box), "points": list(kept["points"]), "labels": list(kept["labels"])}
        self.segments.set_prompt(self.current_key, index, prompt)
        return prompt

    def point_prompt(self, index: int, x: float, y: float, positive: bool) -> dict:
        """A click on slice ``index`` (include or exclude) added to that slice's prompt."""
        prompt = self.prompt(index) or {"box": None, "points": [], "labels": []}
        prompt["points"].append((float(x), float(y)))
        prompt["labels"].append(1 if positive else 0)
        self.segments.set_prompt(self.current_key, index, prompt)
        return prompt

    @staticmethod
    def points_problem(prompt: dict, spec=None) -> str | None:
        """Why clicks without a box cannot be decoded yet (None: they can). ``spec``: the engine's EngineSpec."""
        if prompt["box"] is not None:
            return None
        if not any(prompt["labels"]):
            return ("Exclude points alone say only where the structure is not: "
                    "left-click inside it (or draw a box) first.")
        if spec is not None and not spec.points_alone:
            return (f"{spec.display_name} segments from a box; points refine a box's mask. Draw a box around "
                    "the structure: your points are kept and used with it.")
        return None

    @staticmethod
    def drop_refused_box(segs: SegmentSet, key: int, index: int, box) -> bool:
        """The model refused ``box``: take it out of the slice's prompt so it cannot poison the next clicks."""
        prompt = segs.prompt(key, index) if key in segs.segments else None
        if box is None or prompt is None or prompt.get("box") != box:
            return False
        prompt["box"] = None
        segs.set_prompt(key, index, prompt)
        return True

    def apply_prediction(self, segs: SegmentSet, key: int, index: int, prediction, *, prompt: dict | None = None,
                         engine=None, pixels: np.ndarray | None = None, modality: str = "",
                         provenance: dict | None = None) -> str | None:
        """Put a model mask on slice ``index`` of segment ``key`` in ``segs``, with its prompt, as one undo step.

        ``prediction``: a MaskPrediction ((y, x) ``mask``, ``box``, ``points``, ``score``...). ``prompt``: the box and
        clicks as sent (None: read from the prediction). ``engine``: what drew it (``name``, ``model_version``).
        ``pixels``/``modality``: the slice's image, for the plausibility flags. ``provenance``: extra keys of the
        prompt record (a blind pick: ``model_version_id``, ``preference_id``, ``blind_order``). Returns the status
        sentence when ``segs`` is the shown set, else None (also when the segment was removed meanwhile)."""
        if key not in segs.segments:
            return None
        self.last_prediction = prediction
        seg = segs.segments[key]
        if engine is not None:
            seg.engine, seg.model_version = engine.name, engine.model_version
        points = list(getattr(prediction, "points", None) or [])
        if prompt is None:
            prompt = {"box": tuple(prediction.box) if prediction.box else None,
                      "points": [(p[0], p[1]) for p in points], "labels": [p[2] for p in points]}
        seg.prompts.append({**prompt_entry(index, prediction), **(provenance or {})})
        seg.flags = mask_flags(prediction.mask, prediction.box, pixels, modality)
        if points and seg.mask[index].any():  # a refinement: compare with the mask it refined
            seg.flags += refinement_flags(seg.mask[index], prediction.mask, pixels, modality)
        segs.set_slice(key, index, prediction.mask, label="model", from_model=True, prompt=prompt)
        if segs is not self.segments:
            return None
        notes = getattr(prediction, "notes", ())  # a candidate model's mask (blind choice) has none
        clicks = f" Clicks: {'; '.join(notes)}." if notes else ""
        if prediction.empty:
            note = "EMPTY mask: the model found nothing here."
        elif seg.flags:
            note = f"FLAGGED mask on slice {index + 1}: {'; '.join(seg.flags)}. Check it, redraw or erase it (DRAFT)."
        else:
            note = f"Mask on slice {index + 1}: {int(prediction.mask.sum())} px in {prediction.seconds * 1000:.0f} ms (DRAFT)"
        return note + clicks

    @staticmethod
    def apply_propagated(segs: SegmentSet, key: int, start: int, group: str, index: int, mask: np.ndarray) -> bool:
        """A propagated slice (one undo group per run, its provenance names the start slice); False: skipped."""
        if key not in segs.segments or index == start:
            return False
        if segs.set_slice(key, index, mask, label="propagation", from_model=True, group=group):
            segs.segments[key].prompts.append(propagation_entry(index, start))
        return True

    # -- brush and history ----------------------------------------------------------------------
    def end_stroke(self) -> None:
        """The next dab starts from where it is (a slice change, a new series)."""
        self._last_xy = None

    def brush(self, index: int, x: float, y: float, radius: float, erase: bool, now: float) -> BrushDab:
        """One brush move at time ``now`` (seconds, monotonic): paint from the previous dab to (x, y) on slice
        ``index``; a pause over :data:`STROKE_PAUSE_S` starts a new stroke (a new undo step)."""
        if now - self._last_dab > STROKE_PAUSE_S:
            self._stroke += 1
            self._last_xy = None
        self._last_dab = now
        seg = self.segments.segments[self.current_key]
        was = seg.status
        changed = self.segments.brush(self.current_key, index, x, y, radius, erase, self._stroke,
                                      from_xy=self._last_xy)
        self._last_xy = (float(x), float(y))
        return BrushDab(changed, changed and was != seg.status)

    def undo(self) -> tuple[str, bool]:
        """Undo the last edit, model mask or removal: (the sentence to show, True when something changed)."""
        return self._after_history(self.segments.undo(), "Undid")

    def redo(self) -> tuple[str, bool]:
        return self._after_history(self.segments.redo(), "Redid")

    def _after_history(self, step: HistoryStep | None, verb: str) -> tuple[str, bool]:
        if step is None:
            return ("Nothing to undo." if verb == "Undid" else "Nothing to redo."), False
        seg = self.segments.segments.get(step.segment)
        if step.kind == "removal":
            if seg is not None:
                self.current_key = seg.key
            elif self.current_key not in self.segments.segments:
                self.current_key = next(iter(self.segments.segments), None)
            text = f"{verb} removing {'segment' if seg is None else repr(seg.name)}."
        else:
            where = f"slice {step.slices[0] + 1}" if len(step.slices) == 1 else f"{len(step.slices)} slices"
            state = ""
            if seg is not None:
                state = f" {seg.name} is now a DRAFT (not saved)" + ("; its mask is empty." if not seg.mask.any() else ".")
            text = f"{verb} {step.label} on {where}.{state}"
        if not self.segments.segments:
            self.current_key = self.segments.add().key
        return text, True

    # -- decisions, reports and export ----------------------------------------------------------
    def decision_problem(self, decision: str) -> str | None:
        """Why ``decision`` cannot be stored for the current segment (None: it can)."""
        seg = self.current
        if decision == "accepted" and seg is not None and not seg.mask.any():
            return f"{seg.name} is empty: draw or segment something before accepting it."
        return None

    def record(self, model_version_id: int | None) -> SegmentRecord:
        """A snapshot of the current segment for the store (safe to hand to a job)."""
        seg = self.segments.segments[self.current_key]
        return SegmentRecord(
            series_uid=self.segments.series_uid, name=seg.name, color=seg.color, mask=seg.mask.copy(),
            ai_mask=seg.ai_mask.copy(), engine=seg.engine, model_version_id=model_version_id,
            prompts=list(seg.prompts), stored_id=seg.stored_id,
        )

    @staticmethod
    def mark_decided(seg: Segment, result: dict, saved_name: str | None = None) -> tuple[str, bool]:
        """The store saved ``seg`` (``result``: ``id``, ``decision``). Returns (the note, True when the segment was
        renamed while it was saved, so its new name must be stored too)."""
        seg.stored_id = result["id"]
        seg.status = SegmentStatus(result["decision"])
        renamed = saved_name is not None and seg.name != saved_name
        return f"{seg.name}: {result['decision']} and saved (#{result['id']}).", renamed

    def report(self, measurements: SegmentMeasurements | None) -> str:
        """The current segment's one-line report: its state (and flags) and its measurements."""
        seg = self.current
        if seg is None:
            return ""
        drawn = bool(seg.mask.any())
        state = seg.status.value.upper() + (" — FLAGGED" if seg.flags and drawn else "")
        if measurements is None and drawn:  # measured once editing pauses: until then it is not "empty"
            return f"[{state}] Segment '{seg.name}': measuring…"
        return f"[{state}] {report_line(seg.name, measurements)}"

    def export_items(self) -> list[ExportSegment]:
        """Every non-empty segment of the shown set, numbered from 1; unaccepted ones marked draft."""
        segs = [s for s in self.segments.segments.values() if s.mask.any()] if self.segments is not None else []
        return [ExportSegment(i + 1, seg.name, seg.mask.copy(), seg.engine or "manual", seg.model_version,
                              draft=seg.status != SegmentStatus.accepted) for i, seg in enumerate(segs)]

    def unsaved_work(self) -> list[str]:
        """Plain descriptions of the drafts closing the app now would lose (empty: none)."""
        return [f"draft segment '{seg.name}' (series …{uid[-8:]})" for uid, seg in self.workspace.unsaved()]
