"""The ``readerpass`` command: a Flask CLI group; every command has --help."""

from __future__ import annotations

import importlib
import os
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from ..app import create_app
from ..context import Context
from ..settings import CONFIG_ENV, load_settings


def _set_config(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ[CONFIG_ENV] = value


def _load_app() -> Flask:
    # The schema is checked per command (db commands must run on an old schema).
    return create_app(context=Context.build(load_settings()), check_schema=False)


class ReaderPassGroup(FlaskGroup):
    """Flask's CLI group without its app-discovery options: the app is always ours,
    and it is built only when a command needs it (so --help never needs settings)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in {"env_file", "app", "debug"}]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


@click.group(
    cls=ReaderPassGroup,
    create_app=_load_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    params=[
        click.Option(
            ["--config", "-c"],
            metavar="PATH",
            expose_value=False,
            is_eager=True,
            callback=_set_config,
            help=f"Settings file (TOML). Default: ${CONFIG_ENV}, else ./instance/readerpass.toml.",
        )
    ],
)
@click.version_option(package_name="readerpass", prog_name="readerpass")
def cli() -> None:
    """ReaderPass: one reader identity and card for every member library."""


#: Modules whose ``command`` joins the group; adding a command is one line here.
COMMAND_MODULES = (
    "cards_cmd",
    "clients_cmd",
    "config_cmd",
    "db_cmd",
    "demo_cmd",
    "duplicates_cmd",
    "gate_cmd",
    "import_cmd",
    "keys_cmd",
    "libraries_cmd",
    "links_cmd",
    "oidc_cmd",
    "outbox_cmd",
    "pii_cmd",
    "readers_cmd",
    "serve_cmd",
    "tokens_cmd",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        cli.add_command(module.command)
        for extra in getattr(module, "extra_commands", ()):
            cli.add_command(extra)


_register()


def main() -> None:
    cli.main(prog_name="readerpass")
