"""credit requests: at most one pending request per child (backs the service's bound)

Revision ID: 0007_one_pending_credit_request
Revises: 0006_activation_link_address
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_one_pending_credit_request'
down_revision = '0006_activation_link_address'
branch_labels = None
depends_on = None


def upgrade():
    # Requests made before the bound: keep the newest pending one of each child.
    op.execute(
        "UPDATE credit_requests SET status = 'REJECTED', processed_at = now(),"
        " rejection_reason = 'Remplacée par une demande plus récente.'"
        " WHERE status = 'PENDING' AND id NOT IN"
        " (SELECT max(id) FROM credit_requests WHERE status = 'PENDING' GROUP BY student_id)"
    )
    op.create_index(
        'uq_credit_requests_one_pending',
        'credit_requests',
        ['student_id'],
        unique=True,
        postgresql_where=sa.text("status = 'PENDING'"),
    )


def downgrade():
    op.drop_index('uq_credit_requests_one_pending', table_name='credit_requests')
