"""How an import recognises a row it has already dealt with.

Every row an import handles is recorded per library under a *row key* (table
``import_rows``), so running an import again, resuming it, or importing a later
file with the same patrons changes nothing that is done. The key is a keyed hash
(HMAC-SHA256 under ``security.hash_key``, purpose ``import-row``), never a plain
value, and is the first of:

1. ``local``: the patron's local id in the library system, when the row has one;
2. ``document``: the normalised identity document (type, country, number), when
   the row has a valid one;
3. ``person``: the name as searched (NFKC, case-folded, no spaces), birth date
   and E.164 mobile (empty when none).

A row that cannot become a reader (no family name or birth date) is keyed by its
whole content instead (``row``: every column as read, local id included), so the
same unusable row is recorded once, and a corrected version of it is imported.
"""

from __future__ import annotations

import json

from ..context import Context
from ..services.names import search_name
from .prepare import Draft

PURPOSE = "import-row"


def row_key(ctx: Context, draft: Draft) -> str:
    row = draft.row
    if draft.fatal:
        content = {**row.fields, "backlink": row.backlink or ""}
        value = "row\x00" + json.dumps(content, ensure_ascii=False, sort_keys=True)
    elif row.get("local_id"):
        value = "local\x00" + row.get("local_id")
    elif draft.document is not None:
        value = "document\x00" + draft.document.match_key
    else:
        assert draft.birth_date is not None  # not fatal
        value = "\x00".join(("person", search_name(draft.family_name, draft.given_name),
                             draft.birth_date.isoformat(), draft.mobile or ""))
    return ctx.hasher.digest(PURPOSE, value)
