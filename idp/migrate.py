"""Schema migrations (Alembic) and the at-head check the server relies on."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .errors import ReaderPassError


class SchemaNotCurrent(ReaderPassError):
    """The database is not at the revision this code needs."""

    code = "schema_not_current"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "idp:migrations")
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def ensure_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent` unless the database is at head."""
    head = head_revision(engine)
    current = current_revision(engine)
    if current != head:
        found = "an empty database" if current is None else f"revision {current}"
        raise SchemaNotCurrent(
            f"the database holds {found} but this ReaderPass needs revision {head}: "
            "run `readerpass db upgrade` first"
        )
