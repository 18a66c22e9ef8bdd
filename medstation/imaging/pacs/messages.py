"""Every PACS failure as a plain sentence: what happened, the status code, and what to change.

These are the failures radiologists meet again and again with Weasis, Horos, Slicer and
pynetdicom: the PACS does not know our move destination (0xA801), it cannot connect back to
our listener (0xC502, or a move that times out), it does not do C-GET, the association is
refused, the peer is silent or vanishes mid-transfer. Each function returns a :class:`PacsError`
for the caller to raise.
"""

from __future__ import annotations

from medstation.imaging.pacs.node import GetRefused, PacsError, PacsNode

# PS3.7 Annex C / PS3.4 C.4: the codes a retrieve or find may end with.
_KNOWN = {
    0xA701: "the PACS is out of resources (cannot compute the number of matches)",
    0xA702: "the PACS is out of resources (cannot perform sub-operations)",
    0xA900: "the request did not match the SOP class (identifier does not match)",
    0xAA00: "none of the frames requested were found",
    0xC000: "the PACS could not process the request",
    0xFE00: "the operation was cancelled",
    0x0122: "the PACS does not support this query/retrieve model (SOP class not supported)",
    0x0124: "the PACS refused the request (not authorised)",
    0xB000: "some instances could not be sent (sub-operations completed with failures)",
}


def hexcode(status: int) -> str:
    return f"0x{status:04X}"


def unknown_move_destination(node: PacsNode) -> PacsError:
    return PacsError(
        f"the PACS {node.ae_title} does not know the move destination {node.local_ae_title!r} (status 0xA801): "
        f"add this workstation's AE title {node.local_ae_title}, host {node.listener_host} and port "
        f"{node.listener_port} to the PACS's list of DICOM nodes (modalities)", status=0xA801)


def listener_unreachable(node: PacsNode, status: int | None = None) -> PacsError:
    why = f"status {hexcode(status)}" if status is not None else f"no instance arrived within {node.timeout_s:g} s"
    return PacsError(
        f"the PACS cannot reach our listener on {node.listener_host}:{node.listener_port} ({why}): make sure the "
        f"PACS's entry for {node.local_ae_title} names an address of this workstation that it can reach (not "
        f"127.0.0.1 unless the PACS runs here) and that no firewall blocks port {node.listener_port}",
        status=status)


def move_failed_nothing_sent(node: PacsNode, status: int) -> PacsError:
    """A move that failed before sending anything, with a status that does not say why (Orthanc: 0xC000)."""
    return PacsError(
        f"the PACS could not send anything to our move destination {node.local_ae_title} (status "
        f"{hexcode(status)}). Either it does not know that destination: add this workstation's AE title "
        f"{node.local_ae_title}, host {node.listener_host} and port {node.listener_port} to the PACS (what 0xA801 "
        f"means); or the PACS cannot reach our listener on {node.listener_host}:{node.listener_port} (what 0xC502 "
        f"means): check the address it has for us and the firewall", status=status)


def get_refused(node: PacsNode, detail: str, status: int | None = None) -> GetRefused:
    return GetRefused(f"the PACS {node.describe()} refused C-GET ({detail}): use C-MOVE instead "
                     f"(--method move; the PACS must know {node.local_ae_title} as a DICOM node)", status=status)


def association_rejected(node: PacsNode, result: str = "", source: str = "", reason: str = "") -> PacsError:
    why = ", ".join(p for p in (result, source, reason) if p) or "no reason given"
    return PacsError(
        f"the PACS at {node.host}:{node.port} rejected the association ({why}): check that its AE title is "
        f"{node.ae_title!r} and that it accepts calls from our AE title {node.local_ae_title!r}")


def no_answer(node: PacsNode) -> PacsError:
    return PacsError(
        f"no DICOM answer from {node.describe()} within {node.timeout_s:g} s: check the host and port, that the PACS "
        f"is running, and that no firewall blocks the port")


def peer_vanished(node: PacsNode, what: str, got: int, expected: int | None) -> PacsError:
    of = f" of {expected}" if expected is not None else ""
    return PacsError(
        f"the connection to {node.describe()} broke during {what} after {got}{of} instances: nothing of that "
        f"series was imported; run the retrieve again to resume")


def query_dropped(node: PacsNode, what: str) -> PacsError:
    return PacsError(
        f"the PACS {node.describe()} closed the association during {what} without an answer: it may not allow "
        f"queries from our AE title {node.local_ae_title!r} (add it to the PACS's DICOM nodes), or it failed")


def incomplete(node: PacsNode, series_uid: str, got: int, expected: int) -> PacsError:
    return PacsError(
        f"series {series_uid} is incomplete: the PACS announced {expected} instances but sent {got}; it stays "
        f"hidden (staged, not imported); run the retrieve again to fetch the rest")


def failed_status(node: PacsNode, operation: str, status: int, comment: str = "") -> PacsError:
    what = _KNOWN.get(status, "the PACS reported a failure")
    extra = f"; the PACS says: {comment}" if comment else ""
    return PacsError(f"{operation} on {node.describe()} failed with status {hexcode(status)}: {what}{extra}",
                     status=status)


def http_failure(node: PacsNode, operation: str, status: int, body: str = "") -> PacsError:
    hint = {401: "the server wants a user name and password", 403: "the server refused access",
            404: "nothing at that URL: check the DICOMweb base URL (often ends in /dicom-web)",
            400: "the server did not understand the request", 409: "the server refused the data (conflict)",
            413: "the upload is too large for the server", 415: "the server does not accept that media type",
            500: "the server failed", 503: "the server is not available"}.get(status, "the server refused the request")
    body = " ".join(body.split())[:200]
    return PacsError(f"{operation} on {node.describe()} failed with HTTP {status}: {hint}"
                     + (f" ({body})" if body else ""), status=status)


def http_unreachable(node: PacsNode, exc: BaseException) -> PacsError:
    return PacsError(f"cannot reach {node.describe()} ({type(exc).__name__}): check the URL, that the server runs "
                     f"and that no firewall blocks it; waited up to {node.timeout_s:g} s")


def malformed(node: PacsNode, operation: str, detail: str) -> PacsError:
    return PacsError(f"{operation} on {node.describe()} returned a malformed response ({detail}); "
                     f"nothing was imported from it")
