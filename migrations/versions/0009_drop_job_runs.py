"""drop job_runs: never written nor read (periodic jobs are idempotent by their own keys)

Revision ID: 0009_drop_job_runs
Revises: 0008_front_door
Create Date: 2026-12-02 04:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009_drop_job_runs'
down_revision = '0008_front_door'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('uq_job_runs_name_key', table_name='job_runs')
    op.drop_table('job_runs')


def downgrade():
    op.create_table('job_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('job_name', sa.String(length=60), nullable=False),
    sa.Column('run_key', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('RUNNING', 'COMPLETED', 'FAILED', name='jobrunstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    op.create_index('uq_job_runs_name_key', 'job_runs', ['job_name', 'run_key'], unique=True)
