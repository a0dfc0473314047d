"""holiday stages and their reservations

Revision ID: 0012_stages
Revises: 0011_bilans
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0012_stages'
down_revision = '0011_bilans'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
