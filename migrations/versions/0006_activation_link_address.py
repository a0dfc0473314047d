"""user tokens: the address an activation link was given for (bounded sends, no account probing)

Revision ID: 0006_activation_link_address
Revises: 0005_aria_answer_claim
Create Date: 2026-12-01 22:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_activation_link_address'
down_revision = '0005_aria_answer_claim'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_tokens', sa.Column('email', sa.String(length=254), nullable=True))


def downgrade():
    op.drop_column('user_tokens', 'email')
