"""shadow and preference: candidate outputs stored beside the active model's, blind A/B choices

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written from the tables in store/tables/training.py (shadow and preference); test_migrations_match_models checks it.
    op.create_table('shadow_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active_version_id', sa.Integer(), nullable=True),
    sa.Column('candidate_version_id', sa.Integer(), nullable=False),
    sa.Column('inputs_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('active_output', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('candidate_output', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mask_path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('vs_active', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.JSON(), nullable=False),
    sa.Column('candidate_provenance', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['active_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['candidate_version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shadow_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shadow_case_candidate_version_id'), ['candidate_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shadow_case_inputs_sha256'), ['inputs_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_shadow_case_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_shadow_case_reference'), ['reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_shadow_case_status'), ['status'], unique=False)

    op.create_table('preference_choice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active_version_id', sa.Integer(), nullable=True),
    sa.Column('candidate_version_id', sa.Integer(), nullable=False),
    sa.Column('shown_order', sa.JSON(), nullable=False),
    sa.Column('session_seed', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request_index', sa.Integer(), nullable=False),
    sa.Column('chosen', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('chosen_version_id', sa.Integer(), nullable=True),
    sa.Column('inputs_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('chosen_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('shown_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('chosen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['active_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['candidate_version_id'], ['model_version.id'], ),
    sa.ForeignKeyConstraint(['chosen_version_id'], ['model_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('preference_choice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preference_choice_candidate_version_id'), ['candidate_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preference_choice_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('preference_choice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preference_choice_kind'))
        batch_op.drop_index(batch_op.f('ix_preference_choice_candidate_version_id'))

    op.drop_table('preference_choice')
    with op.batch_alter_table('shadow_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shadow_case_status'))
        batch_op.drop_index(batch_op.f('ix_shadow_case_reference'))
        batch_op.drop_index(batch_op.f('ix_shadow_case_kind'))
        batch_op.drop_index(batch_op.f('ix_shadow_case_inputs_sha256'))
        batch_op.drop_index(batch_op.f('ix_shadow_case_candidate_version_id'))

    op.drop_table('shadow_case')
