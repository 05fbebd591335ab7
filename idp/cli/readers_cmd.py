"""``readerpass readers add|show|list|search|update|status|merge|unmerge|merges``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import InvalidInput
from ..oidc import backchannel, logout
from ..oidc.keyring import Keyring
from ..schemas import ReaderUpdateIn, RegistrationIn, StatusChangeIn
from ..services import merge as merge_service
from ..services import merge_plan, readers, registration
from ..services import unmerge as unmerge_service
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


def _show_plan(plan: dict[str, Any]) -> None:
    survivor, other = plan["survivor"], plan["other"]
    click.echo(f"survivor  {survivor['id']} (card {survivor['card_number']}): {plan['why']}")
    click.echo(f"other     {other['id']} (card {other['card_number']}) becomes a tombstone")
    click.echo("")
    emit([{**row, "conflict": "conflict" if row["conflict"] else ""}
          for row in plan["attributes"]],
         ("attribute", "source", "survivor", "other", "conflict"), as_json=False)
    moving = ", ".join(f"{d['type']} {d['country']}" for d in plan["documents"]) or "none"
    click.echo(f"\ndocuments moving to the survivor: {moving}")
    if plan["wards"]:
        click.echo(f"guardian of {', '.join(plan['wards'])}: moves to the survivor")
    click.echo("")
    emit([{"library": step["library"], "action": step["action"],
           "survivor": _link_cell(step["survivor_state"], step["survivor_local_id"]),
           "other": _link_cell(step["other_state"], step["other_local_id"]),
           "notified": step["notified"]} for step in plan["links"]],
         ("library", "action", "survivor", "other", "notified"), as_json=False)
    pair = plan["pair"]
    if pair is not None:
        click.echo(f"\nduplicate pair {pair['id']} ({pair['state']}, score {pair['score']}, "
                   f"proposed by {pair['proposed_by'] or '-'})")
    if plan["conflicts"]:
        click.echo("\nconflicts:")
        for line in plan["conflicts"]:
            click.echo(f"  {line}")


def _link_cell(state: str | None, local_id: str | None) -> str:
    if state is None:
        return "-"
    return f"{state} {local_id}" if local_id else state


@command.command("merge")
@click.argument("survivor")
@click.argument("other")
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--reason", help="Why these two are one person (kept with the merge).")
@click.option("--pair", "pair_id", type=int, help="The duplicate pair this merge settles.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying.")
@json_option
@domain_errors
def merge(survivor: str, other: str, dry_run: bool, reason: str | None, pair_id: int | None,
          yes: bool, as_json: bool) -> None:
    """Merge reader OTHER into reader SURVIVOR (ids or card numbers).

    Prints the plan first: where each attribute comes from, what moves, what
    conflicts and which libraries hear of it. The survivor must be the reader
    with the stronger assurance, else the older account.
    """
    ctx = context()
    with ctx.transaction() as session:
        plan = merge_plan.plan_merge(session, ctx, survivor, other).to_json()
        if dry_run or not as_json:
            if as_json:
                click.echo(json.dumps(plan, ensure_ascii=False))
            else:
                _show_plan(plan)
        if dry_run:
            session.rollback()
            return
    if not yes and sys.stdin.isatty():
        click.confirm("\nApply this merge?", abort=True)
    with ctx.transaction() as session:
        record = merge_service.apply_merge(session, ctx, survivor, other, actor=Actor.cli(),
                                           reason=reason, pair_id=pair_id)
        view = merge_service.merge_view(record)
        logouts = logout.take_after_commit(session)
    # The other's clients hear of its ended sessions now; what fails is retried by
    # `readerpass oidc deliver-logouts`.
    sent = backchannel.deliver_due(ctx, Keyring(ctx), only=logouts) if logouts else None
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False, default=str))
    else:
        told = ", ".join(view["plan"]["libraries"]) or "none"
        click.echo(f"\nmerged {view['other_id']} into {view['survivor_id']} (merge "
                   f"{view['id']}); libraries told: {told}")
        if sent is not None:
            click.echo(f"back-channel logouts: {sent.delivered} delivered, "
                       f"{len(logouts) - sent.delivered} left for `readerpass oidc "
                       f"deliver-logouts`")


@command.command("unmerge")
@click.argument("merge_id", type=int)
@click.option("--reason", help="Why the merge is undone.")
@domain_errors
def unmerge(merge_id: int, reason: str | None) -> None:
    """Undo merge MERGE_ID: the other reader comes back with a new card."""
    ctx = context()
    with ctx.transaction() as session:
        record = unmerge_service.apply_unmerge(session, ctx, merge_id, actor=Actor.cli(),
                                               reason=reason)
        click.echo(f"restored {record.other_id} from merge {record.id}; "
                   f"{record.survivor_id} keeps its own record")


@command.command("merges")
@click.argument("ref", required=False)
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def merges(ref: str | None, limit: int, as_json: bool) -> None:
    """Merges, newest first; with REF, those reader REF took part in."""
    ctx = context()
    with ctx.transaction() as session:
        reader_id = find_reader(session, ref, follow=False).id if ref else None
        rows = [merge_service.merge_view(r) for r in merge_service.list_merges(
            session, reader_id, limit=limit)]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    emit(rows, ("id", "survivor_id", "other_id", "state", "applied_by", "applied_at",
                "undone_at"), as_json=False)
