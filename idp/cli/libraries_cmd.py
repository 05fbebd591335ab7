"""``readerpass libraries add|list|show|load``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from ..errors import InvalidInput
from ..schemas import LibraryIn
from ..services import libraries
from ..services.actor import Actor
from .common import context, domain_errors, emit, emit_record, json_option

COLUMNS = ("code", "name", "kind", "created_at")


@click.group("libraries")
def command() -> None:
    """The member-library registry."""


@command.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(["public", "academic", "school", "special"]),
              default="public", show_default=True)
@json_option
@domain_errors
def add(code: str, name: str, kind: str, as_json: bool) -> None:
    """Add member library CODE called NAME."""
    ctx = context()
    data = LibraryIn.model_validate({"code": code, "name": name, "kind": kind})
    with ctx.transaction() as session:
        library = libraries.add_library(session, data, actor=Actor.cli(), now=ctx.now())
        emit_record(libraries.library_view(library), as_json=as_json)


@command.command("list")
@json_option
@domain_errors
def list_(as_json: bool) -> None:
    """List member libraries."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [libraries.library_view(x) for x in libraries.list_libraries(session)]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("show")
@click.argument("code")
@json_option
@domain_errors
def show(code: str, as_json: bool) -> None:
    """Show member library CODE."""
    ctx = context()
    with ctx.transaction() as session:
        emit_record(libraries.library_view(libraries.get_library(session, code)), as_json=as_json)


@command.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@domain_errors
def load(path: Path) -> None:
    """Add the libraries of a registry file (see config/libraries.example.toml).

    Libraries already present are left as they are; a bad entry changes nothing.
    """
    try:
        registry = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid TOML: {exc}") from None
    ctx = context()
    with ctx.transaction() as session:
        added, unchanged = libraries.load_registry(session, registry, actor=Actor.cli(),
                                                   now=ctx.now())
    click.echo(f"added {len(added)}, already present {len(unchanged)}")


def _operations() -> None:
    from .library_ops_cmd import COMMANDS

    for sub in COMMANDS:
        command.add_command(sub)


_operations()
