"""``medstation deid PATH... --out DIR``: de-identified copies (PS3.15 Basic Profile + options), with a report.

Exit status: 0 when every file was written, 1 when any was refused (the report says why),
2 for a usage error. Outputs are named from pseudonymous UIDs only. The pseudonym map
stays in this installation's database, so later exports of the same study line up.
"""

from __future__ import annotations

import argparse
import json

OPTION_CHOICES = ("retain-dates", "retain-patient-characteristics", "clean-descriptors", "retain-device-id")


def add_parser(sub) -> None:
    p = sub.add_parser("deid", help="write de-identified copies of DICOM files (PS3.15 Table E.1-1) and report")
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files or folders (searched recursively)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the copies (OUT/<series UID>/<SOP UID>.dcm)")
    p.add_argument("--option", action="append", default=[], choices=OPTION_CHOICES,
                   help="a Table E.1-1 option to apply (repeatable): retain-dates shifts dates per patient; "
                        "retain-patient-characteristics keeps age/sex/size/weight; clean-descriptors keeps "
                        "descriptions with identifying words removed; retain-device-id keeps device identity")
    p.add_argument("--confirm-burned-in", action="store_true",
                   help="export images that may carry burned-in text (US, SC, XA...) after you have checked them")
    p.add_argument("--mask", action="append", default=[], metavar="X,Y,W,H",
                   help="blank this pixel rectangle in every image flagged for burned-in text (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.access.roles import Permission
    from medstation.app import build_services
    from medstation.imaging.deid.export import DeidRequest, export_deidentified
    from medstation.imaging.deid.pixels import MaskRect
    from medstation.imaging.deid.profile import DeidOption
    from medstation.imaging.indexer import collect_files
    from medstation.imaging.service import audit_deid_export
    from medstation.jobs import JobContext

    try:
        masks = tuple(MaskRect.parse(m) for m in args.mask)
    except ValueError as exc:
        print(f"medstation deid: {exc}")
        return 2
    files, _ = collect_files(args.paths)
    if not files:
        print("medstation deid: no files found in the given paths")
        return 2
    request = DeidRequest(options=frozenset(DeidOption(o) for o in args.option),
                          confirm_burned_in=args.confirm_burned_in, masks=masks)
    services = build_services()
    try:
        actor = services.session.require(Permission.export_imaging)
        report = export_deidentified(JobContext(), services.db, files, args.out, request)
        audit_deid_export(services.db, report, actor=actor.name, entity="files", entity_id=str(args.out))
    finally:
        services.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_text(report)
    return 1 if report.refused else 0


def _print_text(report) -> None:
    print(f"Written: {len(report.files)} file(s) to {report.out_dir}")
    if report.options:
        print(f"Options: {', '.join(report.options)}")
    for decision in report.burned_in:
        print(f"  burned-in {decision.decision}: {decision.source} ({decision.reason})")
    print(f"Refused: {len(report.refused)}")
    for path, reason in report.refused:
        print(f"  {path}: {reason}")
    print(f"Attributes changed ({sum(n for _, n in report.changed)} elements):")
    for keyword, count in report.changed:
        print(f"  {keyword}: {count}")
