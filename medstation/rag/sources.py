"""Read source files into :class:`SourceDocument` values: Markdown, text, HTML, PDF and MedQuAD JSONL.

A document is the unit of incremental ingestion: it has a unique ``doc_key``, a
``sha256`` of everything that shapes its chunks, and one or more sections (a file
is one section; a MedQuAD document has one section per answer row, keyed by its
``qid``). Parsing is pure and cheap; embedding happens later, in ``ingest``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from medstation.rag.html_text import html_to_text

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUPPORTED_SUFFIXES = set(TEXT_SUFFIXES) | HTML_SUFFIXES | {".pdf", ".jsonl"}


@dataclass(frozen=True)
class Section:
    """A titled piece of a document, chunked on its own (chunks never straddle sections)."""

    key: str
    text: str
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SourceDocument:
    doc_key: str
    doc_id: str
    title: str
    url: str
    source: str
    source_path: str
    sections: tuple[Section, ...]
    sha256: str


def clean_text(text: str) -> str:
    """Collapse runs of spaces/tabs and blank-looking lines; keep paragraph breaks (``\\n\\n``)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def _file_document(path: Path, title: str, text: str, kind: str) -> SourceDocument | None:
    text = clean_text(text)
    if not text:
        return None
    doc_id = path.resolve().as_posix()
    return SourceDocument(
        doc_key=f"file/{doc_id}",
        doc_id=doc_id,
        title=title or path.stem,
        url=path.resolve().as_uri(),
        source=kind,
        source_path=doc_id,
        sections=(Section(key="0", text=text),),
        sha256=_digest(kind, title, text),
    )


# A text file with more than this share of control characters (other than tab, line and page breaks) is binary
# data under a text name (an image or archive renamed .txt); real notes have none.
BINARY_CONTROL_SHARE = 0.02
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc but tab and line/page breaks (a regex: 100x faster)


def decode_text(raw: bytes) -> str:
    """The text of a file's bytes: UTF-16 with its BOM, UTF-8 (BOM or not), else Windows-1252 (documents written
    on Windows), else Latin-1. Raises ``ValueError`` for binary data (NUL bytes or control characters), which
    would otherwise be stored as chunks of U+FFFD mojibake."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
    elif b"\x00" in raw:
        raise ValueError("binary data, not text (it holds NUL bytes)")
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    control = len(_CONTROL.findall(text))
    if text and control > BINARY_CONTROL_SHARE * len(text):
        raise ValueError(f"binary data, not text ({control} control characters)")
    return text


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
        if m:
            return m.group(1)
        if line.strip():
            break
    return ""


def read_text_file(path: Path) -> SourceDocument | None:
    raw = decode_text(path.read_bytes())
    kind = TEXT_SUFFIXES.get(path.suffix.lower(), "text")
    title = _markdown_title(raw) if kind == "markdown" else ""
    return _file_document(path, title, raw, kind)


def read_html_file(path: Path) -> SourceDocument | None:
    title, text = html_to_text(decode_text(path.read_bytes()))
    return _file_document(path, title, text, "html")


def read_pdf_file(path: Path) -> SourceDocument | None:
    """Text of every page (pypdf's layout-free extraction), pages separated by blank lines."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(page.extract_text() or "") for page in reader.pages]
    title = ""
    try:
        title = str((reader.metadata or {}).get("/Title") or "")
    except Exception:  # broken info dictionaries are common; the file name will do
        title = ""
    return _file_document(path, title, "\n\n".join(pages), "pdf")


def read_medquad_jsonl(path: Path) -> Iterator[SourceDocument]:
    """MedQuAD rows grouped into source documents.

    A source document is one ``(source, doc_id)``: the same ``doc_id`` string is reused
    by different NIH collections, so the key is ``"<source>/<doc_id>"``. Each answer row
    is a section keyed by its position in the document and its ``qid`` (``qid`` alone
    repeats in a few collections). The question text is kept in metadata only, never
    indexed, so an evaluation with the same questions cannot match it verbatim.
    """
    grouped: dict[str, list[dict]] = {}
    with path.open("r", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or not str(row.get("answer") or "").strip():
                continue
            # A few MedQuAD rows lack doc_id; their qid ("<doc>-<n>") still names the document.
            doc_id = str(row.get("doc_id") or str(row.get("qid") or "").rsplit("-", 1)[0] or row.get("url") or "")
            if not doc_id:
                continue
            row = {**row, "doc_id": doc_id}
            source = str(row.get("source") or row.get("collection") or "medquad")
            grouped.setdefault(f"{source}/{doc_id}", []).append(row)
    for doc_key, rows in grouped.items():
        first = rows[0]
        sections = []
        for i, row in enumerate(rows):
            text = clean_text(str(row["answer"]))
            if text:
                focus = str(row.get("focus") or "")
                meta = {"qid": str(row.get("qid") or ""), "qtype": str(row.get("qtype") or ""), "focus": focus,
                        "question": str(row.get("question") or "")}
                sections.append(Section(key=f"{i}-{meta['qid']}", text=text, meta=meta))
        if not sections:
            continue
        title = str(first.get("focus") or first.get("question") or first["doc_id"])
        sha = _digest(title, str(first.get("url") or ""), *(s.key + "\x1e" + s.meta["focus"] + "\x1e" + s.text for s in sections))
        yield SourceDocument(
            doc_key=doc_key,
            doc_id=str(first["doc_id"]),
            title=title,
            url=str(first.get("url") or ""),
            source=doc_key.split("/", 1)[0],
            source_path=path.resolve().as_posix(),
            sections=tuple(sections),
            sha256=sha,
        )


def read_file(path: Path) -> Iterator[SourceDocument]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_medquad_jsonl(path)
        return
    if suffix in TEXT_SUFFIXES:
        doc = read_text_file(path)
    elif suffix in HTML_SUFFIXES:
        doc = read_html_file(path)
    elif suffix == ".pdf":
        doc = read_pdf_file(path)
    else:
        return
    if doc is not None:
        yield doc


def scan_files(root: Path, check: Callable[[], None] = lambda: None) -> tuple[list[Path], list[Path]]:
    """(supported files, files of an unsupported type) under ``root`` (or ``root`` itself), each sorted for a
    reproducible order; hidden files and folders are left out. ``check`` runs every 256 entries of the walk (a
    job's ``ctx.check``: a whole drive picked by mistake takes minutes to walk, and must stop on request)."""
    if root.is_file():
        return ([root], []) if root.suffix.lower() in SUPPORTED_SUFFIXES else ([], [root])
    supported, other = [], []
    for i, p in enumerate(root.rglob("*")):
        if i % 256 == 0:
            check()
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        (supported if p.suffix.lower() in SUPPORTED_SUFFIXES else other).append(p)
    return sorted(supported), sorted(other)


def list_source_files(root: Path) -> list[Path]:
    """Supported files under ``root`` (or ``root`` itself), sorted for a reproducible order; hidden files skipped."""
    return scan_files(root)[0]
