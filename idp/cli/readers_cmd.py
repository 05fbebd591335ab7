"""``readerpass readers add|show|list|search|update|status``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import InvalidInput
from ..schemas import ReaderUpdateIn, RegistrationIn, StatusChangeIn
from ..services import readers, registration
from ..services.actor import Actor
from ..services.lookup import find_reader, search_readers
from .common import context, domain_errors, emit, emit_record, json_option

COLUMNS = ("id", "card_number", "family_name", "given_name", "birth_date", "category",
           "status", "assurance", "home_library")


@click.group("readers")
def command() -> None:
    """Register, find and change readers."""


def _password(prompt: bool, from_stdin: bool) -> str | None:
    if prompt and from_stdin:
        raise InvalidInput("use either --set-password or --password-stdin", field="password")
    if prompt:
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return None


@command.command("add")
@click.option("--family-name", required=True)
@click.option("--given-name", required=True)
@click.option("--document-type", default="resident_id", show_default=True,
              help="resident_id, hk_macao_permit, taiwan_permit, passport or social_security.")
@click.option("--document-number", required=True, help="Read it from a file with @PATH.")
@click.option("--document-country", help="ISO 3166-1 alpha-3, for passports.")
@click.option("--birth-date", help="YYYY-MM-DD, when the document number does not hold it.")
@click.option("--sex", type=click.Choice(["F", "M"]))
@click.option("--mobile")
@click.option("--home-library", required=True, help="Member library code.")
@click.option("--category")
@click.option("--guardian", help="Card number or reader id of the guardian (under 14).")
@click.option("--set-password", is_flag=True, help="Prompt for a password.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@domain_errors
def add(set_password: bool, password_stdin: bool, as_json: bool, **fields: Any) -> None:
    """Register a reader."""
    number = fields["document_number"]
    if number.startswith("@"):
        with open(number[1:], encoding="utf-8") as handle:
            fields["document_number"] = handle.read().strip()
    data = {key: value for key, value in fields.items() if value is not None}
    data["password"] = _password(set_password, password_stdin)
    request = RegistrationIn.model_validate(data)
    ctx = context()
    with ctx.transaction() as session:
        reader = registration.register_reader(session, ctx, request, actor=Actor.cli())
        emit_record(readers.reader_view(reader, ctx), as_json=as_json)


@command.command("show")
@click.argument("ref")
@json_option
@domain_errors
def show(ref: str, as_json: bool) -> None:
    """Show the reader with id or card number REF (a merged one as it was left)."""
    ctx = context()
    with ctx.transaction() as session:
        emit_record(readers.reader_view(find_reader(session, ref, follow=False), ctx),
                    as_json=as_json)


@command.command("list")
@click.option("--library", help="Only readers of this home library.")
@click.option("--status", help="Only readers with this status.")
@click.option("--after", help="Continue after this reader id (keyset paging).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def list_(library: str | None, status: str | None, after: str | None, limit: int,
          as_json: bool) -> None:
    """List readers in id order."""
    ctx = context()
    with ctx.transaction() as session:
        found = readers.list_readers(session, library=library, status=status, after=after,
                                     limit=limit)
        rows = [readers.reader_view(r, ctx) for r in found]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("search")
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def search(query: str, limit: int, as_json: bool) -> None:
    """Find readers by card number, id, resident-ID number, mobile or name prefix."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [readers.reader_view(r, ctx) for r in search_readers(session, ctx, query,
                                                                     limit=limit)]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("update")
@click.argument("ref")
@click.option("--family-name")
@click.option("--given-name")
@click.option("--mobile")
@click.option("--home-library")
@click.option("--category")
@click.option("--set-password", is_flag=True, help="Prompt for a new password.")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@json_option
@domain_errors
def update(ref: str, set_password: bool, password_stdin: bool, as_json: bool,
           **fields: Any) -> None:
    """Change a reader's names, mobile, home library, category or password."""
    data = {key: value for key, value in fields.items() if value is not None}
    password = _password(set_password, password_stdin)
    if password is not None:
        data["password"] = password
    request = ReaderUpdateIn.model_validate(data)
    ctx = context()
    with ctx.transaction() as session:
        reader = readers.update_reader(session, ctx, find_reader(session, ref), request,
                                       actor=Actor.cli())
        emit_record(readers.reader_view(reader, ctx), as_json=as_json)


@command.command("status")
@click.argument("ref")
@click.argument("status", type=click.Choice(
    ["active", "lost_reported", "suspended", "expired", "cancelled"]))
@click.option("--reason", help="Why (required to suspend or cancel).")
@domain_errors
def status(ref: str, status: str, reason: str | None) -> None:
    """Change the status of reader REF."""
    request = StatusChangeIn.model_validate({"status": status, "reason": reason})
    ctx = context()
    with ctx.transaction() as session:
        reader = readers.change_status(session, ctx, find_reader(session, ref), request,
                                       actor=Actor.cli())
        click.echo(f"{reader.id} is now {reader.status}")
