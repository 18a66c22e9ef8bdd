"""Validate de-identified copies with dciodvfy: files checked, errors before and after, new errors.

Usage: ``python scripts/deid_validate.py [PATH...] [--all-options]``. Without paths it uses every
``*.dcm`` of pydicom's test files (and pydicom-data). Sources dciodvfy cannot read to the end
have no baseline and are counted apart; a source with blank SOP UIDs is compared in its
repaired form (see ``baseline_errors``). Needs dicom3tools (scripts/setup.sh installs it).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="DICOM files or folders (default: pydicom's test files)")
    parser.add_argument("--all-options", action="store_true", help="apply all four Table E.1-1 options")
    args = parser.parse_args()

    from pydicom.data import get_testdata_files

    from medstation.imaging.deid.export import DeidRequest, export_deidentified
    from medstation.imaging.deid.profile import DeidOption, basic_profile
    from medstation.imaging.dicom_validate import baseline_errors, dciodvfy_errors, new_errors
    from medstation.imaging.indexer import collect_files
    from medstation.jobs import JobContext
    from medstation.store.database import Database

    files = [str(f) for f in collect_files(args.paths)[0]] if args.paths else sorted(set(get_testdata_files("*.dcm")))
    options = frozenset(DeidOption) if args.all_options else frozenset()
    exact, masked = basic_profile()
    tmp = Path(tempfile.mkdtemp(prefix="deid-validate-"))
    db = Database(tmp / "map.sqlite")
    tally, refused, no_baseline, new_by_file = Counter(), Counter(), 0, {}
    for source in files:
        report = export_deidentified(JobContext(), db, [source], tmp / "out", DeidRequest(options=options, confirm_burned_in=True))
        if not report.files:
            refused[report.refused[0][1].split(" (")[0].split(":")[0]] += 1
            continue
        before = baseline_errors(source, tmp)
        if before is None:
            no_baseline += 1
            continue
        after = dciodvfy_errors(report.files[0])
        tally["files"] += 1
        tally["before"] += len(before)
        tally["after"] += len(after)
        extra = new_errors(before, after)
        if extra:
            new_by_file[source] = extra
    db.close()
    print(f"Table E.1-1 entries applied: {len(exact)} attributes + {len(masked)} repeating groups")
    print(f"options: {', '.join(sorted(o.value for o in options)) or 'none (basic profile)'}")
    print(f"sources: {len(files)}; validated: {tally['files']}; no dciodvfy baseline (source unreadable to the end): "
          f"{no_baseline}; refused: {sum(refused.values())} {dict(refused)}")
    print(f"dciodvfy errors: before {tally['before']}, after {tally['after']}; files with new errors: {len(new_by_file)}")
    for source, extra in new_by_file.items():
        print(f"  {source}:")
        for line in extra[:5]:
            print(f"    {line}")
    return 1 if new_by_file else 0


if __name__ == "__main__":
    raise SystemExit(main())
