"""Events: their format (in person, virtual, hybrid), which decides the time zone every time is
shown in (the venue's, or each participant's).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "format",
                sa.Enum(
                    "in_person",
                    "virtual",
                    "hybrid",
                    name="eventformat",
                    native_enum=False,
                    create_constraint=True,
                    length=9,
                ),
                nullable=False,
                server_default="in_person",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint("eventformat", type_="check")
        batch_op.drop_column("format")
