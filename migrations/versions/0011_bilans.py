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
    pass


def downgrade():
    pass
