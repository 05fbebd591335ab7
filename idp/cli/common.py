"""Shared CLI plumbing: loading the context, domain errors, tables and JSON lines."""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import click
from flask import Flask
from flask.cli import ScriptInfo
from pydantic import ValidationError
from sqlalchemy.exc import DataError

from .. import migrate
from ..context import Context
from ..errors import InvalidInput, ReaderPassError
from ..settings import SettingsError

P = ParamSpec("P")
R = TypeVar("R")


class CommandFailed(click.ClickException):
    """One line on stderr, then exit status 1."""


class BadCommandInput(CommandFailed):
    """Invalid input or settings: one line on stderr, then exit status 2."""

    exit_code = 2


def load_app(*, check_schema: bool = True) -> Flask:
    root = click.get_current_context().find_root()
    try:
        app = root.ensure_object(ScriptInfo).load_app()
    except SettingsError as exc:
        raise BadCommandInput(str(exc)) from None
    if "readerpass.dispose" not in root.meta:
        # Close the pools when the command ends, not when the process does.
        root.meta["readerpass.dispose"] = True
        root.call_on_close(app.extensions["readerpass"].dispose)
    if check_schema:
        migrate.ensure_current(app.extensions["readerpass"].engine)
    return app


def context(*, check_schema: bool = True) -> Context:
    ctx: Context = load_app(check_schema=check_schema).extensions["readerpass"]
    return ctx


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and validation errors into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            raise BadCommandInput(str(exc)) from None
        except InvalidInput as exc:
            raise BadCommandInput(str(exc)) from None
        except ReaderPassError as exc:
            raise CommandFailed(str(exc)) from None
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise BadCommandInput(f"{field}: {error['msg']}") from None
        except DataError:  # SQLSTATE class 22; the command's transaction rolled back
            raise BadCommandInput("a value the database cannot store or search for "
                                  "(a NUL character, for example)") from None

    return wrapper


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """Print ``rows`` as JSON lines (scripts) or an aligned table (people)."""
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(_width(col), *(_width(line[i]) for line in cells)) for i, col in
              enumerate(columns)]
    click.echo("  ".join(_pad(col, w) for col, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        click.echo("  ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip())


def emit_record(row: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    width = max(_width(key) for key in row)
    for key, value in row.items():
        click.echo(f"{_pad(key, width)}  {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def json_option(func: Callable[P, R]) -> Callable[P, R]:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON lines for scripts instead of a table.")(func)


def lines(items: Iterable[str]) -> None:
    for item in items:
        click.echo(item)
