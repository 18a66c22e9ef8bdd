"""Parsers of the knowledge base: Markdown, text, HTML, PDF and MedQuAD JSONL; plus the tiny test corpus."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as st

from medstation.rag.html_text import html_to_text
from medstation.rag.sources import clean_text, list_source_files, read_file, read_medquad_jsonl

MEDQUAD_ROWS = [
    {"collection": "3_GHR_QA", "doc_id": "0000101", "source": "GHR", "url": "https://ghr.example/sickle",
     "focus": "Sickle cell disease", "qid": "0000101-1", "qtype": "information",
     "question": "What is sickle cell disease ?",
     "answer": "Sickle cell disease is a group of inherited red blood cell disorders. Haemoglobin S makes red "
               "blood cells rigid and crescent shaped, so they block small vessels and cause pain crises."},
    {"collection": "3_GHR_QA", "doc_id": "0000101", "source": "GHR", "url": "https://ghr.example/sickle",
     "focus": "Sickle cell disease", "qid": "0000101-2", "qtype": "inheritance",
     "question": "Is sickle cell disease inherited ?",
     "answer": "This condition is inherited in an autosomal recessive pattern: both copies of the HBB gene "
               "carry mutations."},
    # The same doc_id string in another collection is a different document.
    {"collection": "9_CDC_QA", "doc_id": "0000101", "source": "CDC", "url": "https://cdc.example/lyme",
     "focus": "Lyme disease", "qid": "0000101-1", "qtype": "transmission",
     "question": "How is Lyme disease spread ?",
     "answer": "Lyme disease is spread by the bite of infected blacklegged ticks carrying Borrelia burgdorferi."},
    {"collection": "2_GARD_QA", "doc_id": "0000202", "source": "GARD", "url": "https://gard.example/fop",
     "focus": "Fibrodysplasia ossificans progressiva", "qid": "0000202-1", "qtype": "symptoms",
     "answer": "Fibrodysplasia ossificans progressiva turns muscle, tendon and ligament into bone "
               "(heterotopic ossification), locking joints in place."},
]


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` in Helvetica, written by hand (pypdf cannot draw text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_corpus(folder: Path) -> Path:
    """Five files, eight documents, each on a distinct disease so retrieval has one right answer."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "asthma.md").write_text(
        "# Asthma\n\nAsthma is a chronic inflammatory disease of the airways. Wheezing, cough and chest "
        "tightness come in attacks.\n\nInhaled corticosteroids control airway inflammation; salbutamol "
        "relieves bronchospasm.\n"
    )
    (folder / "gout.html").write_text(
        "<html><head><title>Gout</title><style>p{color:red}</style></head><body><h1>Gout</h1>"
        "<p>Gout is an arthritis caused by monosodium urate crystals deposited in joints, classically the "
        "big toe.</p><script>var hidden = 'podagra script text';</script><p>Allopurinol lowers uric acid.</p>"
        "</body></html>"
    )
    (folder / "notes").mkdir(exist_ok=True)
    (folder / "notes" / "diabetes.txt").write_text(
        "Type 2 diabetes mellitus is insulin resistance with high blood glucose. Metformin is the first-line "
        "drug. HbA1c tracks glucose control over three months."
    )
    (folder / "hypertension.pdf").write_bytes(
        minimal_pdf("Hypertension is persistently raised arterial blood pressure above 140 over 90 mmHg.")
    )
    (folder / "medquad.jsonl").write_text("\n".join(json.dumps(r) for r in MEDQUAD_ROWS) + "\n")
    (folder / ".hidden.md").write_text("# Hidden\n\nNever ingested.")
    (folder / "image.png").write_bytes(b"\x89PNG not a document")
    return folder


