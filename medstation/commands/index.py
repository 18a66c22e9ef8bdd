"""``medstation index PATH...``: index DICOM folders/files and print patients, studies and series."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("index", help="index DICOM folders or files (headers only) and list what was found")
    p.add_argument("paths", nargs="+", help="folders (searched recursively) or files")
    p.add_argument("--problems", action="store_true", help="also list every skipped file and why")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.app import build_services
    from medstation.jobs import print_progress_context

    services = build_services()
    try:
        imaging = services.imaging
        report = imaging.index_job(print_progress_context(), args.paths)
        print(report.summary())
        if args.problems:
            for path, reason in report.problems:
                print(f"  skipped {path}: {reason}")
        elif report.problems:
            print(f"  ({len(report.problems)} files skipped; --problems lists them)")
        wanted = set(report.series_uids)
        for patient in imaging.patients():
            studies = [st for st in patient.studies if any(se.series_uid in wanted for se in st.series)]
            if not studies:
                continue
            print(f"Patient {patient.display_name} [{patient.patient_id or 'no ID'}] {patient.sex} {patient.birth_date}".rstrip())
            for study in studies:
                print(f"  Study {study.date or '(no date)'} {study.description or '(no description)'} [{study.modalities}]")
                for series in study.series:
                    if series.series_uid in wanted:
                        size = f"{series.rows}x{series.columns}" if series.rows else ""
                        print(
                            f"    Series {series.series_number if series.series_number is not None else '-'} "
                            f"{series.modality} {series.description or '(no description)'}: "
                            f"{series.n_instances} images {size}".rstrip()
                        )
        return 0 if report.scanned else 2  # nothing readable there: the user picked the wrong place
    finally:
        services.close()
