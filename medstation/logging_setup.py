"""Logging to a rotating file under ``<home>/logs`` plus stderr for warnings."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def configure_logging(log_dir: Path, level: str = "INFO") -> Path:
    """Attach a rotating file handler (5 files × 2 MB) to the root logger; idempotent."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "medstation.log"
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    return path
