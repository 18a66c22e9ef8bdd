"""``medstation segment`` and ``medstation segment-eval``: headless MedSAM segmentation.

segment IMAGE_OR_SERIES --box X0 Y0 X1 Y1 [--include X Y]... [--exclude X Y]... [--slice K] [--engine NAME] --out MASK
    An image (PNG/JPEG, gray or RGB; or one DICOM file) → 0/255 PNG on the original
    pixel grid. Include/exclude clicks refine the box's mask in the order given, exactly
    as the viewer does (``medstation.segmentation.refine.prompt_mask``). A series folder →
    the box (and clicks) prompt slice K, the mask is propagated
    up and down the volume and written as a NIfTI label map (.nii.gz) in the
    series geometry.

segment-eval --manifest PATH --out DIR [--engine NAME] [--model-version ID]
    Scores the engine on every row of a manifest (see medstation.segmentation.evaluation).

Exit status: 0 success; 2 a problem the user can fix (missing checkpoint, refused or empty box,
bad manifest; the reason on stderr); 1 an internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from medstation.errors import UserFacingError


class _ClickAction(argparse.Action):
    """--include/--exclude append (x, y, 1|0) to one list, so clicks keep their command-line order."""

    def __call__(self, parser, namespace, values: Sequence[float], option_string=None) -> None:
        clicks = list(getattr(namespace, self.dest, None) or [])
        clicks.append((float(values[0]), float(values[1]), 1 if option_string == "--include" else 0))
        setattr(namespace, self.dest, clicks)


def _click_prompt(args) -> tuple[list | None, list | None]:
    """(points [(x, y)], labels [1|0]) from --include/--exclude, or (None, None) without clicks."""
    clicks = getattr(args, "clicks", None) or []
    if not clicks:
        return None, None
    return [(x, y) for x, y, _ in clicks], [label for _, _, label in clicks]


def add_parser(sub) -> None:
    p = sub.add_parser("segment", help="Segment an image or series from a box prompt (MedSAM).")
    p.add_argument("input", help="PNG/JPEG/DICOM image, or a folder holding one DICOM series")
    p.add_argument("--box", nargs=4, type=float, required=True, metavar=("X0", "Y0", "X1", "Y1"),
                   help="box in pixels of the original image (x = column, y = row)")
    p.add_argument("--include", nargs=2, type=float, action=_ClickAction, dest="clicks", default=[],
                   metavar=("X", "Y"), help="a click inside the structure (repeatable; applied in order)")
    p.add_argument("--exclude", nargs=2, type=float, action=_ClickAction, dest="clicks", default=[],
                   metavar=("X", "Y"), help="a click outside the structure (repeatable; applied in order)")
    p.add_argument("--slice", type=int, default=None, help="0-based slice of a series to prompt (default: middle)")
    p.add_argument("--engine", default=None, help="litemedsam (default) or medsam_vit_b")
    p.add_argument("--out", required=True, help="mask .png (image input) or .nii.gz (series input)")
    p.set_defaults(func=run)

    e = sub.add_parser("segment-eval", help="Evaluate segmentation on a manifest of images, masks and boxes.")
    e.add_argument("--manifest", required=True, help="manifest.json (rows with image, mask, bbox_xyxy)")
    e.add_argument("--out", required=True, help="output folder for masks/, per_image.csv, summary.json")
    e.add_argument("--engine", default=None, help="litemedsam (default) or medsam_vit_b")
    e.add_argument("--model-version", type=int, default=None,
                   help="ModelVersion id to run (a registered checkpoint, e.g. a fine-tuned one)")
    e.set_defaults(func=run_eval)


def _load(settings, engine_name: str | None, model_version_id: int | None = None):
    """The engine to run: ``model_version_id`` from the registry, else ``engine_name``, else the
    registry's active segmentation version (what the viewer runs), else the default engine."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.segmentation.engine import load_engine
    from medstation.segmentation.registry import ENGINES
    from medstation.access.encryption import open_database, open_store
    from medstation.store.model_registry import ModelRegistry, RegistryError
    from medstation.store.tables import ModelKind

    name = engine_name or settings.seg_engine
    checkpoint = None
    if model_version_id is not None or engine_name is None:
        db = open_store(settings)
        try:
            registry = ModelRegistry(db)
            if model_version_id is not None:
                version = registry.get(model_version_id)
                if version is None or version.kind != ModelKind.segmentation:
                    raise RegistryError(f"no segmentation model version with id {model_version_id}")
                if not version.file.is_file():
                    raise RegistryError(f"model version #{version.id} points at {version.path}, which is missing")
            else:
                version = registry.active(ModelKind.segmentation)
            if version is not None and version.meta.get("engine") in ENGINES and version.file.is_file():
                checkpoint = version.file
                name = engine_name or str(version.meta["engine"])
        finally:
            db.close()
    return load_engine(name, models_dir=settings.models_dir, cache_dir=settings.cache_dir,
                       threads=settings.seg_threads, checkpoint=checkpoint)


