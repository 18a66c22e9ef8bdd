"""PS3.15 Annex E, Table E.1-1, as data: which action applies to which attribute, per option.

Source of the table: the Basic Profile column is read from ``dicom-anonymizer``
2.1.0 (module ``dicomfields_2026c``: 655 attributes and masked groups, the 2026c
edition of the standard, maintained and regenerated from the standard's own
XML by that project). We chose it over the alternatives after reading their
installed source: ``deid`` 0.4.13 ships a heuristic recipe (``REMOVE
endswith:ID`` and similar, about 90 rules) rather than the table, and
``dicognito`` 0.19.0 randomises a hand-picked set of about 60 attributes. Neither
can be checked against the standard attribute by attribute; the 2026c encoding can.

The table's option columns are not encoded by any of these packages. The four
options clinics ask for are encoded here, from the same edition, as keyword sets:
an attribute an option retains gets ``K`` (keep) or ``C`` (clean: see
:func:`medstation.imaging.deid.clean.scrub`), and the dates and times the
Retain Longitudinal Temporal Information option modifies are shifted per patient.

Actions: ``X`` remove, ``Z`` zero length, ``D`` dummy value, ``U`` replace UID
(consistently, through the pseudonym map), ``K`` keep, ``C`` clean, and the
combinations ``Z/D``, ``X/Z``, ``X/D``, ``X/Z/D``, ``X/Z/U*`` whose second or third
choice applies only where the IOD requires it (Type 2 → zero length, Type 1 → dummy);
see :mod:`medstation.imaging.deid.attribute_types`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache


class DeidOption(str, enum.Enum):
    """Options of Table E.1-1 offered as settings; values are the CLI spellings."""

    retain_dates = "retain-dates"  # Retain Longitudinal Temporal Information, Modified Dates (per-patient shift)
    retain_patient_characteristics = "retain-patient-characteristics"
    clean_descriptors = "clean-descriptors"
    retain_device_id = "retain-device-id"


@dataclass(frozen=True)
class OptionCode:
    """One item of DeidentificationMethodCodeSequence (CID 7050, scheme DCM) and a short label for LO 64."""

    value: str
    meaning: str
    short: str


BASIC_PROFILE_CODE = OptionCode("113100", "Basic Application Confidentiality Profile", "PS3.15 E.1-1 Basic")
CLEAN_PIXEL_DATA_CODE = OptionCode("113101", "Clean Pixel Data Option", "CleanPix")
OPTION_CODES: dict[DeidOption, OptionCode] = {
    DeidOption.retain_dates: OptionCode(
        "113107", "Retain Longitudinal Temporal Information Modified Dates Option", "ModDates"
    ),
    DeidOption.retain_patient_characteristics: OptionCode("113108", "Retain Patient Characteristics Option", "PatChar"),
    DeidOption.clean_descriptors: OptionCode("113105", "Clean Descriptors Option", "CleanDesc"),
    DeidOption.retain_device_id: OptionCode("113109", "Retain Device Identity Option", "DevId"),
}

_CATEGORY_ACTIONS = {
    "D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*",
}

# Retain Patient Characteristics column: K for these...
PATIENT_CHARACTERISTICS_KEEP = frozenset(
    """PatientAge PatientSex PatientSize PatientWeight EthnicGroup EthnicGroupCodeSequence SmokingStatus
    PregnancyStatus PatientSexNeutered MeasuredAPDimension MeasuredLateralDimension PatientSizeCodeSequence
    PatientBodyMassIndex""".split()
)
# ...and C (clean) for these free-text characteristics.
PATIENT_CHARACTERISTICS_CLEAN = frozenset(
    "AdditionalPatientHistory Allergies MedicalAlerts PatientState PreMedication SpecialNeeds".split()
)

# Retain Device Identity column: K.
DEVICE_IDENTITY_KEEP = frozenset(
    """CassetteID DetectorID DeviceSerialNumber DeviceUID DeviceLabel DeviceDescription DeviceAlternateIdentifier
    GantryID GeneratorID PlateID SourceSerialNumber StationName StationAETitle TreatmentMachineName
    PerformedStationAETitle PerformedStationName PerformedStationNameCodeSequence
    PerformedStationGeographicLocationCodeSequence ScheduledStationAETitle ScheduledStationName
    ScheduledStationNameCodeSequence ScheduledStationGeographicLocationCodeSequence ModifyingDeviceID
    ModifyingDeviceManufacturer ManufacturerDeviceClassUID XRayDetectorID XRayDetectorLabel
    TransducerIdentificationSequence""".split()
)

# Clean Descriptors column: C.
DESCRIPTORS_CLEAN = frozenset(
    """StudyDescription SeriesDescription ProtocolName ImageComments AcquisitionComments
    AcquisitionDeviceProcessingDescription AdmittingDiagnosesDescription CommentsOnThePerformedProcedureStep
    ContrastBolusAgent DerivationDescription DischargeDiagnosisDescription FrameComments ImagePresentationComments
    ImagingServiceRequestComments Impressions InterpretationDiagnosisDescription InterpretationText
    ModifiedImageDescription PatientComments PerformedProcedureStepDescription ReasonForStudy ReasonForVisit
    RequestedProcedureComments RequestedProcedureDescription ResultsComments ScheduledProcedureStepDescription
    ServiceEpisodeDescription StudyComments VisitComments RTPlanDescription RTPlanName RTPlanLabel
    DoseReferenceDescription BeamDescription ContributionDescription TextComments LabelText
    ReasonForRequestedProcedure ClinicalTrialTimePointDescription ClinicalTrialSeriesDescription
    ClinicalTrialProtocolName""".split()
)

# Never shifted by Retain Longitudinal Temporal Information: the table keeps Z/X for birth date and time.
NOT_SHIFTED = frozenset({"PatientBirthDate", "PatientBirthTime"})


@lru_cache(1)
def basic_profile() -> tuple[dict[int, str], tuple[tuple[int, int, int, int, str], ...]]:
    """(tag → action, masked entries (group, element, group mask, element mask, action)) of the Basic Profile.

    Masked entries are the repeating groups (curves 50xx, overlays 60xx)."""
    from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as table

    exact: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for category, action in _CATEGORY_ACTIONS.items():
        for entry in getattr(table, category):
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                masked.append((entry[0], entry[1], entry[2], entry[3], action))
    return exact, tuple(masked)


def table_action(tag: int) -> str | None:
    """Basic Profile action of ``tag`` (an int ``0xGGGGEEEE``), or None when Table E.1-1 does not list it."""
    exact, masked = basic_profile()
    if tag in exact:
        return exact[tag]
    group, element = tag >> 16, tag & 0xFFFF
    for g, e, gmask, emask, action in masked:
        if group & gmask == g and element & emask == e:
            return action
    return None


def option_action(keyword: str, options: frozenset[DeidOption]) -> str | None:
    """``K`` or ``C`` when one of ``options`` retains ``keyword``; None when the Basic Profile action stands."""
    if DeidOption.retain_patient_characteristics in options:
        if keyword in PATIENT_CHARACTERISTICS_KEEP:
            return "K"
        if keyword in PATIENT_CHARACTERISTICS_CLEAN:
            return "C"
    if DeidOption.retain_device_id in options and keyword in DEVICE_IDENTITY_KEEP:
        return "K"
    if DeidOption.clean_descriptors in options and keyword in DESCRIPTORS_CLEAN:
        return "C"
    return None


def method_text(options: frozenset[DeidOption], *, pixels_cleaned: bool = False) -> str:
    """DeidentificationMethod (LO, at most 64 characters), e.g. ``PS3.15 E.1-1 Basic+ModDates+DevId``."""
    parts = [BASIC_PROFILE_CODE.short] + [OPTION_CODES[o].short for o in DeidOption if o in options]
    if pixels_cleaned:
        parts.append(CLEAN_PIXEL_DATA_CODE.short)
    text = "+".join(parts)
    assert len(text) <= 64, text  # all four options and pixel cleaning: 60 characters
    return text


def method_codes(options: frozenset[DeidOption], *, pixels_cleaned: bool = False) -> list[OptionCode]:
    """The CID 7050 codes for DeidentificationMethodCodeSequence, profile first."""
    codes = [BASIC_PROFILE_CODE] + [OPTION_CODES[o] for o in DeidOption if o in options]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    return codes
