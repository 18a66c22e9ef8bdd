"""The audit trail's anchor outside the database: an HMAC key file and an append-only checkpoint file.

The hash chain in :mod:`medstation.store.audit_chain` catches an edit that does not
recompute later hashes, but its head lives in the same file: delete the newest events
and write the predecessor's hash into the head row, or wipe the trail, and the chain
alone still verifies. The anchor closes that gap with two files that are not in the
database, in ``audit-anchor/`` beside it (folder mode 0700, files 0600, so only the
account that runs MedStation can read them):

- ``<db file name>.key``: 32 random bytes (hex), the HMAC-SHA256 key;
- ``<db file name>.checkpoints``: one JSON line per audit event,
  ``{"seq": id, "prev": prev_hash, "hash": event_hash, "kind": ..., "mac": HMAC(key, seq|prev|hash|kind)}``.

A line is appended (and fsynced) while the event's transaction still holds SQLite's
write lock, so lines are in chain order even with several writing processes. ``kind``
is ``event``; ``void`` cancels an event line whose transaction rolled back; ``adopt``
anchors the head of a trail that existed before the anchor (the first open after an
upgrade: events before it are vouched for only by the chain).

:func:`verify_anchor` fails when a signed line names an event the trail no longer holds
(tail truncated, whole trail wiped), holds with another hash (rewritten), or an event
after the adoption point has no line (inserted by editing the file). Limits, stated
plainly: someone who can read the key file can forge lines, and someone who can delete
both anchor files and the trail together leaves a store that looks new. Keep backups.
A process killed in the few milliseconds between writing a line and committing leaves
a line for an event that never committed; verification reports it as a removed event,
because from the files alone it cannot be told apart from one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.fileio import fsync_dir

ANCHOR_DIR = "audit-anchor"
KINDS = ("event", "void", "adopt")


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of the checkpoint file."""

    seq: int
    prev: str
    hash: str
    kind: str
    mac: str


@dataclass(frozen=True)
class AnchorReport:
    """Result of :func:`verify_anchor`; ``anchored`` counts the signed event lines that held."""

    intact: bool
    anchored: int
    bad_event_id: int | None = None
    reason: str = ""


class AuditAnchor:
    """The key and checkpoint files of the database at ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        db_path = Path(db_path)
        self.dir = db_path.parent / ANCHOR_DIR
        self.key_path = self.dir / f"{db_path.name}.key"
        self.checkpoint_path = self.dir / f"{db_path.name}.checkpoints"

    # --- the key ---------------------------------------------------------------------------------

    def key(self) -> bytes | None:
        """The HMAC key, or None when there is no key file (a store from before the anchor, or a deleted key)."""
        try:
            text = self.key_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return bytes.fromhex(text)

    def ensure(self, head: tuple[int, str] | None) -> None:
        """Create the key on first use; anchor ``head`` (id, hash) of a trail that predates it.

        Call while holding the database's write lock. A checkpoint file without its key is
        left alone: verification must say the key went missing, not start a new anchor.
        """
        if self.key_path.exists() or self.checkpoint_path.exists():
            return
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process created it a moment ago
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(self.dir)
        if head is not None and head[0]:
            self.record(head[0], "", head[1], kind="adopt")

    # --- the checkpoint file ---------------------------------------------------------------------

    def record(self, seq: int, prev: str, digest: str, *, kind: str = "event") -> bool:
        """Append one signed line and fsync it; False (nothing written) when there is no key."""
        key = self.key()
        if key is None:
            return False
        line = json.dumps({"seq": int(seq), "prev": prev, "hash": digest, "kind": kind,
                           "mac": _mac(key, int(seq), prev, digest, kind)}, separators=(",", ":")) + "\n"
        fd = os.open(self.checkpoint_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("ascii"))  # one write of one short line: appends do not interleave
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def checkpoints(self) -> tuple[list[Checkpoint], list[int]]:
        """Every parsable line in file order, and the 1-based numbers of lines that are not (a torn last line)."""
        try:
            text = self.checkpoint_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], []
        lines, bad = [], []
        for number, raw in enumerate(text.splitlines(), start=1):
            try:
                data = json.loads(raw)
                lines.append(Checkpoint(int(data["seq"]), str(data["prev"]), str(data["hash"]), str(data["kind"]),
                                        str(data["mac"])))
            except (ValueError, KeyError, TypeError):
                bad.append(number)
        return lines, bad

    def lines_up_to(self, last_seq: int) -> str:
        """The checkpoint file's text without lines for events after ``last_seq`` (for a consistent backup)."""
        try:
            text = self.checkpoint_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        kept = []
        for raw in text.splitlines():
            try:
                if int(json.loads(raw)["seq"]) <= last_seq:
                    kept.append(raw)
            except (ValueError, KeyError, TypeError):
                continue
        return "".join(line + "\n" for line in kept)


