"""The JSON-lines protocol between a child worker process and the process lane.

A worker (``python -m medstation <worker> ...``) writes one JSON object per line
on stdout and nothing else there (logs go to stderr):

* ``{"type": "progress", "fraction": 0.25, "message": "epoch 1/4"}``
* ``{"type": "partial", "data": {...}}``  (a metric point, a log line)
* ``{"type": "result", "data": {...}}``   (last line of a successful run)

Exit status 0 means success; any other status is a failure, reported with the
tail of stderr. The parent cancels by terminating the child.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def _emit(obj: dict[str, Any], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(obj, default=str) + "\n")
    out.flush()


def emit_progress(fraction: float, message: str = "", stream: TextIO | None = None) -> None:
    _emit({"type": "progress", "fraction": float(fraction), "message": message}, stream)


def emit_partial(data: Any, stream: TextIO | None = None) -> None:
    _emit({"type": "partial", "data": data}, stream)


def emit_result(data: Any, stream: TextIO | None = None) -> None:
    _emit({"type": "result", "data": data}, stream)


def parse_line(line: str) -> dict[str, Any] | None:
    """One decoded protocol message, or None for a line that is not one."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and obj.get("type") in {"progress", "partial", "result"} else None
