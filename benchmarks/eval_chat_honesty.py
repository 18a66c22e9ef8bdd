"""Chat honesty on 200 questions: unsupported sentences shown as supported; "not in the knowledge base" P/R.

Question sets (``build``), drawn with a fixed seed from MedQuAD against the
shipped starter knowledge base (``resources/starter_kb``):

* ``on_topic``: MedQuAD questions whose answers ARE ingested (expected: answered);
* ``held_out``: MedQuAD questions about a focus the starter set never mentions,
  whose answers are NOT ingested (expected: not in the knowledge base);
* ``off_topic``: everyday non-medical questions written for this script
  (expected: not in the knowledge base).

``calibration.jsonl`` (60/40/40) tunes the relevance thresholds; ``eval.jsonl``
(80/60/60 = 200, disjoint from it) is what is reported.

The judge (the same for both implementations, defined here, not imported): a
sentence the UI shows as supported by passage n — a ``[n]``/``[≈n]`` mark in
the old code, ``supported`` with citation n in the new — is *actually*
supported when every content word, number and negation of it occurs in passage
n. An answer "overclaims" when at least one of its sentences is shown as
supported but is not. The same lexical rule is the new runtime check, so the
"after" figure in generative mode checks the implementation, not the rule;
a hand audit of sampled sentences is reported beside it.

    python benchmarks/eval_chat_honesty.py build --medquad ../shared/data/medquad/medquad.jsonl --out out/honesty
    MEDSTATION_HOME=... python benchmarks/eval_chat_honesty.py calibrate --sets out/honesty
    MEDSTATION_HOME=... python benchmarks/eval_chat_honesty.py run --impl after --sets out/honesty --out out/honesty/after.jsonl
    MEDSTATION_HOME=... PYTHONPATH=<old checkout> python benchmarks/eval_chat_honesty.py run --impl before ...
    python benchmarks/eval_chat_honesty.py report out/honesty/before.jsonl out/honesty/after.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl"

OFF_TOPIC = [
    "What is the capital of France?", "How do I change a flat tire on a bicycle?", "Who won the 2018 football World Cup?",
    "How long should I boil an egg for a soft yolk?", "What is the best way to learn to play the guitar?",
    "How do I reset my wifi router password?", "What is the difference between stocks and bonds?",
    "How many planets are in the solar system?", "What time zone is Tokyo in?", "How do I make sourdough bread?",
    "Who wrote Pride and Prejudice?", "What is the speed of light in a vacuum?", "How do I remove a red wine stain from a carpet?",
    "What are the rules of chess castling?", "How do I file my income tax return online?", "What is a black hole?",
    "How do I write a cover letter for a job?", "Which programming language is best for beginners?",
    "How do I grow tomatoes on a balcony?", "What is the population of Brazil?", "How does a mortgage work?",
    "What is the tallest mountain in Africa?", "How do I train my puppy to sit?", "What is the plot of Hamlet?",
    "How do I install Python on Windows?", "What causes the seasons on Earth?", "How do I knit a scarf?",
    "What is the exchange rate between euros and dollars?", "Who painted the Mona Lisa?", "How do airplanes stay in the air?",
    "What are the symptoms of a failing car alternator?", "How do I treat a scratched leather sofa?",
    "What causes a computer to overheat?", "How is a diamond formed?", "What is the recipe for pancakes?",
    "How do I choose a good running shoe?", "What is the history of the Roman Empire?", "How do I set up a fish tank?",
    "What is blockchain technology?", "How do I improve my chess openings?", "What is the boiling point of water at altitude?",
    "How do I clean a cast iron pan?", "Who invented the telephone?", "What is the best time to visit Iceland?",
    "How do I calculate compound interest?", "What are the causes of inflation in an economy?",
    "How do I fix a leaking kitchen tap?", "What is the difference between a violin and a viola?",
    "How do solar panels generate electricity?", "What are the rules of cricket?", "How do I paint a room quickly?",
    "Which wine goes well with fish?", "How do I back up my phone photos?", "What is the largest ocean on Earth?",
    "How do bees make honey?", "What is the meaning of the word serendipity?", "How do I plan a wedding budget?",
    "What is the treatment for rust on a car body?", "How do volcanoes erupt?", "What is machine learning?",
    "How do I prune a rose bush?", "Who was the first person on the moon?", "How do I negotiate a higher salary?",
    "What are the stages of a startup company?", "How do I replace a light switch?", "What is the GDP of Germany?",
    "How do I make cold brew coffee?", "What are the signs of a failing hard drive?", "How do tides work?",
    "How do I learn Spanish quickly?", "What is the difference between weather and climate?",
    "How do I build a birdhouse?", "What is quantum computing?", "Who composed the Four Seasons?",
    "How do I store fresh herbs?", "What causes earthquakes?", "How do I get rid of ants in the kitchen?",
    "What is the offside rule in football?", "How do I write a haiku?", "How does a refrigerator keep food cold?",
    "What is the symptom of a bad spark plug?", "How do I sharpen a kitchen knife?", "What is the Pythagorean theorem?",
    "How do electric cars charge?", "What are the best board games for families?", "How do I apply for a passport?",
    "What is the population of Canada?", "How do I start a vegetable compost heap?", "What is the diagnosis when my laptop will not boot?",
    "How do I tune a piano?", "What causes a rainbow?", "How do I choose a laptop for video editing?",
    "What is the history of jazz music?", "How do I remove rust from tools?", "How do I make a paper airplane?",
    "What is the risk of investing in cryptocurrency?", "How do I fold a fitted sheet?", "What is the largest desert in the world?",
    "How do I care for a cactus?", "What is the prevention of frost damage to garden plants?",
]


def _rows(path: Path):
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            yield json.loads(line)


def build(args) -> int:
    rng = random.Random(20261202)
    starter = list(_rows(STARTER))
    blob = " ".join((r.get("focus", "") + " " + r["answer"]).lower() for r in starter)
    blob_words = set(re.findall(r"[a-z]+", blob))
    on_topic = [r for r in starter if r.get("question")]
    rng.shuffle(on_topic)
    starter_docs = {(r["source"], r["doc_id"]) for r in starter}
    held, foci = [], set()
    for r in _rows(Path(args.medquad)):
        focus = (r.get("focus") or "").strip()
        if (r["source"], r["doc_id"]) in starter_docs or not r.get("question") or not focus:
            continue
        if focus.lower() in foci or focus.lower() in blob or focus.lower().startswith("what i need"):
            continue
        words = {w for w in re.findall(r"[a-z]{5,}", focus.lower()) if w not in ("syndrome", "disease", "disorder")}
        if not words or words <= blob_words:  # every topic word of the focus occurs in the starter set
            continue
        foci.add(focus.lower())
        held.append(r)
    rng.shuffle(held)
    off = list(OFF_TOPIC)
    rng.shuffle(off)

    def med(r, kind):
        return {"question": " ".join(r["question"].split()), "kind": kind, "doc_id": r["doc_id"], "qtype": r["qtype"],
                "focus": r.get("focus", ""), "expect": "answered" if kind == "on_topic" else "not_in_kb"}

    def offq(q):
        return {"question": q, "kind": "off_topic", "doc_id": "", "qtype": "", "focus": "", "expect": "not_in_kb"}

    calibration = [med(r, "on_topic") for r in on_topic[:60]] + [med(r, "held_out") for r in held[:40]] + \
        [offq(q) for q in off[:40]]
    evaluation = [med(r, "on_topic") for r in on_topic[60:140]] + [med(r, "held_out") for r in held[40:100]] + \
        [offq(q) for q in off[40:100]]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("calibration", calibration), ("eval", evaluation)):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        kinds = {k: sum(r["kind"] == k for r in rows) for k in ("on_topic", "held_out", "off_topic")}
        print(f"{name}: {len(rows)} questions {kinds}")
    return 0


# --- the judge ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+(?:'[a-z]+)?")
_MARK = re.compile(r"\[\s*≈?\s*\d[\d,;\s\-–]*\]")
_NEG = set("no not never without none cannot neither nor".split())
_STOP = set(
    "the and for are but you all any can had her was one our out has his how its may who did get use with that this "
    "from they have been were will would there their what which when where your into than then them these those some "
    "such also more most other about over only very just each both being does because while should could after before "
    "between through during under again further here why own same passage passages source sources information answer "
    "answers question questions according include includes including included called known often usually many much "
    "might like well make makes made way ways thing things lot lots something someone people person".split())


def _norm(w: str) -> str:
    if w.endswith("n't"):
        return "not"
    w = w[:-2] if w.endswith("'s") else w
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "xes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def judge(sentence: str, passage: str) -> bool:
    """True when every content word, number and negation of ``sentence`` occurs in ``passage``."""
    vocab = {_norm(t.replace(",", "")) for t in _TOKEN.findall(passage.lower())}
    need = set()
    for t in _TOKEN.findall(_MARK.sub(" ", sentence).lower()):
        w = _norm(t.replace(",", ""))
        if t in _STOP and w not in _NEG:
            continue
        if t[0].isdigit() or w in _NEG or (len(w) >= 3 and w not in _STOP):
            need.add(w)
    return bool(need) and need <= vocab


# --- running the two implementations ---------------------------------------------------------------


def _before_shown(result) -> tuple[str, list[dict]]:
    """Old code: sentences with a [n] marker or a [≈n] match are shown as supported by passage n."""
    from medstation.llm.attribution import sentence_spans
    from medstation.llm.answer.citations import MARKER, marker_numbers

    prov = result.provenance
    texts = [p["title"] + "\n" + p["text"] for p in prov["passages"]]
    matched = {(m["start"], m["end"]): m["n"] for m in prov.get("matched") or []}
    shown = []
    for start, end in sentence_spans(result.text):
        sentence = result.text[start:end]
        numbers = [n for m in MARKER.finditer(sentence) for n in marker_numbers(m.group(1)) if 1 <= n <= len(texts)]
        if (start, end) in matched:
            numbers.append(matched[(start, end)])
        shown.append({"text": sentence, "shown_supported": bool(numbers), "passage": numbers[0] if numbers else None,
                      "judged": bool(numbers) and any(judge(sentence, texts[n - 1]) for n in numbers)})
    return result.status, shown


def _after_shown(result) -> tuple[str, list[dict]]:
    prov = result.provenance
    texts = [p["title"] + "\n" + p["text"] for p in prov.passages]
    shown = [{"text": s.text, "shown_supported": s.supported, "passage": s.citations[0] if s.citations else None,
              "judged": bool(s.citations) and judge(s.text, texts[s.citations[0] - 1])} for s in prov.sentences]
    return result.status.value, shown


def run(args) -> int:
    from medstation.app import build_services
    from medstation.jobs import JobContext
    from medstation.llm.backends.base import GenerationSettings
    from medstation.llm.answer.rag_answer import answer_question

    services = build_services()
    # the "before" checkout predates the typed Services
    llm, kb = (services.llm, services.kb) if hasattr(services, "llm") else (services.extra["llm"], services.extra["kb"])
    rows = list(_rows(Path(args.sets) / "eval.jsonl"))[:: args.stride][: args.limit or None]
    generation = GenerationSettings(max_tokens=args.max_tokens)
    done = set()
    out = Path(args.out)
    if out.exists():
        done = {json.loads(line)["question"] for line in out.read_text().splitlines() if line.strip()}
    with out.open("a") as sink:
        for i, row in enumerate(rows):
            if row["question"] in done:
                continue
            started = time.perf_counter()
            extra = {} if args.impl == "before" else {"answer_mode": args.answer_mode}
            try:
                result = answer_question(JobContext(), llm, kb, services.db, row["question"], generation=generation,
                                         **extra)
                status, shown = (_before_shown if args.impl == "before" else _after_shown)(result)
                text = result.text
            except Exception as exc:  # the old code refused "no passage" questions with an error
                status, shown, text = f"refused: {exc}", [], ""
            record = {**row, "impl": args.impl, "status": status, "answer": text, "sentences": shown,
                      "seconds": round(time.perf_counter() - started, 2), "load": os.getloadavg()[0]}
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            print(f"{i + 1}/{len(rows)} {row['kind']:9s} {status:22s} {record['seconds']:6.1f}s", flush=True)
    services.close()
    return 0


def calibrate(args) -> int:
    from medstation.app import build_services
    from medstation.llm.answer.relevance import judge_relevance

    services = build_services()
    kb = services.kb
    rows = list(_rows(Path(args.sets) / "calibration.jsonl"))
    measured = []
    for row in rows:
        passages = kb.search(row["question"], k=5, mode="hybrid")
        v = judge_relevance(row["question"], passages, min_similarity=0.0, min_topic_coverage=0.0)
        measured.append((row, v.top_similarity or 0.0, v.topic_coverage))
    for kind in ("on_topic", "held_out", "off_topic"):
        sims = sorted(s for r, s, _ in measured if r["kind"] == kind)
        covs = sorted(c for r, _, c in measured if r["kind"] == kind)
        q = lambda xs, f: xs[min(len(xs) - 1, int(f * len(xs)))]  # noqa: E731
        print(f"{kind:9s} n={len(sims)} top similarity p5={q(sims, .05):.3f} p50={q(sims, .5):.3f} "
              f"p95={q(sims, .95):.3f}; topic coverage p5={q(covs, .05):.2f} p50={q(covs, .5):.2f}")
    def score(t, c, sure):
        tp = fp = fn = 0
        for r, s, cov in measured:
            refused = not (s >= sure or (s >= t and cov >= c))
            should = r["expect"] == "not_in_kb"
            tp += refused and should
            fp += refused and not should
            fn += (not refused) and should
        p = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        return (2 * p * rec / (p + rec) if p + rec else 0.0), p, rec

    from medstation.llm.answer.relevance import MIN_SIMILARITY, MIN_TOPIC_COVERAGE, SURE_SIMILARITY

    f1, p, rec = score(MIN_SIMILARITY, MIN_TOPIC_COVERAGE, SURE_SIMILARITY)
    print(f"shipped thresholds (sim {MIN_SIMILARITY}, coverage {MIN_TOPIC_COVERAGE}, sure {SURE_SIMILARITY}) on "
          f"calibration: F1={f1:.3f} precision={p:.3f} recall={rec:.3f}")
    best = None
    for t in [x / 100 for x in range(20, 71, 1)]:
        for c in (0.0, 0.34, 0.5, 0.6, 0.67, 0.75, 1.0):
            tp = fp = fn = 0
            for r, s, cov in measured:
                refused = not (s >= t and cov >= c)
                should = r["expect"] == "not_in_kb"
                tp += refused and should
                fp += refused and not should
                fn += (not refused) and should
            p = tp / (tp + fp) if tp + fp else 0.0
            rec = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * p * rec / (p + rec) if p + rec else 0.0
            if best is None or f1 > best[0]:
                best = (f1, t, c, p, rec)
    print(f"best on calibration: MIN_SIMILARITY={best[1]:.2f} MIN_TOPIC_COVERAGE={best[2]:.2f} "
          f"F1={best[0]:.3f} precision={best[3]:.3f} recall={best[4]:.3f}")
    services.close()
    return 0


def report(args) -> int:
    for path in args.results:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        answered = [r for r in rows if r["sentences"]]
        over = [r for r in answered if any(s["shown_supported"] and not s["judged"] for s in r["sentences"])]
        refused = lambda r: r["status"] in ("not_in_knowledge_base",) or str(r["status"]).startswith("refused")  # noqa: E731
        tp = sum(refused(r) and r["expect"] == "not_in_kb" for r in rows)
        fp = sum(refused(r) and r["expect"] == "answered" for r in rows)
        fn = sum(not refused(r) and r["expect"] == "not_in_kb" for r in rows)
        sentences = [s for r in answered for s in r["sentences"]]
        print(f"{path}: {len(rows)} questions, {len(answered)} with answer sentences")
        print(f"  answers with an unsupported sentence shown as supported: {len(over)}/{len(answered)} "
              f"= {len(over) / max(1, len(answered)):.1%}")
        print(f"  sentences shown supported but not: {sum(s['shown_supported'] and not s['judged'] for s in sentences)}"
              f"/{len(sentences)}; shown as unsupported: {sum(not s['shown_supported'] for s in sentences)}")
        print(f"  'not in the knowledge base': precision {tp / max(1, tp + fp):.3f} recall {tp / max(1, tp + fn):.3f} "
              f"(tp {tp}, fp {fp}, fn {fn})")
        for kind in ("on_topic", "held_out", "off_topic"):
            part = [r for r in rows if r["kind"] == kind]
            print(f"  {kind:9s} n={len(part)} refused {sum(refused(r) for r in part)}, "
                  f"overclaiming {sum(r in over for r in part)}")
        loads = [r["load"] for r in rows]
        print(f"  load average during the run: {min(loads):.2f}..{max(loads):.2f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write calibration.jsonl and eval.jsonl")
    b.add_argument("--medquad", required=True, help="MedQuAD jsonl")
    b.add_argument("--out", required=True, help="folder for the question sets")
    c = sub.add_parser("calibrate", help="relevance score distributions and the best thresholds")
    c.add_argument("--sets", required=True, help="folder with calibration.jsonl")
    r = sub.add_parser("run", help="answer eval.jsonl with one implementation (resumable)")
    r.add_argument("--impl", choices=("before", "after"), required=True, help="which code is on PYTHONPATH")
    r.add_argument("--sets", required=True, help="folder with eval.jsonl")
    r.add_argument("--out", required=True, help="results jsonl (appended to; resumes)")
    r.add_argument("--max-tokens", type=int, default=96, help="longest generated answer")
    r.add_argument("--answer-mode", default=None, help="after only: grounded or generative (default: the model's)")
    r.add_argument("--limit", type=int, default=0, help="first N questions only")
    r.add_argument("--stride", type=int, default=1, help="every Nth question (5: a 40-question stratified subset)")
    p = sub.add_parser("report", help="summarise result files")
    p.add_argument("results", nargs="+", help="results jsonl files")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT)) if args.cmd in ("build", "report") else None
    return {"build": build, "calibrate": calibrate, "run": run, "report": report}[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
