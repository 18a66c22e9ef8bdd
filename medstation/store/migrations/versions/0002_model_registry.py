"""model registry (wiring): dataset version, hyperparameters, metrics and the rollback chain

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
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dataset_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('hyperparameters', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('metrics', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('activated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('previous_active_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_model_version_previous_active', 'model_version',
                                    ['previous_active_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_constraint('fk_model_version_previous_active', type_='foreignkey')
        batch_op.drop_column('previous_active_id')
        batch_op.drop_column('activated_at')
        batch_op.drop_column('metrics')
        batch_op.drop_column('hyperparameters')
        batch_op.drop_column('dataset_version')
