"""``readerpass config init|check``."""

from __future__ import annotations

from pathlib import Path

import click

from ..config_file import render_config, write_config
from ..settings import load_settings
from .common import CommandFailed, domain_errors


@click.group("config")
def command() -> None:
    """Create and check settings files."""


@command.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--province-code", required=True, help="Short upper-case code, e.g. ZJ.")
@click.option("--province-name", required=True, help="Display name of the province network.")
@click.option("--database-url", default="", help="SQLAlchemy URL; empty = SQLite in the instance.")
@click.option("--public-url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init(path: Path, province_code: str, province_name: str, database_url: str,
         public_url: str, force: bool) -> None:
    """Write a settings file with freshly generated secrets (mode 0600)."""
    text = render_config(province_code=province_code, province_name=province_name,
                         database_url=database_url, public_url=public_url)
    try:
        write_config(path, text, force=force)
    except FileExistsError as exc:
        raise CommandFailed(str(exc)) from None
    load_settings(path)  # what we wrote must be valid
    click.echo(f"wrote {path}")


@command.command("check")
@domain_errors
def check() -> None:
    """Validate the settings (file and environment) and print a summary without secrets."""
    settings = load_settings()
    click.echo(f"province   {settings.province.code} ({settings.province.name})")
    click.echo(f"database   {settings.database_url.split('://')[0]}")
    click.echo(f"redis      {'configured' if settings.redis.url else 'in-process'}")
    click.echo(f"messaging  {settings.messaging.sender}")
    click.echo(f"public url {settings.server.public_url}")
    click.echo("ok")
