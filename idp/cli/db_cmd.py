"""``readerpass db upgrade|current``."""

from __future__ import annotations

import click

from .. import migrate
from .common import context, domain_errors


@click.group("db")
def command() -> None:
    """Migrate the identity database (SQLite or PostgreSQL)."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@domain_errors
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    engine = context(check_schema=False).engine
    migrate.upgrade(engine, revision)
    click.echo(f"database at revision {migrate.current_revision(engine)}")


@command.command("current")
@domain_errors
def current() -> None:
    """Print the database's revision and the code's head revision."""
    engine = context(check_schema=False).engine
    now, head = migrate.current_revision(engine), migrate.head_revision(engine)
    click.echo(f"current {now or '(empty)'}")
    click.echo(f"head    {head}")
    if now != head:
        raise click.exceptions.Exit(1)
