"""aria: SAFETY answer mode (the caring answer to a question the safety check flagged)

Revision ID: 0014_aria_safety_mode
Revises: 0013_progress_messaging
Create Date: 2026-12-02 10:30:00

"""
from alembic import op


revision = '0014_aria_safety_mode'
down_revision = '0013_progress_messaging'
branch_labels = None
depends_on = None

OLD_MODES = "mode IN ('LLM', 'OFFLINE', 'DEGRADED', 'TOO_LONG')"
NEW_MODES = "mode IN ('LLM', 'OFFLINE', 'DEGRADED', 'TOO_LONG', 'SAFETY')"


def upgrade():
    op.drop_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', type_='check')
    op.create_check_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', NEW_MODES)


def downgrade():
    # A caring answer becomes a degraded one: the text stays, the mode the old schema knows.
    op.execute("UPDATE aria_messages SET mode = 'DEGRADED' WHERE mode = 'SAFETY'")
    op.drop_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', type_='check')
    op.create_check_constraint(op.f('ck_aria_messages_answermode'), 'aria_messages', OLD_MODES)