def verify_anchor(anchor: AuditAnchor, events: list[dict[str, Any]]) -> AnchorReport:
    """Check the trail's ``events`` (id order, with ``id``, ``prev_hash``, ``event_hash``) against the anchor."""
    key = anchor.key()
    lines, torn = anchor.checkpoints()
    if key is None:
        if lines or torn:
            return AnchorReport(False, 0, None, f"the anchor key {anchor.key_path} is missing but its checkpoint "
                                                "file is not (the key was deleted)")
        if events:
            return AnchorReport(False, 0, None, f"the trail has {len(events)} events but there is no anchor at "
                                                f"{anchor.dir} (the anchor was deleted)")
        return AnchorReport(True, 0)
    if torn and torn != [len(lines) + len(torn)]:
        return AnchorReport(False, 0, None, f"checkpoint line {torn[0]} is unreadable (the file was edited)")
    for number, line in enumerate(lines, start=1):
        if line.kind not in KINDS or not hmac.compare_digest(line.mac, _mac(key, line.seq, line.prev, line.hash,
                                                                              line.kind)):
            return AnchorReport(False, 0, line.seq, f"checkpoint line {number} is not signed with this store's key "
                                                    "(the checkpoint file was edited)")
    voided = {(c.seq, c.hash) for c in lines if c.kind == "void"}
    anchored = [c for c in lines if c.kind != "void" and (c.seq, c.hash) not in voided]
    by_id = {int(e["id"]): e for e in events}
    last_id = int(events[-1]["id"]) if events else 0
    for line in anchored:
        event = by_id.get(line.seq)
        if event is None:
            if not events:
                return AnchorReport(False, 0, line.seq, f"the trail is empty but the anchor records events up to "
                                                        f"event {max(c.seq for c in anchored)} (the trail was wiped)")
            if line.seq > last_id:
                return AnchorReport(False, 0, line.seq, f"the anchor records event {line.seq} but the trail ends "
                                                        f"at event {last_id} (events at the end were removed)")
            return AnchorReport(False, 0, line.seq, "the anchor records this event but the trail lacks it "
                                                    "(it was deleted)")
        if event["event_hash"] != line.hash or (line.kind == "event" and event["prev_hash"] != line.prev):
            return AnchorReport(False, 0, line.seq, "the event differs from the one the anchor recorded "
                                                    "(it was rewritten)")
    if events:
        start = min((c.seq for c in anchored if c.kind == "adopt"), default=0)
        covered = {c.seq for c in anchored}
        for event in events:
            if int(event["id"]) > start and int(event["id"]) not in covered:
                return AnchorReport(False, len(covered), int(event["id"]),
                                    "the event has no checkpoint line (it was added by editing the file, or "
                                    "written while the anchor key was missing)")
    return AnchorReport(True, len(anchored))


def _mac(key: bytes, seq: int, prev: str, digest: str, kind: str) -> str:
    return hmac.new(key, f"{seq}|{prev}|{digest}|{kind}".encode("ascii"), hashlib.sha256).hexdigest()

