"""training: datasets, runs, queue, schedules, comparisons

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written from the tables in store/tables/training.py; test_migrations_match_models checks it.
    op.create_table('training_dataset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_dataset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_dataset_name'), ['name'], unique=True)

    op.create_table('training_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('every_n_cases', sa.Integer(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('hour_utc', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cases_at_last_run', sa.Integer(), nullable=False),
    sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_schedule_kind'), ['kind'], unique=False)

    op.create_table('dataset_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_cases', sa.Integer(), nullable=False),
    sa.Column('n_excluded', sa.Integer(), nullable=False),
    sa.Column('split_counts', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['training_dataset.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dataset_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_version_content_sha256'), ['content_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_version_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index('uq_dataset_version_number', ['dataset_id', 'version'], unique=True)

    op.create_table('dataset_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_version_id', sa.Integer(), nullable=False),
    sa.Column('case_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('split', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('modality', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_version_id'], ['dataset_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dataset_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_case_case_key'), ['case_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_case_dataset_version_id'), ['dataset_version_id'], unique=False)

    op.create_table('model_comparison',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('baseline_id', sa.Integer(), nullable=False),
    sa.Column('dataset_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recommend_promote', sa.Boolean(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['baseline_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['candidate_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['dataset_version_id'], ['dataset_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('model_comparison', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_comparison_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_comparison_kind'), ['kind'], unique=False)

    op.create_table('training_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('dataset_version_id', sa.Integer(), nullable=True),
    sa.Column('base_model_id', sa.Integer(), nullable=True),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('epochs_done', sa.Integer(), nullable=False),
    sa.Column('run_dir', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['base_model_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['dataset_version_id'], ['dataset_version.id'], ),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_run_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_run_status'), ['status'], unique=False)

    op.create_table('model_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('model_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_alert_at'), ['at'], unique=False)

    op.create_table('training_metric',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['training_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_metric', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_metric_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('training_metric', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_metric_run_id'))

    op.drop_table('training_metric')
    with op.batch_alter_table('model_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_alert_at'))

    op.drop_table('model_alert')
    with op.batch_alter_table('training_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_run_status'))
        batch_op.drop_index(batch_op.f('ix_training_run_kind'))

    op.drop_table('training_run')
    with op.batch_alter_table('model_comparison', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_comparison_kind'))
        batch_op.drop_index(batch_op.f('ix_model_comparison_candidate_id'))

    op.drop_table('model_comparison')
    with op.batch_alter_table('dataset_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_case_dataset_version_id'))
        batch_op.drop_index(batch_op.f('ix_dataset_case_case_key'))

    op.drop_table('dataset_case')
    with op.batch_alter_table('dataset_version', schema=None) as batch_op:
        batch_op.drop_index('uq_dataset_version_number')
        batch_op.drop_index(batch_op.f('ix_dataset_version_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_dataset_version_content_sha256'))

    op.drop_table('dataset_version')
    with op.batch_alter_table('training_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_schedule_kind'))

    op.drop_table('training_schedule')
    with op.batch_alter_table('training_dataset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_dataset_name'))

    op.drop_table('training_dataset')
