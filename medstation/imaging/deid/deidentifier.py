"""De-identification to PS3.15 Annex E (Basic Application Level Confidentiality Profile + options).

One pass over a dataset, every sequence item included (:class:`Deidentifier`):

1. private elements and the repeating groups of curves (50xx) and overlays (60xx) go whole;
2. an option that retains the attribute gives ``K`` or ``C`` (:mod:`.profile`);
3. otherwise Table E.1-1's action for the tag; for attributes the table does not list,
   a defence-in-depth rule: non-standard UIDs ``U``, person names and dates ``X/Z/D``;
4. combined actions collapse by the IOD's Type for that attribute (:mod:`.attribute_types`);
5. with Retain Longitudinal Temporal Information, dates move by the patient's stored shift.

Inside a sequence whose action is ``D`` (Content Sequence, Graphic Annotation Sequence...)
all free text (PN, LO, SH, LT, ST, UT, UC) other than coding attributes becomes a dummy:
a structured report keeps its tree and codes but loses its narrative.

UIDs and patient identity come from the persistent :class:`~.pseudonyms.PseudonymMap`,
so exports made at different times of one study stay one study. Burned-in text is
handled in :mod:`.pixels`; :mod:`.export` writes files and the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from medstation.imaging.deid.attribute_types import Requirement, requirement, resolve
from medstation.imaging.deid.clean import dummy_value, identifying_tokens, scrub, shift_date_value
from medstation.imaging.deid.profile import (
    NOT_SHIFTED, DeidOption, method_codes, method_text, option_action, table_action,
)
from medstation.imaging.deid.pseudonyms import PseudonymMap, patient_key
from medstation.imaging.headers import instance_identity

_FREE_TEXT_VRS = frozenset({"PN", "LO", "SH", "LT", "ST", "UT", "UC"})
_CODING_KEYWORDS = frozenset(
    """CodeValue CodingSchemeDesignator CodingSchemeVersion CodeMeaning LongCodeValue URNCodeValue MappingResource
    ContextIdentifier ContextGroupVersion ContextGroupLocalVersion MappingResourceName""".split()
)
# UIDs that name a kind of thing (a class, a syntax, a coding scheme), never an instance: kept even when
# pydicom cannot name them (private SOP classes, private transfer syntaxes).
_CONSTANT_UID_KEYWORDS = frozenset(
    """TransferSyntaxUID CodingSchemeUID ContextUID MappingResourceUID ImplementationClassUID
    PrivateInformationCreatorUID""".split()
)
_STRING_EMPTY = ""
_FILE_META_REMOVE = (
    "SourceApplicationEntityTitle", "SendingApplicationEntityTitle", "ReceivingApplicationEntityTitle",
    "SourcePresentationAddress", "SendingPresentationAddress", "ReceivingPresentationAddress",
    "PrivateInformationCreatorUID", "PrivateInformation",
)


def is_standard_uid(uid: str) -> bool:
    """SOP classes, transfer syntaxes, coding schemes...: public constants that identify nobody."""
    from pydicom.uid import UID

    return UID(str(uid)).name != str(uid)  # UID(x).name is x itself for any UID pydicom cannot name


def _values(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [str(value)]
    return [str(v) for v in value]


@dataclass
class _Walk:
    """State of one dataset's pass: what the rules need and what changed."""

    sop_class: str
    options: frozenset[DeidOption]
    shift_days: int
    tokens: list[str]
    changed: Counter = field(default_factory=Counter)


