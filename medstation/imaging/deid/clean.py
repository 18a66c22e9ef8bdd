"""Values the de-identifier writes: dummies by VR, per-patient date shifts, cleaned free text.

* :func:`dummy_value` — Table E.1-1's ``D``: non-empty, valid for the VR, identifying nobody.
* :func:`shift_date_value` — Retain Longitudinal Temporal Information (Modified Dates): DA and DT
  values move by the patient's whole-day shift; times of day stay (a DT keeps its time and offset).
* :func:`scrub` — ``C`` (clean): free text keeps its words except the identifying values of the
  same dataset (names, IDs, institution, station, dates) which become ``***``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

DUMMY_DATE, DUMMY_TIME, DUMMY_DATETIME = "19000101", "000000", "19000101000000"
DUMMY_TEXT = "ANONYMIZED"
_NUMERIC = {"DS": "0", "IS": "0", "FL": 0.0, "FD": 0.0, "SS": 0, "US": 0, "SL": 0, "UL": 0, "SV": 0, "UV": 0}
_TEXT_VRS = ("LO", "SH", "LT", "ST", "UT", "UC", "PN", "CS")
# Keywords whose values identify the patient, encounter or place; their tokens are scrubbed from free text.
_IDENTIFYING = (
    "PatientName PatientID OtherPatientIDs OtherPatientNames PatientBirthName PatientMotherBirthName PatientAddress "
    "AccessionNumber StudyID InstitutionName InstitutionAddress InstitutionalDepartmentName StationName "
    "ReferringPhysicianName PerformingPhysicianName OperatorsName PhysiciansOfRecord NameOfPhysiciansReadingStudy "
    "RequestingPhysician PatientBirthDate StudyDate SeriesDate AcquisitionDate ContentDate DeviceSerialNumber "
    "AdmissionID ServiceEpisodeID MedicalRecordLocator RegionOfResidence CountryOfResidence PatientTelephoneNumbers"
).split()


def dummy_value(vr: str):
    """A dummy value for ``vr`` (Table E.1-1 action D). UI dummies are made by the caller (pseudonym map)."""
    if vr == "DA":
        return DUMMY_DATE
    if vr == "TM":
        return DUMMY_TIME
    if vr == "DT":
        return DUMMY_DATETIME
    if vr == "AS":
        return "000Y"
    if vr == "AE":
        return "ANON"
    if vr in _NUMERIC:
        return _NUMERIC[vr]
    if vr in _TEXT_VRS:
        return DUMMY_TEXT
    if vr == "UR":
        return "urn:none"
    if vr in ("OB", "OW", "OD", "OF", "OL", "OV", "UN"):
        return b"\x00\x00"
    return DUMMY_TEXT


def _shift_da(text: str, days: int) -> str | None:
    text = text.strip()
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return (day + timedelta(days=days)).strftime("%Y%m%d")


def _shift_dt(text: str, days: int) -> str | None:
    text = text.strip()
    shifted = _shift_da(text[:8], days) if len(text) >= 8 else None
    return None if shifted is None else shifted + text[8:]


def shift_date_value(vr: str, value, days: int):
    """``value`` (DA or DT, single or multi-valued) moved by ``days``; None when any part is not a date."""
    shift = _shift_da if vr == "DA" else _shift_dt
    values = [value] if isinstance(value, str) else list(value)
    out = [shift(str(v), days) for v in values if str(v).strip()]
    if any(v is None for v in out):
        return None
    return out[0] if isinstance(value, str) and out else out


def identifying_tokens(ds) -> list[str]:
    """Identifying words of ``ds`` (top level), longest first; names split at ``^`` and spaces."""
    tokens: set[str] = set()
    for keyword in _IDENTIFYING:
        elem = ds.get(keyword)
        if elem is None or elem == "":
            continue
        values = elem if isinstance(elem, (list, tuple)) or type(elem).__name__ == "MultiValue" else [elem]
        for value in values:
            text = str(value)
            tokens.add(text.strip())
            tokens.update(re.split(r"[\^=\s,]+", text))
    return sorted((t for t in tokens if len(t) >= 3), key=len, reverse=True)


def scrub(text: str, tokens: list[str]) -> str:
    """``text`` with every token (case-insensitive) replaced by ``***``; never longer than ``text``."""
    for token in tokens:
        text = re.sub(re.escape(token), "***", text, flags=re.IGNORECASE)
    return text