def test_list_source_files_skips_hidden_and_unsupported(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    names = [p.relative_to(root).as_posix() for p in list_source_files(root)]
    assert names == ["asthma.md", "gout.html", "hypertension.pdf", "medquad.jsonl", "notes/diabetes.txt"]


def test_markdown_html_text_and_pdf_parse_to_documents(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    md = next(read_file(root / "asthma.md"))
    assert md.title == "Asthma" and md.source == "markdown" and "salbutamol" in md.sections[0].text
    html = next(read_file(root / "gout.html"))
    assert html.title == "Gout" and "urate crystals" in html.sections[0].text
    assert "podagra" not in html.sections[0].text and "color:red" not in html.sections[0].text
    txt = next(read_file(root / "notes" / "diabetes.txt"))
    assert txt.title == "diabetes" and txt.url.startswith("file://")
    pdf = next(read_file(root / "hypertension.pdf"))
    assert "arterial blood pressure" in pdf.sections[0].text and pdf.source == "pdf"


def test_medquad_rows_group_by_source_and_doc_id(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    docs = {d.doc_key: d for d in read_medquad_jsonl(root / "medquad.jsonl")}
    assert set(docs) == {"GHR/0000101", "CDC/0000101", "GARD/0000202"}
    ghr = docs["GHR/0000101"]
    assert ghr.doc_id == "0000101" and ghr.title == "Sickle cell disease" and len(ghr.sections) == 2
    assert [s.meta["qid"] for s in ghr.sections] == ["0000101-1", "0000101-2"]
    # the question is provenance, never indexed text
    assert all("What is" not in s.text for s in ghr.sections)
    assert docs["GARD/0000202"].sections[0].meta["question"] == ""


def test_document_hash_changes_with_content_only(tmp_path):
    a = tmp_path / "a.md"
    a.write_text("# A\n\nSame words.")
    first = next(read_file(a)).sha256
    a.write_text("# A\n\nSame words.")
    assert next(read_file(a)).sha256 == first
    a.write_text("# A\n\nOther words.")
    assert next(read_file(a)).sha256 != first


def test_html_paragraphs_become_breaks():
    title, text = html_to_text("<title> T </title><p>one</p><p>two &amp; three</p>")
    assert title == "T"
    assert clean_text(text) == "one\n\ntwo & three"


@hsettings(max_examples=150, deadline=None)
@given(st.text())
def test_html_parser_survives_hostile_input(markup):
    title, text = html_to_text(markup)
    cleaned = clean_text(text)
    assert isinstance(title, str) and "\n\n\n" not in cleaned and cleaned == cleaned.strip()


@hsettings(max_examples=50, deadline=None)
@given(st.binary(max_size=400))
def test_jsonl_with_garbage_lines_fails_with_line_number_or_skips(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("jsonl") / "x.jsonl"
    path.write_bytes(blob)
    try:
        docs = list(read_medquad_jsonl(path))
    except ValueError as exc:  # includes UnicodeDecodeError
        assert "x.jsonl" in str(exc) or isinstance(exc, UnicodeDecodeError)
    else:
        assert all(d.sections for d in docs)


@lru_cache(maxsize=1)
def shared_embedder():
    """One loaded MiniLM for every knowledge-base test in this process (loading costs seconds)."""
    from medstation.rag.embedder import Embedder

    return Embedder()


def make_service(settings, db):
    from medstation.access.roles import UserSession
    from medstation.rag.service import KnowledgeBaseService

    return KnowledgeBaseService(settings, db, embedder=shared_embedder(), session=UserSession.from_os_user())


def test_medquad_row_without_doc_id_takes_it_from_the_qid(tmp_path):
    path = tmp_path / "m.jsonl"
    rows = [{"source": "CDC", "doc_id": None, "qid": "0000397-1", "focus": "Taeniasis", "url": "http://cdc.example/t",
             "answer": "Taeniasis is an infection with adult tapeworms."},
            {"source": "CDC", "qid": "", "url": "", "answer": "An answer nobody can place."}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    docs = list(read_medquad_jsonl(path))
    assert [(d.doc_key, d.doc_id) for d in docs] == [("CDC/0000397", "0000397")]
