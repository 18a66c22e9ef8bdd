"""Where a PACS is and who we are to it, plus what a query returns.

A node is either a DICOMweb base URL (``http://host:8042/dicom-web``) or a DIMSE peer
(AE title, host, port). For DIMSE it also names *our* side: the AE title we call with and
the port of our own C-STORE listener, which a C-MOVE asks the PACS to connect back to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medstation.errors import UserFacingError

DEFAULT_LOCAL_AE = "MEDSTATION"
DEFAULT_LISTENER_PORT = 11112
_AE_RE = re.compile(r"^[ -~]{1,16}$")  # PS3.5: up to 16 printable ASCII characters, no backslash


class PacsError(UserFacingError):
    """A PACS operation failed; the message says why in plain words. ``status`` = DIMSE/HTTP code or None."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GetRefused(PacsError):
    """The PACS does not do C-GET (for us): a retrieve may fall back to C-MOVE."""


@dataclass(frozen=True)
class PacsNode:
    """A PACS: ``dicomweb_url`` for DICOMweb, else ``ae_title``/``host``/``port`` for DIMSE.

    ``local_ae_title`` and ``listener_port`` are this workstation's side; ``listener_host`` is the
    address the PACS must use to reach our listener (shown in messages; the PACS's own table decides).
    ``timeout_s``: seconds to wait for a connection, a response or the next instance.
    """

    dicomweb_url: str = ""
    ae_title: str = ""
    host: str = ""
    port: int = 0
    local_ae_title: str = DEFAULT_LOCAL_AE
    listener_port: int = DEFAULT_LISTENER_PORT
    listener_host: str = "127.0.0.1"
    timeout_s: float = 30.0

    @property
    def is_dicomweb(self) -> bool:
        return bool(self.dicomweb_url)

    def describe(self) -> str:
        return self.dicomweb_url if self.is_dicomweb else f"{self.ae_title}@{self.host}:{self.port}"

    @classmethod
    def from_options(cls, *, dicomweb: str | None = None, dimse: str | None = None, **local) -> "PacsNode":
        """Build from the command line's ``--dicomweb URL`` or ``--dimse AET@HOST:PORT`` (exactly one)."""
        if bool(dicomweb) == bool(dimse):
            raise PacsError("give exactly one of --dicomweb URL or --dimse AET@HOST:PORT")
        local = {k: v for k, v in local.items() if v is not None}
        if dicomweb:
            if not re.match(r"^https?://[^/\s]+", dicomweb):
                raise PacsError(f"--dicomweb needs an http(s) URL such as http://pacs:8042/dicom-web, not {dicomweb!r}")
            return cls(dicomweb_url=dicomweb.rstrip("/"), **local)
        ae, host, port = parse_dimse(dimse)
        return cls(ae_title=ae, host=host, port=port, **local)

    def __post_init__(self) -> None:
        for name in ("ae_title", "local_ae_title"):
            value = getattr(self, name)
            if value and (not _AE_RE.match(value) or "\\" in value):
                raise PacsError(f"{value!r} is not a valid AE title (1-16 printable ASCII characters, no backslash)")


def parse_dimse(text: str) -> tuple[str, str, int]:
    """``"ORTHANC@10.0.0.5:4242"`` -> ``("ORTHANC", "10.0.0.5", 4242)``; a clear error otherwise."""
    match = re.match(r"^([^@]{1,16})@([^:@\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$", text or "")
    if not match or not 0 < int(match.group(3)) < 65536:
        raise PacsError(f"--dimse wants AET@HOST:PORT (for example ORTHANC@127.0.0.1:4242), not {text!r}")
    return match.group(1), match.group(2).strip("[]"), int(match.group(3))


@dataclass(frozen=True)
class StudyHit:
    """One study a PACS answered with. ``n_instances`` None when the PACS did not say."""

    study_uid: str
    patient_id: str = ""
    patient_name: str = ""
    date: str = ""  # YYYYMMDD
    description: str = ""
    accession: str = ""
    modalities: tuple[str, ...] = ()
    n_series: int | None = None
    n_instances: int | None = None

    def as_json(self) -> dict:
        return {"StudyInstanceUID": self.study_uid, "PatientID": self.patient_id, "PatientName": self.patient_name,
                "StudyDate": self.date, "StudyDescription": self.description, "AccessionNumber": self.accession,
                "ModalitiesInStudy": list(self.modalities), "NumberOfStudyRelatedSeries": self.n_series,
                "NumberOfStudyRelatedInstances": self.n_instances}

    def line(self) -> str:
        return (f"{self.study_uid}  {self.patient_id or '-'}  {self.patient_name or '-'}  {self.date or '-'}  "
                f"{'/'.join(self.modalities) or '-'}  {self.n_instances if self.n_instances is not None else '?'} images"
                f"  {self.description}").rstrip()


@dataclass(frozen=True)
class SeriesHit:
    """One series of a study; ``n_instances`` is what completeness is checked against."""

    study_uid: str
    series_uid: str
    modality: str = ""
    description: str = ""
    n_instances: int | None = None


@dataclass(frozen=True)
class StudyQuery:
    """Search keys; empty means any. ``date_from``/``date_to`` are YYYYMMDD (inclusive)."""

    patient_id: str = ""
    patient_name: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    accession: str = ""
    study_uid: str = ""
    limit: int = 200

    def date_range(self) -> str:
        if not (self.date_from or self.date_to):
            return ""
        for value in (self.date_from, self.date_to):
            if value and not re.match(r"^\d{8}$", value):
                raise PacsError(f"dates are YYYYMMDD, not {value!r}")
        return f"{self.date_from}-{self.date_to}" if self.date_from != self.date_to else self.date_from
