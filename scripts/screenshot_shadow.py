"""Screenshot of the Admin tab's "Shadow runs" / "Blind preference" section after real shadow runs (under Xvfb).

What is real and what is scripted here:

* the models are real: the embedded LiteMedSAM is the active segmentation model and a fine-tuned
  LiteMedSAM checkpoint made by this app's training (``--seg-candidate``) is the candidate; the embedded
  SmolLM2 drafts notes and a LoRA adapter trained by this app (``--llm-candidate``) is the drafting candidate.
  Both candidates run through ``ShadowService`` exactly as in the tabs (every request shadowed: share 1.0);
* the *user* is scripted: the seg2d reference mask of each image is stored as the accepted (corrected) mask,
  and the blind "pick" is made by an oracle rule — the mask with the higher Dice against that reference
  (neither when they are within 0.01). Notes are signed as drafted after one scripted edit.
  The rows used (``--rows``) are Kvasir images outside the candidate's 12 training images.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_shadow.py \\
        --seg-candidate /path/litemedsam-ft.pth --llm-candidate /path/lora.gguf --onnx-cache /path/cache
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRANSCRIPTS = [
    """Therapist: How have the last two weeks been?
Client: I have been feeling anxious at work most days and I wake up at four in the morning.
Therapist: We will keep working on the worry log and practice the breathing every night.
Client: The breathing helps a bit and I feel calmer when I slow down.
""",
    """Therapist: What would you like to focus on today?
