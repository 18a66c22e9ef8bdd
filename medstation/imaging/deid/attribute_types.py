"""How strongly an IOD requires an attribute: the "Type" that decides Table E.1-1's combined actions.

``Z/D``, ``X/Z``, ``X/D`` and ``X/Z/D`` mean: the first action unless the IOD
needs more (Type 2: present, possibly empty → ``Z``; Type 1: a value → ``D``).
The types come from the standard's module tables as highdicom ships them
(``highdicom/_standard/*.json``: SOP class → IOD → modules → attributes with
their sequence paths), so we do not keep our own copy of PS3.3.

Conditions (Type 1C/2C, conditional modules) cannot be evaluated from a table;
they are read as their unconditional types. The cost of that reading is a dummy
or an empty value where removal would also have been valid, never a missing
required attribute.
"""

from __future__ import annotations

import enum
from functools import lru_cache


class Requirement(enum.IntEnum):
    """What the IOD asks of an attribute, weakest first."""

    optional = 3  # Type 3, or not in the IOD: may be removed
    empty_allowed = 2  # Type 2/2C: must be present, may be empty
    value_required = 1  # Type 1/1C: must have a value


_TYPE_REQUIREMENT = {
    "1": Requirement.value_required,
    "1C": Requirement.value_required,
    "2": Requirement.empty_allowed,
    "2C": Requirement.empty_allowed,
}


@lru_cache(64)
def _iod_requirements(sop_class_uid: str) -> dict[tuple[tuple[str, ...], str], Requirement]:
    """(sequence path, keyword) → strongest requirement over every module of the SOP class's IOD."""
    from highdicom._standard_utils import get_iod_module_map, get_module_attribute_map, get_sop_class_iod_map

    iod = get_sop_class_iod_map().get(sop_class_uid)
    if iod is None:
        return {}
    attributes = get_module_attribute_map()
    out: dict[tuple[tuple[str, ...], str], Requirement] = {}
    for module in get_iod_module_map().get(iod, []):
        for attr in attributes.get(module["key"], []):
            need = _TYPE_REQUIREMENT.get(attr["type"], Requirement.optional)
            key = (tuple(attr["path"]), attr["keyword"])
            if key not in out or need < out[key]:  # IntEnum: a smaller value is a stronger requirement
                out[key] = need
    return out


def requirement(sop_class_uid: str, path: tuple[str, ...], keyword: str) -> Requirement:
    """Requirement of ``keyword`` inside the sequences ``path`` (outermost first) of ``sop_class_uid``'s IOD.

    Unknown SOP classes (private or retired) and unknown paths give :attr:`Requirement.optional`."""
    return _iod_requirements(str(sop_class_uid)).get((tuple(path), keyword), Requirement.optional)


def resolve(action: str, need: Requirement) -> str:
    """Collapse a combined action (``X/Z/D``...) to one of ``X``, ``Z``, ``D``, ``U`` for this requirement.

    ``U*`` (X/Z/U*, sequences of references) keeps a required sequence and replaces the UIDs inside it."""
    choices = action.split("/")
    if choices == ["Z"] and need is Requirement.value_required:
        return "D"  # "Z: zero length, or a dummy value consistent with the VR"
    if len(choices) == 1:
        return choices[0]
    if "U*" in choices:
        return "X" if need is Requirement.optional else "U*"
    if need is Requirement.value_required and "D" in choices:
        return "D"
    if need <= Requirement.empty_allowed and "Z" in choices:
        return "Z"
    if need is Requirement.empty_allowed and "D" in choices:
        return "D"  # X/D on a Type 2 attribute: removing it breaks the IOD, a dummy keeps it
    if need is Requirement.value_required and "Z" in choices:
        return "D"  # Z cannot satisfy a Type 1 attribute; a dummy can
    return choices[0]
