"""notes: clients, sessions, transcripts, notes, revisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tables of the Notes tab (medstation/store/tables/notes.py); parents before children.
    op.create_table('note_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_note_template_name'), 'note_template', ['name'], unique=True)
    op.create_table('notes_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_notes_client_code'), 'notes_client', ['code'], unique=True)
    op.create_table('therapy_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('session_date', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('modality', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('clinician', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['notes_client.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_therapy_session_client_id'), 'therapy_session', ['client_id'], unique=False)
    op.create_table('session_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('template_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('signed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('signed_text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('signed_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ai_share_at_signing', sa.Float(), nullable=True),
    sa.Column('signed_revision', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['therapy_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_session_note_session_id'), 'session_note', ['session_id'], unique=False)
    op.create_index(op.f('ix_session_note_status'), 'session_note', ['status'], unique=False)
    op.create_table('session_transcript',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source_format', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('roles_swapped', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['therapy_session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_session_transcript_session_id'), 'session_transcript', ['session_id'], unique=False)
    op.create_index('uq_session_transcript_version', 'session_transcript', ['session_id', 'version'], unique=True)
    op.create_table('note_addendum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['session_note.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_note_addendum_note_id'), 'note_addendum', ['note_id'], unique=False)
    op.create_table('note_autosave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('base_revision', sa.Integer(), nullable=False),
    sa.Column('saved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('spans', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['session_note.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_note_autosave_note_id'), 'note_autosave', ['note_id'], unique=True)
    op.create_table('note_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('spans', sa.JSON(), nullable=False),
    sa.Column('ops', sa.JSON(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['session_note.id'], ),
    sa.ForeignKeyConstraint(['transcript_id'], ['session_transcript.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_note_revision_note_id'), 'note_revision', ['note_id'], unique=False)
    op.create_index('uq_note_revision_number', 'note_revision', ['note_id', 'number'], unique=True)
    op.create_table('note_risk_ack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('acknowledged_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['session_note.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_note_risk_ack_note_id'), 'note_risk_ack', ['note_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_note_risk_ack_note_id'), table_name='note_risk_ack')
    op.drop_table('note_risk_ack')
    op.drop_index('uq_note_revision_number', table_name='note_revision')
    op.drop_index(op.f('ix_note_revision_note_id'), table_name='note_revision')
    op.drop_table('note_revision')
    op.drop_index(op.f('ix_note_autosave_note_id'), table_name='note_autosave')
    op.drop_table('note_autosave')
    op.drop_index(op.f('ix_note_addendum_note_id'), table_name='note_addendum')
    op.drop_table('note_addendum')
    op.drop_index('uq_session_transcript_version', table_name='session_transcript')
    op.drop_index(op.f('ix_session_transcript_session_id'), table_name='session_transcript')
    op.drop_table('session_transcript')
    op.drop_index(op.f('ix_session_note_status'), table_name='session_note')
    op.drop_index(op.f('ix_session_note_session_id'), table_name='session_note')
    op.drop_table('session_note')
    op.drop_index(op.f('ix_therapy_session_client_id'), table_name='therapy_session')
    op.drop_table('therapy_session')
    op.drop_index(op.f('ix_notes_client_code'), table_name='notes_client')
    op.drop_table('notes_client')
    op.drop_index(op.f('ix_note_template_name'), table_name='note_template')
    op.drop_table('note_template')
