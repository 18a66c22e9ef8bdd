"""The one reader of dialogue/note CSV files: aci-bench (and MTS-Dialog's columns).

aci-bench (Yim et al. 2023) ships ``dataset, encounter_id, dialogue, note``; MTS-Dialog
ships ``ID, section_header, section_text, dialogue``. Every user of such a file (``notes
eval``, the notes datasets, the LLM A/B comparison, LoRA training) reads it here, so they
agree on the rules:

- text is UTF-8, with or without a byte-order mark (``utf-8-sig``); fields may be large
  (a 3-hour dialogue), so the csv module's field limit is raised;
- ``dialogue`` is required, and the reference is ``note`` (aci-bench) or, when there is
  no ``note`` column, ``section_text`` (MTS-Dialog); anything else is a clear error;
- ``encounter_id`` (or MTS-Dialog's ``ID``) names the row; without one, its row number does.

A file that cannot be read is a :class:`~medstation.errors.UserFacingError` naming the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.errors import UserFacingError

#: Largest field accepted, in characters (a long session's dialogue is ~200 kB).
FIELD_LIMIT = 100_000_000
ENCODING = "utf-8-sig"
REFERENCE_COLUMNS = ("note", "section_text")  # aci-bench, then MTS-Dialog


@dataclass(frozen=True)
class DialogueRow:
    """One row. ``index``: 0-based data row in the file; ``encounter_id``: the file's id or ``str(index)``;
    ``template``: the optional ``template`` column ("" when absent)."""

    index: int
    encounter_id: str
    dataset: str
    dialogue: str
    note: str
    template: str = ""

    @property
    def complete(self) -> bool:
        """Both a dialogue and a note with more than white space."""
        return bool(self.dialogue.strip() and self.note.strip())


def iter_dialogue_rows(path: str | Path, ctx: Any = None) -> Iterator[DialogueRow]:
    """Every row of the CSV at ``path``, in file order; ``ctx.check()`` (a job context) every 16 rows."""
    path = Path(path)
    csv.field_size_limit(FIELD_LIMIT)
    try:
        with path.open(newline="", encoding=ENCODING) as handle:
            reader = csv.DictReader(handle)
            fields = [name.strip() for name in reader.fieldnames or ()]
            reader.fieldnames = fields
            reference = next((c for c in REFERENCE_COLUMNS if c in fields), None)
            if "dialogue" not in fields or reference is None:
                raise UserFacingError(f"{path.name} needs a 'dialogue' column and a 'note' (aci-bench) or "
                                      f"'section_text' (MTS-Dialog) column; it has {', '.join(fields) or 'none'}.")
            for index, record in enumerate(reader):
                if ctx is not None and index % 16 == 0:
                    ctx.check()
                name = record.get("encounter_id") or record.get("ID") or str(index)
                yield DialogueRow(index, str(name).strip(), (record.get("dataset") or "").strip(),
                                  record.get("dialogue") or "", record.get(reference) or "",
                                  (record.get("template") or "").strip())
    except OSError as exc:
        raise UserFacingError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise UserFacingError(f"{path.name} is not UTF-8 text (byte {exc.start} cannot be decoded).") from exc
    except csv.Error as exc:
        raise UserFacingError(f"{path.name} cannot be read as a CSV ({exc}).") from exc


def read_dialogue_rows(path: str | Path, *, limit: int | None = None, complete_only: bool = False,
                       ctx: Any = None) -> list[DialogueRow]:
    """The first ``limit`` rows (all when None); ``complete_only`` skips rows without a dialogue or note
    (they do not count towards ``limit``)."""
    rows: list[DialogueRow] = []
    for row in iter_dialogue_rows(path, ctx):
        if limit is not None and len(rows) >= limit:
            break
        if complete_only and not row.complete:
            continue
        rows.append(row)
    return rows
