"""Shared, load-once helpers for the segmentation tests (no tests here).

The real LiteMedSAM loads once per test session with the default ONNX Runtime
back-end; the ONNX export is made once into a session folder and copied into a
test's cache dir when a test builds its own engine (CLI, service). The torch
back-end is loaded only by the test that compares the two.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np


@functools.lru_cache(maxsize=1)
def torch_engine():
    from medstation.segmentation.engine import load_engine

    return load_engine("litemedsam", models_dir=Path(tempfile.gettempdir()) / "no-models", cache_dir=None,
                       threads=2, encoder_backend="torch", decoder_backend="torch")


@functools.lru_cache(maxsize=1)
def engine():
    """The default (ONNX Runtime) LiteMedSAM engine: about 3x faster than torch on two cores."""
    from medstation.segmentation.engine import load_engine

    folder = onnx_cache()
    return load_engine("litemedsam", models_dir=folder / "models", cache_dir=folder, threads=2)


@functools.lru_cache(maxsize=1)
def onnx_cache() -> Path:
    """A cache dir holding the ONNX exports of the bundled checkpoint (exported once per session)."""
    from medstation.segmentation.engine import load_engine

    folder = Path(tempfile.mkdtemp(prefix="medstation-onnx-"))
    atexit.register(shutil.rmtree, folder, True)  # about 40 MB of exports: gone with the test session
    load_engine("litemedsam", models_dir=folder / "models", cache_dir=folder, threads=2)
    return folder


def seed_onnx_cache(cache_dir: Path) -> None:
    """Copy the session's ONNX exports into ``cache_dir`` (a test's settings.cache_dir)."""
    shutil.copytree(onnx_cache() / "onnx", Path(cache_dir) / "onnx", dirs_exist_ok=True)


def ellipse_image(h: int = 180, w: int = 260, center=(90, 150), radii=(40, 60), seed: int = 0):
    """(image float32 (h, w) bright ellipse in noise, truth bool (h, w)); center/radii as (row, col)."""
    yy, xx = np.mgrid[:h, :w]
    truth = ((yy - center[0]) / radii[0]) ** 2 + ((xx - center[1]) / radii[1]) ** 2 <= 1.0
    rng = np.random.default_rng(seed)
    image = 0.25 + 0.5 * truth + rng.normal(0, 0.05, (h, w))
    return image.astype(np.float32), truth


def synthetic_volume(shape=(7, 96, 128), radii_mm=(5.0, 20.0, 26.0), spacing=(2.0, 1.0, 1.0), hu=(60.0, -20.0),
                     noise=8.0, seed: int = 1):
    """(Volume (CT, HU) with a bright ellipsoid in noise, truth uint8 (z, y, x)). radii/spacing in (z, y, x) mm."""
    from medstation.imaging.volume import Volume

    z, y, x = np.indices(shape).astype(float)
    c = [(n - 1) / 2 for n in shape]
    r = sum(((a - ca) * s / rad) ** 2 for a, ca, s, rad in zip((z, y, x), c, spacing, radii_mm))
    truth = (r <= 1.0).astype(np.uint8)
    rng = np.random.default_rng(seed)
    pixels = np.where(truth, hu[0], hu[1]) + rng.normal(0, noise, shape)
    volume = Volume(
        pixels=pixels.astype(np.float32), spacing=spacing, origin=(-50.0, -40.0, 100.0), direction=np.eye(3),
        modality="CT", series_uid="1.2.3.4.5", study_uid="1.2.3.4", sop_uids=[f"1.2.3.4.5.{k}" for k in range(shape[0])],
        source_paths=[], window=(40.0, 300.0),
    )
    return volume, truth
