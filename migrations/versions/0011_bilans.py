"""bilans for three audiences

Revision ID: 0011_bilans
Revises: 0010_positioning_tests
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0011_bilans'
down_revision = '0010_positioning_tests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bilans',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('assessment_id', sa.BigInteger(), nullable=False),
    sa.Column('questionnaire', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('status', sa.Enum('QUEUED', 'SCORING', 'WRITING', 'READY', 'FAILED', name='generationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('step', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('error_code', sa.Enum('LLM_TIMEOUT', 'LLM_UNAVAILABLE', 'LLM_EMPTY_RESPONSE', 'LLM_GENERATION_SKIPPED', 'RAG_UNAVAILABLE', 'RAG_TIMEOUT', 'VALIDATION_ERROR', 'SCORING_ERROR', 'INTERNAL_ERROR', name='bilanerror', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('error_detail', sa.String(length=500), nullable=True),
    sa.Column('retry_count', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('analysis', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('student_markdown', sa.Text(), nullable=True),
    sa.Column('parents_markdown', sa.Text(), nullable=True),
    sa.Column('team_markdown', sa.Text(), nullable=True),
    sa.Column('source', sa.Enum('LLM', 'TEMPLATE', 'MIXED', name='bilansource', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('generation', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('link_version', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('link_version >= 1', name=op.f('ck_bilans_link_version_positive')),
    sa.CheckConstraint('step BETWEEN 0 AND 3', name=op.f('ck_bilans_step_range')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_bilans_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_bilans_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bilans')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_bilans_assessment_id'))
    )
    with op.batch_alter_table('bilans', schema=None) as batch_op:
        batch_op.create_index('ix_bilans_status', ['status', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('bilans', schema=None) as batch_op:
        batch_op.drop_index('ix_bilans_status')

    op.drop_table('bilans')
