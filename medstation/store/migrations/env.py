"""Alembic environment: runs against the engine handed in by ``Database`` (or the URL)."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from medstation.store import tables  # noqa: F401

target_metadata = SQLModel.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        # render_as_batch lets ALTER work on SQLite by copying the table.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
