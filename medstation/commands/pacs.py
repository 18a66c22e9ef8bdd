"""``medstation pacs echo|query|retrieve|send|listen``: a PACS over DICOMweb or DIMSE, headless.

The node is ``--dicomweb URL`` or ``--dimse AET@HOST:PORT``; for DIMSE, ``--local-ae`` is the AE title
we call with and ``--listener-port`` the port of our C-STORE listener that a C-MOVE sends to.
Every failure is one plain sentence on stderr (exit 2); see ``medstation.imaging.pacs.messages``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time


def _node_options(p: argparse.ArgumentParser) -> None:
    # Exactly one is needed; PacsNode.from_options says so (argparse's required group would also do, but the
    # sign-in test's parser walk fills only plain required options).
    which = p.add_mutually_exclusive_group()
    which.add_argument("--dicomweb", metavar="URL", help="DICOMweb base URL, e.g. http://pacs:8042/dicom-web")
    which.add_argument("--dimse", metavar="AET@HOST:PORT", help="DIMSE peer, e.g. ORTHANC@10.0.0.5:4242")
    p.add_argument("--local-ae", metavar="AET", help="our AE title (default MEDSTATION)")
    p.add_argument("--listener-port", type=int, metavar="P",
                   help="our C-STORE listener's port for C-MOVE (default 11112)")
    p.add_argument("--listener-host", metavar="HOST",
                   help="the address the PACS has for us, named in messages (default 127.0.0.1)")
    p.add_argument("--timeout", type=float, metavar="S", help="seconds to wait for an answer (default 30)")


def add_parser(sub) -> None:
    p = sub.add_parser("pacs", help="echo, query, retrieve from and send to a PACS (DICOMweb or DIMSE); listen")
    pacs_sub = p.add_subparsers(dest="pacs_command", required=True)

    e = pacs_sub.add_parser("echo", help="C-ECHO (DIMSE) or a QIDO-RS probe (DICOMweb)")
    _node_options(e)
    e.add_argument("--move-test", action="store_true",
                   help="DIMSE: also move one instance to our listener (tests the PACS's entry for us)")
    e.set_defaults(func=run_echo)

    q = pacs_sub.add_parser("query", help="search studies: one per line, or JSON")
    _node_options(q)
    for flag, helptext in (("--patient-id", "patient ID"), ("--patient-name", "patient name (wildcards * ?)"),
                           ("--modality", "modality in study, e.g. CT"), ("--accession", "accession number"),
                           ("--date-from", "study date from, YYYYMMDD"), ("--date-to", "study date to, YYYYMMDD")):
        q.add_argument(flag, default="", help=helptext)
    q.add_argument("--limit", type=int, default=200, help="at most this many studies (default 200)")
    q.add_argument("--json", action="store_true", help="print a JSON array of studies")
    q.set_defaults(func=run_query)

    r = pacs_sub.add_parser("retrieve", help="fetch a study into the local store and index it")
    _node_options(r)
    r.add_argument("--study", required=True, metavar="UID", help="StudyInstanceUID")
    r.add_argument("--method", choices=("auto", "wado", "get", "move"), default="auto",
                   help="auto: WADO-RS for DICOMweb; C-GET, else C-MOVE for DIMSE")
    r.add_argument("--bind", default="0.0.0.0", metavar="HOST", help="where our C-MOVE listener binds (default all)")
    r.set_defaults(func=run_retrieve)

    s = pacs_sub.add_parser("send", help="send DICOM files (e.g. DICOM-SEG) to the PACS (audited)")
    _node_options(s)
    s.add_argument("files", nargs="+", help="DICOM files")
    s.set_defaults(func=run_send)

    li = pacs_sub.add_parser("listen", help="receive studies pushed to us (C-STORE SCP) and index them")
    li.add_argument("--port", type=int, default=11112, help="port to listen on (default 11112)")
    li.add_argument("--ae-title", default="MEDSTATION", help="our AE title (default MEDSTATION)")
    li.add_argument("--bind", default="0.0.0.0", metavar="HOST", help="address to bind (default all)")
    li.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (default: Ctrl+C)")
    li.set_defaults(func=run_listen)


def _node(args):
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.imaging.pacs.node import PacsNode

    return PacsNode.from_options(dicomweb=args.dicomweb, dimse=args.dimse, local_ae_title=args.local_ae,
                                 listener_port=args.listener_port, listener_host=args.listener_host,
                                 timeout_s=args.timeout)


def _with_service(fn):
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.app import build_services
    from medstation.imaging.pacs.service import PacsService

    services = build_services()
    try:
        return fn(PacsService(services.settings, services.db, services.session))
    finally:
        services.close()


def run_echo(args) -> int:
    node = _node(args)
    for line in _with_service(lambda svc: svc.test_connection(node, loopback_move=args.move_test)):
        print(line)
    return 0


def run_query(args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.imaging.pacs.node import StudyQuery

    node = _node(args)
    query = StudyQuery(patient_id=args.patient_id, patient_name=args.patient_name, modality=args.modality,
                       accession=args.accession, date_from=args.date_from, date_to=args.date_to, limit=args.limit)
    hits = _with_service(lambda svc: svc.query(node, query))
    if args.json:
        print(json.dumps([h.as_json() for h in hits], indent=1))
    else:
        for hit in hits:
            print(hit.line())
        if not hits:
            print("no studies match")
    return 0


def run_retrieve(args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import print_progress_context

    node = _node(args)
    report = _with_service(lambda svc: svc.retrieve_job(print_progress_context(), node, args.study,
                                                        method=args.method, listener_host=args.bind))
    print(report.summary())
    for folder in report.folders:
        print(f"  {folder}")
    return 0


def run_send(args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import JobContext

    node = _node(args)
    report = _with_service(lambda svc: svc.send_job(JobContext(), node, args.files))
    print(report.summary(node))
    return 0


def run_listen(args) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import JobContext, print_progress_context

    ctx: JobContext = print_progress_context()
    outcome: dict = {}

    def _work(svc):
        def _serve():
            try:
                outcome["received"] = svc.listen_job(ctx, ae_title=args.ae_title, port=args.port, host=args.bind)
            except BaseException as exc:  # re-raised on the main thread: a busy port is a user error
                outcome["error"] = exc

        worker = threading.Thread(target=_serve, name="pacs-listen", daemon=True)
        worker.start()
        deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
        try:
            while worker.is_alive() and (deadline is None or time.monotonic() < deadline):
                worker.join(0.2)
        except KeyboardInterrupt:
            pass
        ctx.cancel()
        worker.join(60)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("received", 0)

    print(f"received {_with_service(_work)} instances")
    return 0
