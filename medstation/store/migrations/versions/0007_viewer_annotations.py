"""viewer: persistent measurements and annotations, segment changes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('viewer_annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_uid', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('plane', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('slice_index', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('value_text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('viewer_annotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_viewer_annotation_series_uid'), ['series_uid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('viewer_annotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_viewer_annotation_series_uid'))
    op.drop_table('viewer_annotation')
