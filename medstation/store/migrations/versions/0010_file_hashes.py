"""file hashes: each segmentation row records the sha256 of its two mask files (verified on read)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('segmentation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mask_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('ai_mask_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('segmentation', schema=None) as batch_op:
        # the server defaults only filled existing rows (no hash recorded: read unverified); the model has none
        batch_op.alter_column('mask_sha256', server_default=None)
        batch_op.alter_column('ai_mask_sha256', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('segmentation', schema=None) as batch_op:
        batch_op.drop_column('ai_mask_sha256')
        batch_op.drop_column('mask_sha256')
