"""positioning tests: question items, tests (the unused assessments table is replaced), answers, scores

Revision ID: 0010_positioning_tests
Revises: 0009_drop_job_runs
Create Date: 2026-12-02 06:50:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0010_positioning_tests'
down_revision = '0009_drop_job_runs'
branch_labels = None
depends_on = None


def upgrade():
    # The old table was never written (no feature used it): replaced rather than altered.
    op.drop_table('assessments')
    op.create_table('question_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.Enum('MATHEMATIQUES', 'NSI', 'FRANCAIS', 'PHILOSOPHIE', 'HISTOIRE_GEO', 'ANGLAIS', 'ESPAGNOL', 'PHYSIQUE_CHIMIE', 'SVT', 'SES', name='subject', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('skill', sa.String(length=60), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('choices', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('answer', sa.SmallInteger(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('prior_difficulty', sa.Float(), nullable=False),
    sa.Column('difficulty', sa.Float(), nullable=False),
    sa.Column('calibrated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('calibration_answers', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint('answer BETWEEN 0 AND 3', name=op.f('ck_question_items_answer_letter')),
    sa.CheckConstraint('cardinality(choices) = 4', name=op.f('ck_question_items_four_choices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_items')),
    sa.UniqueConstraint('key', name=op.f('uq_question_items_key'))
    )
    with op.batch_alter_table('question_items', schema=None) as batch_op:
        batch_op.create_index('ix_question_items_bank', ['subject', 'grade', 'active'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('student_id', sa.BigInteger(), nullable=True),
    sa.Column('participant_email', sa.String(length=254), nullable=True),
    sa.Column('participant_name', sa.String(length=160), nullable=True),
    sa.Column('mode', sa.Enum('ADAPTIVE', 'FIXED', name='testmode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject', sa.Enum('MATHEMATIQUES', 'NSI', 'FRANCAIS', 'PHILOSOPHIE', 'HISTOIRE_GEO', 'ANGLAIS', 'ESPAGNOL', 'PHYSIQUE_CHIMIE', 'SVT', 'SES', name='subject', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('ASSIGNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', name='teststatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('form', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('current_item_id', sa.BigInteger(), nullable=True),
    sa.Column('current_shown_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('results', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('assigned_by_id', sa.BigInteger(), nullable=True),
    sa.Column('link_version', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('student_id IS NOT NULL OR participant_email IS NOT NULL', name=op.f('ck_assessments_someone_takes_it')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_assessments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['current_item_id'], ['question_items.id'], name=op.f('fk_assessments_current_item_id_question_items')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_assessments_student_id_students'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_cohort', ['subject', 'grade', 'status'], unique=False)
        batch_op.create_index('ix_assessments_student', ['student_id', 'completed_at'], unique=False)
        batch_op.create_index('uq_assessments_open', ['student_id', 'mode', sa.literal_column("coalesce(subject, '')")], unique=True, postgresql_where=sa.text("status IN ('ASSIGNED', 'IN_PROGRESS') AND student_id IS NOT NULL"))

    op.create_table('assessment_responses',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('assessment_id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('choice', sa.SmallInteger(), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('elapsed_ms', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('choice BETWEEN 0 AND 3', name=op.f('ck_assessment_responses_choice_letter')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_responses_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['question_items.id'], name=op.f('fk_assessment_responses_item_id_question_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_responses')),
    sa.UniqueConstraint('assessment_id', 'item_id', name=op.f('uq_assessment_responses_assessment_id')),
    sa.UniqueConstraint('assessment_id', 'position', name='uq_assessment_responses_position')
    )
    with op.batch_alter_table('assessment_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_responses_item_id'), ['item_id'], unique=False)

    op.create_table('assessment_scores',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('assessment_id', sa.BigInteger(), nullable=False),
    sa.Column('student_id', sa.BigInteger(), nullable=True),
    sa.Column('subject', sa.Enum('MATHEMATIQUES', 'NSI', 'FRANCAIS', 'PHILOSOPHIE', 'HISTOIRE_GEO', 'ANGLAIS', 'ESPAGNOL', 'PHYSIQUE_CHIMIE', 'SVT', 'SES', name='subject', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('theta', sa.Float(), nullable=False),
    sa.Column('standard_error', sa.Float(), nullable=False),
    sa.Column('ssn', sa.Float(), nullable=False),
    sa.Column('cohort_size', sa.Integer(), nullable=False),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_scores_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_assessment_scores_student_id_students'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scores')),
    sa.UniqueConstraint('assessment_id', 'subject', name=op.f('uq_assessment_scores_assessment_id'))
    )
    with op.batch_alter_table('assessment_scores', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_scores_cohort', ['subject', 'grade'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_scores_cohort')

    op.drop_table('assessment_scores')
    with op.batch_alter_table('assessment_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_responses_item_id'))

    op.drop_table('assessment_responses')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('uq_assessments_open', postgresql_where=sa.text("status IN ('ASSIGNED', 'IN_PROGRESS') AND student_id IS NOT NULL"))
        batch_op.drop_index('ix_assessments_student')
        batch_op.drop_index('ix_assessments_cohort')

    op.drop_table('assessments')
    with op.batch_alter_table('question_items', schema=None) as batch_op:
        batch_op.drop_index('ix_question_items_bank')

    op.drop_table('question_items')
    op.create_table('assessments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('share_token_hash', sa.String(length=64), nullable=True),
    sa.Column('student_id', sa.BigInteger(), nullable=True),
    sa.Column('bilan_request_id', sa.BigInteger(), nullable=True),
    sa.Column('subject', sa.Enum('MATHEMATIQUES', 'NSI', 'FRANCAIS', 'PHILOSOPHIE', 'HISTOIRE_GEO', 'ANGLAIS', 'ESPAGNOL', 'PHYSIQUE_CHIMIE', 'SVT', 'SES', name='subject', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('definition_key', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'SCORING', 'GENERATING', 'COMPLETED', 'FAILED', name='assessmentstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('progress', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('answers', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('scores', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('global_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('student_markdown', sa.Text(), nullable=True),
    sa.Column('parents_markdown', sa.Text(), nullable=True),
    sa.Column('staff_markdown', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('retry_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_assessments_progress_range')),
    sa.ForeignKeyConstraint(['bilan_request_id'], ['bilan_requests.id'], name=op.f('fk_assessments_bilan_request_id_bilan_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_assessments_student_id_students'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('share_token_hash', name=op.f('uq_assessments_share_token_hash'))
    )

