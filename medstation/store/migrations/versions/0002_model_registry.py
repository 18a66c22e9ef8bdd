"""model registry (wiring)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
