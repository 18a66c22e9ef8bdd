"""``medstation --self-test``: the whole workstation once, in a throw-away data folder, as one JSON object.

Steps (each with ``ok``, ``seconds`` and what it produced; a step is ``ok`` only when it produced
real output, checked here, never assumed):

1. ``window``: the main window opens (offscreen) with its four tabs;
2. ``sample_study``: the bundled sample CT is indexed and shown in the viewer (timed from launch: its first
   slice on screen, ``first_image_since_launch_s``, and the whole volume loaded, ``since_launch_s``);
3. ``segment``: a box prompt on the spleen gives a LiteMedSAM mask inside the box (ONNX Runtime);
4. ``kb_answer``: a small bundled MedQuAD corpus is ingested (ONNX embedder) and a question is
   answered with citations (grounded: supported sentences citing retrieved passages);
5. ``llm_generate``: the embedded GGUF model writes a few tokens through llama.cpp;
6. ``note_draft``: a SOAP note is drafted from the bundled transcript with evidence lines;
7. ``child_process``: a ``selftest-worker`` child runs through :mod:`medstation.process_jobs` (in a
   bundle it re-enters through the frozen executable, as the training worker does);
8. ``encrypted_store``: a SQLCipher store is created, written, closed, reopened with its
   passphrase (and refused with a wrong one).

Nothing touches the user's data: ``MEDSTATION_HOME`` points at a temporary folder, removed afterwards.
``--cold-start`` runs steps 1 and 2 only; with ``--data-folder`` the folder is kept, so a second launch on it
times an ordinary start (``installer/cold_start.sh``).
Runs the same from a source checkout and from the frozen bundle (resources come from
:func:`medstation.config.resources_dir`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SPLEEN_BOX = (322.0, 250.0, 410.0, 378.0)  # sample CT, pixels (x0, y0, x1, y1), slice 10
SPLEEN_SLICE = 10
KB_QUESTION = "What are the symptoms of asthma?"
STEP_TIMEOUT_S = 180.0


def process_start_epoch() -> float | None:
    """When this process was launched (Unix time), from ``/proc`` on Linux; None elsewhere."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class StepFailed(Exception):
    """A step ran but did not produce the output it must."""


