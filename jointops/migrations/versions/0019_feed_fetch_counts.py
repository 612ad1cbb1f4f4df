"""feeds: a generation counter and snapshots for cheap revalidation; fetches counted per day

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_generation")),
    )
    op.execute("INSERT INTO feed_generation (id, generation) VALUES (1, 0)")
    op.create_table(
        "feed_snapshots",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["feed_tokens.id"],
            name=op.f("fk_feed_snapshots_token_id_feed_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_feed_snapshots")),
    )
    op.create_table(
        "feed_fetch_counts",
        sa.Column("token_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "day", name=op.f("pk_feed_fetch_counts")),
    )
    with op.batch_alter_table("feed_fetch_counts", schema=None) as batch_op:
        batch_op.create_index("ix_feed_fetch_counts_day", ["day"], unique=False)
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_state", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("content_valid_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.drop_column("content_valid_until")
        batch_op.drop_column("content_state")
    with op.batch_alter_table("feed_fetch_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_fetch_counts_day")
    op.drop_table("feed_fetch_counts")
    op.drop_table("feed_snapshots")
    op.drop_table("feed_generation")
