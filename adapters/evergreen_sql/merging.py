"""Evergreen's patron merge (``actor.usr_merge(src, dest, del_addrs, del_cards,
deactivate_cards)``), on the tables this schema has, called as the staff
client's merge does with cards kept but deactivated.

For each source user, as ``actor.usr_merge`` does: its primary card pointer is
cleared, its cards move to the kept user inactive (so an old barcode still names
the kept patron), its standing penalties move, and its settings move except
those the kept user already has (``actor.usr_merge_rows``: the kept user's
create key wins); then ``actor.usr_delete`` makes it inactive and soft-deleted
with a purged user name. Evergreen's ``actor.usr`` has no "merged into" column,
so a later look-up sees only a deleted user. The identification field pair that
holds the back-link is ours to keep: the kept user keeps its own, or takes the
source's when it has none; the source's is cleared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, delete, func, select, update

from adapters.evergreen_sql.schema import card, usr, usr_setting, usr_standing_penalty


def fold(conn: Connection, kept: int, source: int, link: Column[str],
         link_type: Column[int], takes: tuple[str, int] | None) -> None:
    """Merge ``source`` into ``kept``; ``takes``: the back-link the kept user
    takes from the source, if any."""
    conn.execute(update(usr).where(usr.c.id == source).values(card=None))
    conn.execute(update(card).where(card.c.usr == source).values(active=False))
    conn.execute(update(card).where(card.c.usr == source).values(usr=kept))
    conn.execute(update(usr_standing_penalty).where(usr_standing_penalty.c.usr == source)
                 .values(usr=kept))
    kept_names = select(usr_setting.c.name).where(usr_setting.c.usr == kept)
    conn.execute(delete(usr_setting).where(usr_setting.c.usr == source,
                                           usr_setting.c.name.in_(kept_names)))
    conn.execute(update(usr_setting).where(usr_setting.c.usr == source).values(usr=kept))
    conn.execute(update(usr).where(usr.c.id == source).values({
        usr.c.active: False, usr.c.deleted: True, usr.c.card: None, link: None,
        usr.c.usrname: func.concat(usr.c.id, "-PURGED-", func.now()),
        usr.c.last_update_time: func.clock_timestamp(),
    }))
    values: dict[Any, Any] = {usr.c.last_update_time: func.clock_timestamp()}
    if takes is not None:
        values.update({link: takes[0], link_type: takes[1]})
    conn.execute(update(usr).where(usr.c.id == kept).values(values))
