"""holiday stages, their reservations and the Telegram outbox

Revision ID: 0012_stages
Revises: 0011_bilans
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_stages'
down_revision = '0011_bilans'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stages',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subjects', sa.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('price_millimes', sa.BigInteger(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('published', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("subjects <@ ARRAY['MATHEMATIQUES','NSI','FRANCAIS','PHILOSOPHIE','HISTOIRE_GEO','ANGLAIS','ESPAGNOL','PHYSIQUE_CHIMIE','SVT','SES']::varchar[]", name=op.f('ck_stages_known_subjects')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_stages_dates_in_order')),
    sa.CheckConstraint('price_millimes > 0', name=op.f('ck_stages_price_positive')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_stages_seats_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stages')),
    sa.UniqueConstraint('slug', name=op.f('uq_stages_slug'))
    )
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.create_index('ix_stages_coming', ['published', 'starts_on'], unique=False)

    op.create_table('stage_reservations',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('stage_id', sa.BigInteger(), nullable=False),
    sa.Column('parent_name', sa.String(length=160), nullable=False),
    sa.Column('student_name', sa.String(length=160), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('grade', sa.Enum('SECONDE', 'PREMIERE', 'TERMINALE', name='grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'CONFIRMED', 'PAID', 'CANCELLED', 'WAITING', name='reservationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('assessment_id', sa.BigInteger(), nullable=True),
    sa.Column('invoice_id', sa.BigInteger(), nullable=True),
    sa.Column('telegram_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_stage_reservations_assessment_id_assessments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_stage_reservations_invoice_id_invoices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_stage_reservations_stage_id_stages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_reservations')),
    sa.UniqueConstraint('reference', name=op.f('uq_stage_reservations_reference')),
    sa.UniqueConstraint('stage_id', 'email', name='uq_stage_reservations_stage_email')
    )
    with op.batch_alter_table('stage_reservations', schema=None) as batch_op:
        batch_op.create_index('ix_stage_reservations_stage_status', ['stage_id', 'status'], unique=False)

    op.create_table('telegram_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reservation_id', sa.BigInteger(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'SENT', 'FAILED', name='outboxstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['reservation_id'], ['stage_reservations.id'], name=op.f('fk_telegram_outbox_reservation_id_stage_reservations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telegram_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_telegram_outbox_dedupe_key'))
    )
    with op.batch_alter_table('telegram_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_telegram_outbox_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'PENDING'"))


def downgrade():
    with op.batch_alter_table('telegram_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_telegram_outbox_due', postgresql_where=sa.text("status = 'PENDING'"))

    op.drop_table('telegram_outbox')
    with op.batch_alter_table('stage_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_reservations_stage_status')

    op.drop_table('stage_reservations')
    with op.batch_alter_table('stages', schema=None) as batch_op:
        batch_op.drop_index('ix_stages_coming')

    op.drop_table('stages')
