"""The headless interface outside evaluations call: `segment` and `segment-eval`, plus the metrics."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from medstation.cli import main
from medstation.segmentation.metrics import dice, iou, normalized_surface_dice
from tests.seg_support import ellipse_image, seed_onnx_cache


def test_metrics_on_known_shapes():
    a = np.zeros((40, 40), bool)
    a[10:20, 10:20] = True
    b = np.zeros((40, 40), bool)
    b[10:20, 15:25] = True
    assert dice(a, b) == pytest.approx(0.5) and iou(a, b) == pytest.approx(50 / 150)
    assert normalized_surface_dice(a, a) == 1.0
    shifted = np.roll(a, 2, axis=1)
    assert normalized_surface_dice(a, shifted, tolerance=2.0) == 1.0  # within tolerance everywhere
    assert normalized_surface_dice(a, np.roll(a, 3, axis=1), tolerance=2.0) < 1.0
    assert normalized_surface_dice(a, np.zeros_like(a)) == 0.0 and dice(np.zeros_like(a), np.zeros_like(a)) == 1.0


@pytest.fixture
def home_with_onnx(settings):
    seed_onnx_cache(settings.cache_dir)
    return settings


def write_gray_png(path, image01):
    Image.fromarray((np.clip(image01, 0, 1) * 255).astype(np.uint8), mode="L").save(path)


def test_segment_png_writes_binary_mask_on_original_grid(home_with_onnx, tmp_path, capsys):
    image, truth = ellipse_image(h=150, w=210, center=(80, 100), radii=(35, 50))
    write_gray_png(tmp_path / "in.png", image)
    out = tmp_path / "mask.png"
    assert main(["segment", str(tmp_path / "in.png"), "--box", "45", "40", "155", "120", "--out", str(out)]) == 0
    mask = np.asarray(Image.open(out))
    assert mask.shape == (150, 210) and set(np.unique(mask)) <= {0, 255}
    assert dice(mask > 127, truth) > 0.85
    assert "litemedsam:" in capsys.readouterr().out


def test_segment_refuses_bad_box_and_writes_nothing(home_with_onnx, tmp_path, capsys):
    write_gray_png(tmp_path / "in.png", ellipse_image(h=60, w=60)[0][:60, :60])
    out = tmp_path / "mask.png"
    assert main(["segment", str(tmp_path / "in.png"), "--box", "10", "10", "10", "40", "--out", str(out)]) == 2
    assert "zero size" in capsys.readouterr().err and not out.exists()


def test_segment_eval_on_tiny_manifest(home_with_onnx, tmp_path):
    rows = []
    for k, (h, w, c, r) in enumerate([(120, 160, (60, 80), (30, 40)), (140, 100, (70, 50), (40, 25))]):
        image, truth = ellipse_image(h=h, w=w, center=c, radii=r, seed=k)
        write_gray_png(tmp_path / f"img{k}.png", image)
        Image.fromarray((truth * 255).astype(np.uint8)).convert("RGB").save(tmp_path / f"mask{k}.jpg", quality=90)
        ys, xs = np.nonzero(truth)
        rows.append({"image": f"img{k}.png", "mask": f"mask{k}.jpg", "source": "synthetic", "modality": "test",
                     "label": "ellipse", "bbox_xyxy": [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]})
    (tmp_path / "manifest.json").write_text(json.dumps(rows))
    out = tmp_path / "eval"
    assert main(["segment-eval", "--manifest", str(tmp_path / "manifest.json"), "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "masks").iterdir()) == ["0.png", "1.png"]
    assert np.asarray(Image.open(out / "masks" / "1.png")).shape == (140, 100)
    with (out / "per_image.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["row"] for r in table] == ["0", "1"] and set(table[0]) >= {"dice", "iou", "nsd", "seconds"}
    summary = json.loads((out / "summary.json").read_text())
    stats = summary["by_source"]["synthetic"]
    assert stats["n"] == 2 and stats["mean_dice"] > 0.85 and "test" in summary["by_modality"]
    assert summary["engine"] == "litemedsam" and summary["model_version"].startswith("litemedsam:")


def test_cli_and_gui_exports_write_the_same_audit_record(home_with_onnx, tmp_path, db):
    """The command line and the viewer's panel both export through SegmentationService: one audit shape."""
    from sqlmodel import select

    from medstation.imaging.loader import load_series
    from medstation.imaging.synthetic import SeriesSpec, write_series
    from medstation.jobs import JobContext
    from medstation.segmentation.export import ExportSegment
    from medstation.access.roles import UserSession
    from medstation.store.model_registry import ModelRegistry
    from medstation.segmentation.service import SegmentationService
    from medstation.store.tables import AuditEvent

    paths = write_series(tmp_path / "ct", SeriesSpec(n_slices=3, rows=64, columns=64))
    assert main(["segment", str(tmp_path / "ct"), "--box", "8", "8", "56", "56", "--slice", "1",
                 "--out", str(tmp_path / "cli.nii.gz")]) == 0
    volume = load_series(JobContext(), paths)
    mask = np.zeros(volume.pixels.shape, np.uint8)
    mask[1, 20:40, 20:40] = 1
    gui = SegmentationService(home_with_onnx, db, registry=ModelRegistry(db), session=UserSession.from_os_user()).export(  # what the panel's export job runs
        JobContext(), "nifti", [ExportSegment(1, "segment", mask, "LiteMedSAM", "v")], volume,
        str(tmp_path / "gui.nii.gz"), "dr.who")
    with db.session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "segmentation.export")
                      .order_by(AuditEvent.id)).all()
        records = [(r.action, r.entity, r.entity_id, r.detail) for r in rows]
    assert [r[2] for r in records] == [str(tmp_path / "cli.nii.gz"), gui]
    (cli_action, cli_entity, _, cli_detail), (gui_action, gui_entity, _, gui_detail) = records
    assert (cli_action, cli_entity) == (gui_action, gui_entity) == ("segmentation.export", "file")
    assert sorted(cli_detail) == sorted(gui_detail) == ["algorithms", "drafts", "kind", "segments", "series_uid"]
    assert cli_detail["drafts"] == ["segment"] and gui_detail["drafts"] == []  # model output leaves as a draft
    assert cli_detail["kind"] == gui_detail["kind"] == "nifti"
    assert cli_detail["series_uid"] == gui_detail["series_uid"] == volume.series_uid
