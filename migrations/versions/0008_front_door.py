"""front door: sign-ups, co-parents, anonymised accounts, e-mail change links

Revision ID: 0008_front_door
Revises: 0007_one_pending_credit_request
Create Date: 2026-12-02 00:38:56.093946

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0008_front_door"
down_revision = "0007_one_pending_credit_request"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "co_parents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["parent_profiles.id"],
            name=op.f("fk_co_parents_profile_id_parent_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_co_parents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_co_parents")),
        sa.UniqueConstraint("user_id", name=op.f("uq_co_parents_user_id")),
    )
    with op.batch_alter_table("co_parents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_co_parents_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "family_signups",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("children", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("bilan_request_id", sa.BigInteger(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewals", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_family_signups_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["bilan_request_id"],
            ["bilan_requests.id"],
            name=op.f("fk_family_signups_bilan_request_id_bilan_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_family_signups_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_signups")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_family_signups_token_hash")),
    )
    with op.batch_alter_table("family_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_signups_email"), ["email"], unique=False)

    with op.batch_alter_table("contact_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_user_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_messages_parent_user_id_users"),
            "users",
            ["parent_user_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))

    # An anonymised account keeps no address; a link may confirm a new address.
    op.drop_constraint(op.f("ck_users_email_required"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_email_required"),
        "users",
        "email IS NOT NULL OR role = 'ELEVE' OR anonymised_at IS NOT NULL",
    )
    op.drop_constraint(op.f("ck_user_tokens_tokenpurpose"), "user_tokens", type_="check")
    op.create_check_constraint(
        op.f("ck_user_tokens_tokenpurpose"),
        "user_tokens",
        "purpose IN ('ACTIVATION', 'PASSWORD_RESET', 'EMAIL_CHANGE')",
    )


def downgrade():
    op.execute("DELETE FROM user_tokens WHERE purpose = 'EMAIL_CHANGE'")
    op.drop_constraint(op.f("ck_user_tokens_tokenpurpose"), "user_tokens", type_="check")
    op.create_check_constraint(
        op.f("ck_user_tokens_tokenpurpose"), "user_tokens", "purpose IN ('ACTIVATION', 'PASSWORD_RESET')"
    )
    op.drop_constraint(op.f("ck_users_email_required"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_email_required"), "users", "email IS NOT NULL OR role = 'ELEVE'"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")

    with op.batch_alter_table("contact_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contact_messages_parent_user_id_users"), type_="foreignkey")
        batch_op.drop_column("parent_user_id")

    with op.batch_alter_table("family_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_signups_email"))

    op.drop_table("family_signups")
    with op.batch_alter_table("co_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_co_parents_profile_id"))

    op.drop_table("co_parents")