def _wait(app, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise StepFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


class SelfTest:
    def __init__(self, launch_epoch: float | None) -> None:
        self.launch_epoch = launch_epoch
        self.steps: list[dict] = []
        self.station = None

    def step(self, name: str, fn: Callable[[], dict]) -> bool:
        start = time.perf_counter()
        entry: dict = {"name": name}
        try:
            entry.update(fn() or {})
            entry["ok"] = True
        except Exception as exc:  # every failure is reported in the JSON, the run goes on
            entry["ok"] = False
            entry["error"] = f"{exc.__class__.__name__}: {exc}"
        entry["seconds"] = round(time.perf_counter() - start, 3)
        self.steps.append(entry)
        return entry["ok"]

    # --- the steps ---------------------------------------------------------------------------------

    def window(self) -> dict:
        from medstation.ui.launch import open_workstation

        self.station = open_workstation()
        window = self.station.window
        tabs = [window.tabs.tabText(i).lower() for i in range(window.tabs.count())]
        if not window.isVisible() or not {"viewer", "chat", "notes", "admin"} <= set(tabs):
            raise StepFailed(f"window not shown with its four tabs (tabs: {tabs})")
        return {"tabs": tabs}

    def sample_study(self) -> dict:
        station = self.station
        viewer = station.window.viewer_tab
        first_image: list[float] = []  # when a slice of the study was first on screen (the volume still loading)

        def on_preview(_series_uid: str) -> None:
            if not first_image and viewer.axial_view.current_image() is not None:
                first_image.append(time.time())

        viewer.sig_preview_shown.connect(on_preview)
        station.window.start(None)  # first run: index and open the bundled sample CT
        _wait(station.app, lambda: viewer.current_volume() is not None, STEP_TIMEOUT_S, "the sample study")
        viewer.sig_preview_shown.disconnect(on_preview)
        volume_at = time.time()
        volume = viewer.current_volume()
        if volume.pixels.ndim != 3 or volume.pixels.shape[0] < 2 or float(volume.pixels.std()) == 0.0:
            raise StepFailed(f"sample study has no image data (shape {volume.pixels.shape})")
        shown = {"shape": list(volume.pixels.shape), "modality": volume.modality}
        if self.launch_epoch is not None:
            # since_launch_s: the whole volume loaded (scrolling, MPR, segmentation ready); first_image_since_launch_s:
            # the first slice of the study on screen (issue 22's "sample study shown"), streamed while it decodes
            shown["since_launch_s"] = round(volume_at - self.launch_epoch, 3)
            shown["first_image_since_launch_s"] = round(min(first_image or [volume_at]) - self.launch_epoch, 3)
        return shown

    def segment(self) -> dict:
        import numpy as np

        from medstation.ui.segmentation.panel import SegmentationPanel

        station = self.station
        viewer = station.window.viewer_tab
        panel = viewer.findChild(SegmentationPanel)
        if panel is None:
            raise StepFailed("the segmentation panel is not mounted in the viewer")
        _wait(station.app, lambda: "ready" in panel.engine_label.text(), STEP_TIMEOUT_S, "the segmentation engine")
        viewer.set_slice(SPLEEN_SLICE)
        panel.set_tool("seg_box")
        x0, y0, x1, y1 = SPLEEN_BOX
        viewer.axial_view.sig_box_drawn.emit(x0, y0, x1, y1)

        def mask():
            seg = panel.segments.segments.get(panel.current_key)
            return None if seg is None else seg.mask[SPLEEN_SLICE]

        _wait(station.app, lambda: mask() is not None and mask().any(), STEP_TIMEOUT_S, "a mask")
        rows, cols = np.nonzero(mask())
        area = int(rows.size)
        inside = cols.min() >= x0 - 4 and cols.max() <= x1 + 4 and rows.min() >= y0 - 4 and rows.max() <= y1 + 4
        box_area = (x1 - x0) * (y1 - y0)
        if area < 500 or not inside or area > 0.95 * box_area:
            raise StepFailed(f"implausible mask: {area} px, inside the box: {bool(inside)}")
        return {"engine": panel.engine_label.text(), "mask_pixels": area}

    def kb_answer(self) -> dict:
        from medstation.config import resources_dir
        from medstation.jobs import JobContext
        from medstation.llm.answer.rag_answer import answer_question

        services = self.station.services
        corpus = resources_dir() / "selftest" / "kb_corpus.jsonl"
        version = services.kb.ingest_job(JobContext(), corpus)
        result = answer_question(JobContext(), services.llm, services.kb, services.db, KB_QUESTION,
                                 answer_mode="grounded")
        prov = result.provenance
        # A grounded answer quotes passage sentences with their [n]: its written citations count (the support
        # check may still mark a list quote with normalised separators unsupported; reported, not hidden).
        cited = [s for s in prov.sentences if s.citations or s.model_citations]
        passages = {p["n"]: p for p in prov.passages}
        if result.status.value not in ("complete", "truncated") or not cited:
            raise StepFailed(f"no cited answer (status {result.status.value}): {result.text[:200]!r}")
        numbers = [n for s in cited for n in (s.citations or s.model_citations)]
        if not all(n in passages for n in numbers):
            raise StepFailed("a citation points at no retrieved passage")
        if "asthma" not in " ".join(passages[n]["text"] for n in numbers).lower():
            raise StepFailed("the cited passages are not about asthma")
        return {"documents": version.doc_count, "chunks": getattr(version, "chunk_count", None),
                "answer": result.text[:160], "cited_sentences": len(cited),
                "supported_sentences": sum(1 for s in prov.sentences if s.supported), "embedder": services.kb.embedder().name}

    def llm_generate(self) -> dict:
        from dataclasses import replace

        from medstation.jobs import JobContext
        from medstation.llm.answer.rag_answer import answer_question

        services = self.station.services
        generation = replace(services.llm.generation_defaults(), max_tokens=24)
        result = answer_question(JobContext(), services.llm, services.kb, services.db, KB_QUESTION,
                                 answer_mode="generative", generation=generation)
        if result.status.value not in ("complete", "truncated") or not result.text.strip():
            raise StepFailed(f"the model wrote nothing (status {result.status.value})")
        return {"model": services.llm.model_path().name, "text": result.text[:160]}

    def note_draft(self) -> dict:
        from medstation.config import resources_dir
        from medstation.jobs import JobContext
        from medstation.notes.drafting import draft_note
        from medstation.notes.template_store import TemplateStore
        from medstation.notes.transcript import parse_transcript

        path = resources_dir() / "selftest" / "sample_transcript.txt"
        transcript = parse_transcript(path.read_bytes(), path.name)
        template = TemplateStore(self.station.services.db).get("soap")
        draft = draft_note(JobContext(), transcript, template)
        sentences = [s for sec in draft.sections for s in sec.sentences]
        linked = [s for s in sentences if s.evidence]
        if len(linked) < 3:
            raise StepFailed(f"draft has {len(linked)} sentences linked to transcript lines")
        return {"sections": [sec.key for sec in draft.sections], "sentences": len(sentences),
                "with_evidence": len(linked), "first": linked[0].text[:120]}

    def child_process(self) -> dict:
        """A worker child re-enters through this program (the frozen executable in a bundle)."""
        from medstation.jobs import JobContext
        from medstation.process_jobs import run_worker_process, worker_command

        result = run_worker_process(JobContext(), ["selftest-worker", "--steps", "3"])
        if not isinstance(result, dict) or not result:
            raise StepFailed(f"the worker returned no result ({result!r})")
        return {"command": [Path(worker_command([])[0]).name, *worker_command([])[1:]], "result": result}

    def encrypted_store(self) -> dict:
        import secrets

        from sqlmodel import text

        from medstation.access import encryption
        from medstation.store.database import Database

        folder = Path(tempfile.mkdtemp(prefix="medstation-selftest-db-"))
        try:
            path = folder / "medstation.db"
            passphrase = secrets.token_urlsafe(18)
            encryption.create_key_header(path, passphrase=passphrase)
            db = Database(path, key=encryption.database_key(path, passphrase=passphrase))
            db.audit("selftest.write", actor="self-test", entity="selftest")
            db.close()
            if encryption.is_plaintext_sqlite(path):
                raise StepFailed("the store was written in plaintext")
            db = Database(path, key=encryption.database_key(path, passphrase=passphrase))
            with db.session() as s:
                events = s.exec(text("SELECT count(*) FROM audit_event WHERE action = 'selftest.write'")).one()[0]
            db.close()
            if events != 1:
                raise StepFailed(f"reopened store holds {events} self-test events, not 1")
            try:
                encryption.database_key(path, passphrase=passphrase + "x")
            except encryption.WrongKey:
                refused = True
            else:
                refused = False
            if not refused:
                raise StepFailed("a wrong passphrase opened the store")
            return {"encrypted": True, "events_read_back": events, "wrong_passphrase_refused": refused}
        finally:
            shutil.rmtree(folder, ignore_errors=True)


COLD_START_STEPS = ("window", "sample_study")


def run_self_test(*, cold_start_only: bool = False, data_folder: Path | None = None) -> dict:
    """Run every step in a temporary data folder; returns the JSON-able report (``ok``: all steps passed).

    ``cold_start_only``: only the window and the sample study (what ``installer/cold_start.sh`` times).
    ``data_folder``: use (and keep) this data folder instead of a temporary one, so a second launch on it
    times a start whose store already exists and whose sample study is already indexed.
    """
    launch = process_start_epoch()
    started = time.perf_counter()
    home = Path(data_folder) if data_folder else Path(tempfile.mkdtemp(prefix="medstation-selftest-"))
    home.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("MEDSTATION_HOME", "MEDSTATION_KB_STARTER", "QT_QPA_PLATFORM")}
    os.environ.update(MEDSTATION_HOME=str(home), MEDSTATION_KB_STARTER="false", QT_QPA_PLATFORM="offscreen")
    test = SelfTest(launch)
    later = () if cold_start_only else ("segment", "kb_answer", "llm_generate", "note_draft")
    try:
        if test.step("window", test.window):
            for name in ("sample_study", *later):
                test.step(name, getattr(test, name))
        if not cold_start_only:
            test.step("child_process", test.child_process)
            test.step("encrypted_store", test.encrypted_store)
    finally:
        if test.station is not None:
            test.station.window.hide()  # not close(): unsaved drafts would ask in a dialog
            test.station.close(timeout_ms=20_000)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if data_folder is None:
            shutil.rmtree(home, ignore_errors=True)
    from medstation import __version__

    steps = test.steps
    if cold_start_only:
        expected = len(COLD_START_STEPS) if steps and steps[0]["ok"] else 1
    else:
        expected = 8 if steps and steps[0]["ok"] else 3
    return {"ok": len(steps) == expected and all(s["ok"] for s in steps), "version": __version__,
            "frozen": bool(getattr(sys, "frozen", False)), "seconds": round(time.perf_counter() - started, 3),
            "cpu_count": os.cpu_count(), "steps": steps}
