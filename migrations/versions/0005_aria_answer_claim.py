"""aria: a question's answer is claimed by one writer (answer_claimed_at); TOO_LONG answer mode

Revision ID: 0005_aria_answer_claim
Revises: 0004_aria_reply_to
Create Date: 2026-12-01 22:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_aria_answer_claim'
down_revision = '0004_aria_reply_to'
branch_labels = None
depends_on = None

OLD_MODES = "mode IN ('LLM', 'OFFLINE', 'DEGRADED')"
NEW_MODES = "mode IN ('LLM', 'OFFLINE', 'DEGRADED', 'TOO_LONG')"


def upgrade():
    with op.batch_alter_table('aria_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', type_='check')
    op.create_check_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', NEW_MODES)


def downgrade():
    op.execute("UPDATE aria_messages SET mode = 'DEGRADED' WHERE mode = 'TOO_LONG'")
    op.drop_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', type_='check')
    op.create_check_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', OLD_MODES)
    with op.batch_alter_table('aria_messages', schema=None) as batch_op:
        batch_op.drop_column('answer_claimed_at')
