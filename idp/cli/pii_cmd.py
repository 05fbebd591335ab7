"""``readerpass pii rotate``: re-encrypt personal numbers under the newest key."""

from __future__ import annotations

import click

from ..services.actor import Actor
from ..services.pii_rotation import rotate_pii
from .common import context, domain_errors


@click.group("pii")
def command() -> None:
    """Personal data at rest."""


@command.command("rotate")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=500, show_default=True)
@domain_errors
def rotate(batch_size: int) -> None:
    """Re-encrypt document and mobile numbers (also those kept in merge snapshots),
    the private parts of the OIDC, card-signing and trust-anchor keys and the rows
    kept with import issues under the first key of security.pii_keys.

    Afterwards older keys can be removed from the settings.
    """
    ctx = context()
    report = rotate_pii(ctx, actor=Actor.cli(), batch_size=batch_size)
    click.echo(f"re-encrypted {report.documents} document numbers, {report.mobiles} "
               f"mobiles, {report.snapshots} merge snapshots, {report.keys} private keys "
               f"and {report.import_rows} import rows under key {ctx.cipher.current_key_id}")
