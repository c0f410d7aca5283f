"""Alembic environment: the same migrations run on SQLite and PostgreSQL.

The URL comes from `rueda db upgrade` (config.attributes["url"]) or, for the alembic command line,
from the settings. SQLite runs in batch mode so that later ALTERs work there too.
"""

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return str(url)
    from config import get_settings

    return get_settings().database_url


def run_migrations() -> None:
    from services.db import make_engine

    url = _url()
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
