"""Case keys and the fixed train/validation/test split.

A *case* is the unit that never crosses splits: one stored segmentation (all its
slices), one signed note, one imported image (all its labels), one block of
slices of an imported volume. Its key is a salted SHA-256 of where it came from,
so dataset files carry no patient id, name or DICOM UID, and the same case gets
the same key in every later snapshot.

Each case first gets a split from its key alone (``split_of``). A snapshot then
stratifies it (:func:`stratified_splits`): every modality (notes: template) with
at least three cases gets held-out cases in both validation and test, up to
``min_heldout`` each, drawn from training cases source by source (the source
with the smallest held-out share first), while training keeps at least a third
of the modality. Without this, a small modality (22 CT slices beside 92
endoscopy photos) can land entirely in training, and the A/B never tests it.
A case held out in the previous snapshot of a dataset stays in that held-out
split, so growing a dataset never moves a validation or test case into training.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections import defaultdict
from pathlib import Path

# Shares of the 100 hash buckets: 0–69 train, 70–84 val, 85–99 test.
SPLIT_BUCKETS = (("train", 70), ("val", 85), ("test", 100))
SPLIT_RULE = "bucket = int(sha256('split:' + case_key)[:8], 16) % 100: <70 train, <85 val, else test"


def installation_salt(home: Path) -> bytes:
    """A per-installation secret (``<home>/training_salt``), made once; keys cannot be re-derived from UIDs without it."""
    path = Path(home) / "training_salt"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.replace(path)
    return bytes.fromhex(path.read_text().strip())


def case_key(salt: bytes, origin: str) -> str:
    """16 hex characters identifying a case; ``origin`` is e.g. ``segmentation:<series uid>:<row id>``."""
    return hmac.new(salt, origin.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def public_case_key(origin: str) -> str:
    """Key for cases of public imported sets (no salt: the origin is a public file path)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]


def split_of(key: str) -> str:
    """'train', 'val' or 'test' for a case key, by :data:`SPLIT_RULE`."""
    bucket = int(hashlib.sha256(f"split:{key}".encode()).hexdigest()[:8], 16) % 100
    for name, upper in SPLIT_BUCKETS:
        if bucket < upper:
            return name
    raise AssertionError("unreachable")


def hold_back_validation(rows: list[dict], fraction: float = 0.15) -> tuple[list[dict], list[dict]]:
    """(train rows, validation rows) of ``rows`` that came without a validation split.

    Whole cases are held back (every row of a case goes to one side), chosen by the
    same key hash as :func:`split_of` so a rerun holds back the same cases: at least one
    case, about ``fraction`` of them. Fewer than two cases cannot be split: a
    :class:`ValueError` says so (a run refuses rather than validate on what it trains on).
    """
    keys = sorted({r["case_key"] for r in rows}, key=lambda k: hashlib.sha256(f"holdback:{k}".encode()).hexdigest())
    if len(keys) < 2:
        raise ValueError(f"{len(keys)} training case{'s' * (len(keys) != 1)} and no validation split: too few to hold "
                         "any back for validation")
    held = set(keys[:max(1, round(fraction * len(keys)))])
    return [r for r in rows if r["case_key"] not in held], [r for r in rows if r["case_key"] in held]


HELD_OUT = ("val", "test")


def _order(key: str) -> str:
    return hashlib.sha256(f"stratify:{key}".encode()).hexdigest()


def stratified_splits(cases: dict[str, dict], *, min_heldout: int,
                      previous: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """(split per case key, warnings in plain words) for ``cases`` = {key: {"modality", "source"}}.

    ``previous``: {key: split} of the dataset's previous snapshot (held-out cases stay held out).
    Deterministic: the same cases (and previous snapshot) always give the same splits."""
    previous = previous or {}
    split = {k: previous[k] if previous.get(k) in HELD_OUT else split_of(k) for k in cases}
    by_modality: dict[str, list[str]] = defaultdict(list)
    for key, info in cases.items():
        by_modality[str(info.get("modality") or info.get("source") or "?")].append(key)
    warnings = []
    for modality, keys in sorted(by_modality.items()):
        n = len(keys)
        want = min(min_heldout, (n - math.ceil(n / 3)) // 2)  # training keeps at least a third
        for target in ("test", "val"):
            need = want - sum(split[k] == target for k in keys)
            for _ in range(max(0, need)):
                key = _next_heldout(keys, cases, split, target)
                if key is None:
                    break
                split[key] = target
        counts = {name: sum(split[k] == name for k in keys) for name in ("train", "val", "test")}
        missing = [name for name, label in (("val", "validation"), ("test", "test")) if not counts[name]]
        if missing:
            where = " and ".join("validation" if m == "val" else "test" for m in missing)
            warnings.append(f"{modality}: {n} case{'s' * (n != 1)}, none of them in the {where} split, so "
                            f"training cannot be checked on {modality} and the A/B cannot judge it")
        elif counts["val"] < min_heldout or counts["test"] < min_heldout:
            warnings.append(f"{modality}: only {counts['val']} validation and {counts['test']} test cases "
                            f"({min_heldout} each wanted; {n} cases in all), so the A/B cannot judge {modality} "
                            "reliably until there are more")
    return split, warnings


def _next_heldout(keys: list[str], cases: dict[str, dict], split: dict[str, str], target: str) -> str | None:
    """The training case of ``keys`` to hold out next for ``target``: from the source with the smallest share
    of its cases in ``target`` so far, the one first in a fixed hash order."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_source[str(cases[key].get("source", ""))].append(key)
    options = []
    for source, members in sorted(by_source.items()):
        train = sorted((k for k in members if split[k] == "train"), key=_order)
        if train:
            share = sum(split[k] == target for k in members) / len(members)
            options.append((share, source, train[0]))
    return min(options)[2] if options else None
