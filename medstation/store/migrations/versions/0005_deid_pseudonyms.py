"""de-identification: persistent pseudonym map

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deid_pseudonym',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('source_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('date_shift_days', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_deid_pseudonym_source', 'deid_pseudonym', ['kind', 'source_sha256'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_deid_pseudonym_source', table_name='deid_pseudonym')
    op.drop_table('deid_pseudonym')