class Deidentifier:
    """Apply the profile with ``options`` to datasets, mapping identities through ``pseudonyms``."""

    def __init__(self, pseudonyms: PseudonymMap, options: frozenset[DeidOption] = frozenset()) -> None:
        self.pseudonyms = pseudonyms
        self.options = frozenset(options)

    def deidentify(self, ds, *, path: str | Path | None = None, pixels_cleaned: bool = False) -> Counter:
        """De-identify ``ds`` in place, file meta included. Returns keyword → number of elements changed."""
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence

        _fill_blank_identity(ds, path)
        patient = self.pseudonyms.patient(patient_key(ds))
        self.pseudonyms.resolve_uids(
            v for e in ds.iterall() if e.VR == "UI" for v in _values(e.value) if not is_standard_uid(v)
        )
        walk = _Walk(str(ds.get("SOPClassUID", "")), self.options, patient.date_shift_days, identifying_tokens(ds))
        self._clean(ds, (), walk, in_dummy=False)
        ds.PatientName = patient.patient_id
        ds.PatientID = patient.patient_id
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = method_text(self.options, pixels_cleaned=pixels_cleaned)
        items = []
        for code in method_codes(self.options, pixels_cleaned=pixels_cleaned):
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code.value, "DCM", code.meaning
            items.append(item)
        ds.DeidentificationMethodCodeSequence = Sequence(items)
        retain = DeidOption.retain_dates in self.options
        ds.LongitudinalTemporalInformationModified = "MODIFIED" if retain else "REMOVED"
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            if "SOPInstanceUID" in ds:
                meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            for keyword in _FILE_META_REMOVE:
                if keyword in meta:
                    delattr(meta, keyword)
                    walk.changed[keyword] += 1
        return walk.changed

    # -- the pass -----------------------------------------------------------------------------
    def _action(self, elem, walk: _Walk, in_dummy: bool) -> str:
        keyword, vr = elem.keyword, elem.VR
        action = option_action(keyword, walk.options) or table_action(int(elem.tag))
        if action is None:
            if vr == "UI":
                action = "K" if keyword.endswith("ClassUID") or keyword in _CONSTANT_UID_KEYWORDS else "U"
            elif vr in ("PN", "DA", "DT", "TM"):
                action = "X/Z/D"
            elif in_dummy and vr in _FREE_TEXT_VRS and keyword not in _CODING_KEYWORDS:
                action = "D"
            else:
                action = "K"
        if DeidOption.retain_dates in walk.options and action != "K" and keyword not in NOT_SHIFTED:
            if vr in ("DA", "DT"):
                return "SHIFT"
            if vr == "TM":
                return "K"  # whole-day shifts keep the time of day
        return action

    def _clean(self, ds, path: tuple[str, ...], walk: _Walk, *, in_dummy: bool) -> None:
        for elem in list(ds):
            group = elem.tag.group
            if elem.tag.is_private:
                del ds[elem.tag]
                walk.changed["(private)"] += 1
                continue
            if group & 0xFF00 in (0x5000, 0x6000):
                del ds[elem.tag]
                walk.changed["(curve/overlay group)"] += 1
                continue
            keyword = elem.keyword or str(elem.tag)
            action = self._action(elem, walk, in_dummy)
            need = requirement(walk.sop_class, path, keyword) if "/" in action or action == "Z" else Requirement.optional
            self._apply(ds, elem, resolve(action, need) if action != "SHIFT" else action, path, walk, in_dummy)

    def _apply(self, ds, elem, action: str, path, walk: _Walk, in_dummy: bool) -> None:
        keyword, vr = elem.keyword or str(elem.tag), elem.VR
        before = None if vr == "SQ" else elem.value
        if action == "X":
            del ds[elem.tag]
            walk.changed[keyword] += 1
            return
        if vr == "SQ":
            if action == "Z":
                elem.value = []
                walk.changed[keyword] += 1
                return
            for item in elem.value:  # K, C, D, U, U*: keep the tree, clean every item
                self._clean(item, path + (keyword,), walk, in_dummy=in_dummy or action == "D")
            return
        if action == "SHIFT":
            shifted = shift_date_value(vr, elem.value, walk.shift_days) if elem.value not in (None, "") else None
            if shifted is None:  # not a date we can move: as without the option
                need = requirement(walk.sop_class, path, keyword)
                return self._apply(ds, elem, resolve("X/Z/D", need), path, walk, in_dummy)
            elem.value = shifted
        elif action == "Z":
            elem.value = None if vr in ("US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "AT") else (
                b"" if vr.startswith("O") or vr == "UN" else _STRING_EMPTY)
        elif action == "D":
            if vr == "UI":
                self._replace_uids(elem)
            else:
                elem.value = dummy_value(vr)
        elif action in ("U", "U*") and vr == "UI":
            self._replace_uids(elem)
        elif action == "C" and vr in _FREE_TEXT_VRS | {"CS"}:
            values = _values(elem.value)
            cleaned = [scrub(v, walk.tokens) for v in values]
            elem.value = cleaned if elem.VM > 1 else (cleaned[0] if cleaned else elem.value)
        if elem.value != before:
            walk.changed[keyword] += 1

    def _replace_uids(self, elem) -> None:
        from pydicom.uid import generate_uid

        new = [v if is_standard_uid(v) else self.pseudonyms.uid(v) for v in _values(elem.value)]
        elem.value = new if elem.VM > 1 else (new[0] if new else generate_uid())  # an empty Type 1 UID: a fresh one


def _fill_blank_identity(ds, path: str | Path | None) -> None:
    """Anonymised sources may carry blank UIDs; give the copy real ones (derived the way the index does)."""
    sop, series, study = instance_identity(ds, path or "unknown")
    for keyword, value in (("SOPInstanceUID", sop), ("SeriesInstanceUID", series), ("StudyInstanceUID", study)):
        if not str(ds.get(keyword, "") or "").strip():
            setattr(ds, keyword, value)
    meta_class = getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "")
    if "SOPClassUID" in ds and not str(ds.SOPClassUID or "").strip() and meta_class:
        ds.SOPClassUID = meta_class  # blanked: restore. Absent (a fragment): leave it, adding one would claim an IOD
