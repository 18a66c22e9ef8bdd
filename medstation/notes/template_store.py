"""Built-in templates plus the clinic's own, stored in the ``note_template`` table."""

from __future__ import annotations

from sqlmodel import select

from medstation.notes.templates import BUILTIN_TEMPLATES, NoteTemplate, TemplateError, template_from_json
from medstation.store.database import Database
from medstation.store.tables import NoteTemplateRecord


class TemplateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def names(self) -> list[str]:
        with self.db.session() as s:
            custom = [r.name for r in s.exec(select(NoteTemplateRecord).order_by(NoteTemplateRecord.name))]
        return list(BUILTIN_TEMPLATES) + custom

    def get(self, name: str) -> NoteTemplate:
        key = (name or "").strip().lower()
        if key in BUILTIN_TEMPLATES:
            return BUILTIN_TEMPLATES[key]
        with self.db.session() as s:
            row = s.exec(select(NoteTemplateRecord).where(NoteTemplateRecord.name == key)).first()
            spec = dict(row.spec) if row is not None else None
        if spec is None:
            raise TemplateError(f"No template named {name!r}; available: {', '.join(self.names())}.")
        return template_from_json(spec)

    def save(self, spec: dict, *, author: str) -> NoteTemplate:
        """Create or update a custom template from JSON (validated first; built-in names are reserved)."""
        template = template_from_json(spec)
        if template.name in BUILTIN_TEMPLATES:
            raise TemplateError(f"{template.name!r} is a built-in template; choose another name.")
        with self.db.session() as s:
            row = s.exec(select(NoteTemplateRecord).where(NoteTemplateRecord.name == template.name)).first()
            row = row or NoteTemplateRecord(name=template.name)
            row.title, row.version, row.spec, row.created_by = template.title, template.version, \
                template.to_json(), author
            s.add(row)
            self.db.audit("notes.template.save", actor=author, entity="note_template", entity_id=template.name,
                          version=template.version, session=s)
        return template