Client: My mood has been low since my mother moved away and I stopped going to the gym.
Therapist: Let's plan two short walks this week and we will review how your mood responds.
Client: I can walk with my neighbour on Tuesday and Saturday mornings.
""",
]


def _segmentation_cases(services, manifest: Path, rows: list[int], seg_candidate: Path, blind) -> None:
    from medstation.jobs import JobContext
    from medstation.segmentation import images, metrics
    from medstation.segmentation.records import SegmentRecord, prompt_entry, save_decision
    from medstation.store.tables import ModelKind
    from medstation.training.canary.preference import BlindPair, record_choice
    from medstation.training.canary.shadow import SegmentationRequest

    ctx = JobContext()
    engine = services.segmentation.ensure_engine(ctx)
    active_id = services.segmentation.model_version_id()
    target = services.settings.models_dir / "finetuned" / seg_candidate.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(seg_candidate, target)
    candidate = services.registry.register(ModelKind.segmentation, "LiteMedSAM fine-tuned (decoder, 12 Kvasir images)",
                                           target, parent_id=active_id, source="fine-tuned",
                                           meta={"engine": "litemedsam", "input_size": 256})
    data = json.loads(manifest.read_text())
    for n in rows:
        row = data[n]
        image = images.read_image(manifest.parent / row["image"])
        truth = images.read_mask(manifest.parent / row["mask"])
        active = engine.decode(engine.embed(image), box=row["bbox_xyxy"])
        series = f"seg2d-{Path(row['image']).stem}"
        plan = services.shadow.plan(ModelKind.segmentation, active_id)
        info = services.shadow.run_segmentation(ctx, plan, SegmentationRequest(
            series, 0, tuple(active.box), image, active.mask, None, row["modality"]))
        print(f"row {n}: shadow case #{info.id} {info.status.value} {info.vs_active or info.error}", flush=True)
        record = SegmentRecord(series, row["label"], "#ff4040", truth[None].astype("uint8"),
                               active.mask[None].astype("uint8"), engine.name, active_id, [prompt_entry(0, active)])
        save_decision(services.db, services.settings.home, record, "accepted", "script: reference mask", None)
        import numpy as np

        from medstation.store.tables import ShadowCase

        with services.db.session() as s:
            mask_path = s.get(ShadowCase, info.id).mask_path
        with np.load(mask_path) as masks:
            cand_mask = masks["candidate"].astype(bool)
        d_active, d_cand = metrics.dice(active.mask, truth), metrics.dice(cand_mask, truth)
        index, order = blind.next_order()
        pair = BlindPair("segmentation", active_id, candidate.id, order, blind.seed, index,
                         {"active": active, "candidate": cand_mask}, info.inputs_sha256,
                         {"series_uid": series, "slice": 0, "picked_by": "oracle rule (screenshot script)"})
        better = "neither" if abs(d_active - d_cand) < 0.01 else ("candidate" if d_cand > d_active else "active")
        record_choice(services.db, services.session, pair, "neither" if better == "neither" else "AB"[order.index(better)])


def _notes_cases(services, llm_candidate: Path, n_notes: int) -> None:
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.store.tables import ModelKind

    target = services.settings.models_dir / "finetuned" / llm_candidate.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(llm_candidate, target)
    services.registry.register(ModelKind.llm, "LoRA drafting adapter (run 1)", target, source="fine-tuned")
    notes = services.notes
    client = notes.create_client("C-2001")
    for i, text in enumerate(TRANSCRIPTS[:n_notes]):
        session = notes.create_session(client.id, f"2026-11-{20 + i}")
        notes.import_transcript(session.id, text, "session.txt")
        note = notes.draft(JobContext(), session.id, "soap", DraftOptions(max_rewrites=2, budget_s=20.0))
        plan = services.shadow.plan(ModelKind.llm, note.draft["provenance"]["model"].get("version_id"))
        info = services.shadow.run_notes(JobContext(), plan, note.id)
        print(f"note {note.id}: shadow case #{info.id} {info.status.value} {info.vs_active or info.error}", flush=True)
        doc = notes.tracked(note.id)
        doc.replace(len(doc.text), len(doc.text), "Reviewed with the client.\n", author="script", at="now")
        notes.save_revision(note.id, doc)
        notes.sign(note.id, notes.note(note.id).text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seg-candidate", required=True, help="a fine-tuned LiteMedSAM .pth made by this app")
    parser.add_argument("--llm-candidate", default="", help="a LoRA adapter .gguf made by this app (optional)")
    parser.add_argument("--onnx-cache", default="", help="a cache dir whose onnx/ exports to reuse (optional)")
    parser.add_argument("--manifest", default=str(ROOT.parent / "shared" / "data" / "seg2d" / "manifest.json"))
    parser.add_argument("--rows", default="20-31", help="manifest rows, e.g. 20-31")
    parser.add_argument("--notes", type=int, default=2, help="notes to draft and shadow (at most 2)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "admin_shadow.png"))
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="medstation_shadow_shot_")) / "home"
    os.environ["MEDSTATION_HOME"] = str(home)
    os.environ.setdefault("MEDSTATION_SAMPLE_STUDY", "false")
    os.environ.setdefault("MEDSTATION_KB_STARTER", "false")  # no knowledge-base ingestion competing for the CPU
    os.environ["MEDSTATION_SHADOW_SHARE_SEGMENTATION"] = "1.0"
    os.environ["MEDSTATION_SHADOW_SHARE_NOTES"] = "1.0" if args.llm_candidate else "0"
    if args.onnx_cache:
        shutil.copytree(Path(args.onnx_cache) / "onnx", home / "cache" / "onnx", dirs_exist_ok=True)
    lo, _, hi = args.rows.partition("-")
    rows = list(range(int(lo), int(hi or lo) + 1))

    from PySide6.QtCore import QTimer

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.app import build_services
    from medstation.training.canary.preference import BlindSession
    from medstation.ui.admin.shadow_section import ShadowSection
    from medstation.ui.launch import open_workstation

    services = build_services(session=UserSession(Actor("admin", Role.admin)))
    _segmentation_cases(services, Path(args.manifest), rows, Path(args.seg_candidate), BlindSession("screenshot"))
    if args.llm_candidate:
        _notes_cases(services, Path(args.llm_candidate), args.notes)
    ws = open_workstation(services, size=(1600, 1000))
    ws.window.select_tab("admin")
    section = ws.window.admin_tab.findChild(ShadowSection)

    def shoot() -> None:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        ws.window.grab().save(str(out))
        section.grab().save(str(out.with_name(out.stem + "_section.png")))
        print(f"saved {out} and {out.stem}_section.png", flush=True)
        ws.app.quit()

    handle = section.refresh()
    handle.sig_finished.connect(lambda: QTimer.singleShot(1500, shoot))
    QTimer.singleShot(120000, ws.app.quit)
    ws.app.exec()
    ws.runner.shutdown()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