class SegmentInputError(UserFacingError):
    """The input or the prompt cannot give a mask (missing file, slice out of range, nothing in the box)."""


def run(args: argparse.Namespace) -> int:
    """Expected problems (missing checkpoint, refused box) raise UserFacingError: ``cli.main`` exits 2."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.config import Settings

    settings = Settings()
    settings.ensure_dirs()
    source = Path(args.input)
    if not source.exists():
        raise SegmentInputError(f"{source} does not exist")
    engine = _load(settings, args.engine)
    if source.is_dir():
        return _segment_series(engine, source, args)
    return _segment_image(engine, source, args)


def _segment_image(engine, source: Path, args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.segmentation.images import read_image, write_mask_png
    from medstation.segmentation.refine import prompt_mask

    image = read_image(source)
    embedding = engine.embed(image)
    points, labels = _click_prompt(args)
    prediction = prompt_mask(lambda **p: engine.decode(embedding, **p), image.shape[:2], args.box, points, labels)
    out = write_mask_png(prediction.mask, args.out)
    area = int(prediction.mask.sum())
    note = " (EMPTY mask: the model found nothing in this box)" if area == 0 else ""
    print(f"{out}: {area} px of {image.shape[1]}x{image.shape[0]}, {engine.model_version}{note}")
    for line in prediction.notes:
        print(f"  {line}")
    return 0


def _segment_series(engine, folder: Path, args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.imaging.loader import load_series
    from medstation.jobs import print_progress_context
    from medstation.segmentation.cache import EmbeddingCache
    from medstation.segmentation.export import ExportSegment
    from medstation.segmentation.propagation import propagate, stack_masks
    from medstation.segmentation.slices import VolumeSegmenter

    ctx = print_progress_context()
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    volume = load_series(ctx, paths)
    k = volume.pixels.shape[0] // 2 if args.slice is None else args.slice
    if not 0 <= k < volume.pixels.shape[0]:
        raise SegmentInputError(f"--slice {k} outside 0..{volume.pixels.shape[0] - 1}")
    segmenter = VolumeSegmenter(engine, volume, EmbeddingCache(8))
    points, labels = _click_prompt(args)
    first = segmenter.prompt(k, box=args.box, points=points, labels=labels)
    if first.empty:
        raise SegmentInputError(f"the model found nothing in the box on slice {k}; no mask written")
    masks = propagate(ctx, segmenter.predict_mask, segmenter.n_slices, k, first.mask, image=segmenter.slice_image)
    labels = stack_masks(masks, volume.pixels.shape)
    out = Path(args.out)
    if not out.name.endswith((".nii", ".nii.gz")):
        out = out.with_name(out.name + ".nii.gz")
    _export_audited([ExportSegment(1, "segment", labels, engine.spec.display_name, engine.model_version,
                                   draft=True)], volume, out)
    print(f"{out}: {int(labels.sum())} voxels on slices {min(masks)}..{max(masks)}, {engine.model_version}")
    return 0


def _export_audited(segments, volume, out: Path) -> None:
    """The service's export path, so the command line leaves the same audit record as the viewer."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.headless import session_from_environment
    from medstation.config import Settings
    from medstation.segmentation.service import ExportKind, export_segments
    from medstation.access.encryption import open_database

    db = open_database(Settings().db_path)
    try:
        export_segments(db, ExportKind.nifti, segments, volume, out, session_from_environment(db).actor.name)
    finally:
        db.close()


def run_eval(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.config import Settings
    from medstation.jobs import print_progress_context
    from medstation.segmentation.evaluation import evaluate_manifest

    settings = Settings()
    settings.ensure_dirs()
    try:
        engine = _load(settings, args.engine, args.model_version)
        summary = evaluate_manifest(print_progress_context(), engine, args.manifest, args.out,
                                    model_version_id=args.model_version)
    except (ValueError, OSError) as exc:  # an unreadable or malformed manifest
        raise SegmentInputError(f"cannot evaluate {args.manifest}: {exc}") from exc
    for source, stats in summary["by_source"].items():
        print(f"{source:24s} n={stats['n']:3d}  Dice {stats['mean_dice']:.3f} (median {stats['median_dice']:.3f})"
              f"  IoU {stats['mean_iou']:.3f}  NSD {stats['mean_nsd']:.3f}")
    if summary["failures"]:
        print(f"{len(summary['failures'])} row(s) failed; see {args.out}/summary.json", file=sys.stderr)
    return 0
