"""Import a seg2d-format manifest as a dataset snapshot and print its split per modality and source.

    MEDSTATION_HOME=/tmp/split .venv/bin/python scripts/split_report.py ../shared/data/seg2d/manifest.json

Prints one line per modality (train / validation / test cases, and labelled rows: one image with several
organ labels is one case, so its labels never straddle splits) and per source inside it, then the
snapshot's split warnings (modalities missing from, or thin in, the held-out splits). The snapshot is
written under ``$MEDSTATION_HOME`` like ``medstation train segmentation --manifest`` writes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    from medstation.access.roles import UserSession
    from medstation.app import build_services
    from medstation.jobs import JobContext
    from medstation.training import datasets

    services = build_services(session=UserSession.from_os_user())
    try:
        version = services.training.import_seg2d(JobContext(), args.manifest)
        rows = datasets.seg_rows(version)
    finally:
        services.close()
    cases = {r["case_key"]: (r["modality"], r["source"], r["split"]) for r in rows}
    row_counts = Counter((r["modality"], r["split"]) for r in rows)
    by_source = Counter(cases.values())
    report = {"dataset": version.label, "cases": len(cases), "split_rule": "stratified by modality and source",
              "by_modality": version.report["split_by_modality"],
              "by_source": {f"{m}/{s}": {sp: n for (m2, s2, sp), n in by_source.items() if (m2, s2) == (m, s)}
                            for m, s in sorted({(m, s) for m, s, _ in cases.values()})},
              "rows_by_modality": {m: {sp: row_counts[(m, sp)] for sp in ("train", "val", "test")}
                                   for m in sorted({m for m, _ in row_counts})},
              "warnings": version.split_warnings}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{report['dataset']}: {report['cases']} cases")
    for modality, counts in sorted(report["by_modality"].items()):
        rows_of = report["rows_by_modality"][modality]
        print(f"  {modality:12s} cases: train {counts['train']:3d}  validation {counts['val']:3d}  test "
              f"{counts['test']:3d}   (labelled rows: {rows_of['train']} / {rows_of['val']} / {rows_of['test']})")
    for name, counts in report["by_source"].items():
        print(f"    {name:32s} " + "  ".join(f"{k} {counts.get(k, 0)}" for k in ("train", "val", "test")))
    for warning in report["warnings"]:
        print(f"  warning: {warning}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
