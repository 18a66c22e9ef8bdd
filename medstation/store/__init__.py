"""Persistence: SQLite through sqlmodel, schema managed by Alembic."""
