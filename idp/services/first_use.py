"""Just-in-time provisioning on a reader's first use of a member library.

At the first single sign-on to one of the library's clients, or the first online
gate verification there, the library's local patron is found (back-link, then
matching rules) or created and linked, so the ``reader_card`` claims and the gate's
answer carry the library's own barcode at once. A library that is down leaves the
link pending for the relay; sign-in and admission never fail because of it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..models import Library, LibraryAdapterConfig, LinkState, Reader
from . import outbox
from .actor import Actor
from .provisioning import ensure_link_row, get_link, provision


def provision_on_first_use(session: Session, ctx: Context, reader: Reader,
                           library: Library, *, actor: Actor) -> None:
    """Link ``reader`` at ``library`` if the library has an adapter configured.

    While the operator has the library offline or its circuit breaker is open,
    the library is not contacted: the link waits for the relay instead.
    """
    config = session.scalar(
        select(LibraryAdapterConfig).where(LibraryAdapterConfig.library_id == library.id)
    )
    if config is None:
        return
    link = get_link(session, reader.id, library.id)
    if link is not None and link.state in (LinkState.LINKED, LinkState.CONFLICT,
                                           LinkState.PENDING, LinkState.UNLINKED):
        return  # done, waiting for the relay, or left to staff
    now = ctx.now()
    if config.offline or (config.breaker_open_until and config.breaker_open_until > now):
        ensure_link_row(session, reader, library, now)
        outbox.add_item(session, library.id, reader.id, "link.provision", now)
        return
    provision(session, ctx, reader, library, actor=actor)
