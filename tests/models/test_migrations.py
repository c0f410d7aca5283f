"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from services.db import alembic_config, current_revision, head_revision, upgrade_database

pytestmark = pytest.mark.integration


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_downgrade_round_trips(db_url: str, engine: Engine) -> None:
    upgrade_database(db_url)
    assert current_revision(engine) == head_revision() == "0005"
    command.downgrade(alembic_config(db_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(db_url)
    assert set(inspect(engine).get_table_names()) == set(SQLModel.metadata.tables) | {"alembic_version"}


@pytest.mark.unit
def test_head_revision_is_alembics_head() -> None:
    """`head_revision` reads the files without importing them; Alembic must agree with it."""
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads() == [head_revision()]
