"""What two models were given, as one hash: stored with every shadow case and blind pair, so a later reader can
tell that the active and the candidate output answer the same request.

Its own module so that :mod:`~medstation.training.canary.shadow`, :mod:`~medstation.training.canary.note_inputs`
and :mod:`~medstation.training.canary.preference` share it without importing one another in a circle.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np


def inputs_sha256(parts: dict) -> str:
    """sha256 of a JSON-able description of the inputs (keys sorted), plus any arrays under ``_arrays``."""
    digest = hashlib.sha256()
    parts = dict(parts)
    arrays = parts.pop("_arrays", [])
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    for array in arrays:
        a = np.ascontiguousarray(array)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()
