"""Segment label → SNOMED CT category and type for DICOM-SEG (PS3.16 CID 7150 / 7151 / 7153).

Codes are looked up in pydicom's code dictionary (``pydicom.sr.codedict.codes.SCT``), which
highdicom builds its own coded values from; we keep only the mapping from words people
type ("liver", "left kidney", "nodule") to those dictionary keywords. Laterality words
are ignored for the code (the label keeps them). An unrecognised label is coded as
category/type "Tissue", as before, and the export says so in its return value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Organs and structures most often segmented (CT/MR abdomen, chest, head, skeleton): word(s) → codes.SCT keyword.
_ANATOMY = {
    "liver": "Liver", "spleen": "Spleen", "kidney": "Kidney", "lung": "Lung", "heart": "Heart",
    "pancreas": "Pancreas", "brain": "Brain", "aorta": "Aorta", "stomach": "Stomach", "gallbladder": "Gallbladder",
    "bladder": "Bladder", "urinary bladder": "Bladder", "prostate": "Prostate", "bone": "Bone", "vertebra": "Vertebra",
    "esophagus": "Esophagus", "oesophagus": "Esophagus", "colon": "Colon", "small intestine": "SmallIntestine",
    "small bowel": "SmallIntestine", "duodenum": "Duodenum", "adrenal gland": "AdrenalGland", "adrenal": "AdrenalGland",
    "trachea": "Trachea", "rib": "Rib", "femur": "Femur", "muscle": "Muscle", "skull": "Skull", "uterus": "Uterus",
    "breast": "Breast", "eye": "Eye",
}
# Abnormal findings: category Morphologically Abnormal Structure.
_FINDINGS = {"lesion": "Lesion", "mass": "Mass", "nodule": "Nodule", "cyst": "Cyst", "tumor": "Tumor",
             "tumour": "Tumor", "neoplasm": "Neoplasm"}
_LATERALITY = re.compile(r"\b(left|right|l|r|bilateral)\b")


@dataclass(frozen=True)
class SegmentCodes:
    """(value, meaning) pairs in scheme SCT; ``known`` False when the label fell back to Tissue."""

    category: tuple[str, str]
    type: tuple[str, str]
    known: bool


def _words(label: str) -> str:
    text = re.sub(r"[_\-.,;:/]+", " ", label.lower())
    text = _LATERALITY.sub(" ", text)
    text = re.sub(r"\d+", " ", text)
    return " ".join(text.split())


def _sct(keyword: str) -> tuple[str, str]:
    from pydicom.sr.codedict import codes

    code = getattr(codes.SCT, keyword)
    return str(code.value), str(code.meaning)


def segment_codes(label: str) -> SegmentCodes:
    """Codes for a segment called ``label`` (case, punctuation, numbers and laterality ignored)."""
    words = _words(label)
    plural = words[:-1] if words.endswith("s") else words
    for candidate in (words, plural):
        if candidate in _ANATOMY:
            return SegmentCodes(_sct("AnatomicalStructure"), _sct(_ANATOMY[candidate]), True)
    for token in words.split():
        token = token[:-1] if token.endswith("s") and token[:-1] in _FINDINGS else token
        if token in _FINDINGS:
            return SegmentCodes(_sct("MorphologicallyAbnormalStructure"), _sct(_FINDINGS[token]), True)
    tissue = _sct("Tissue")
    return SegmentCodes(tissue, tissue, False)
