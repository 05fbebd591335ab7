"""The rules every backend's ``merge`` follows (capability ``MERGE``).

``merge([kept, other, ...])`` folds the others into the first patron, as the
library system's own patron merge does: their loans, holds, fines and blocks
move to the kept patron and they disappear (deleted, or soft-deleted and so
invisible to ``get``, ``find`` and listing).

* The kept patron keeps its own back-link; one without a back-link takes the
  others' when they name one reader, and a :class:`Conflict` (``reader_id``) is
  raised, changing nothing, when they name several. The others' back-links
  disappear with them.
* Idempotent: an "other" the library system already removed (merged or deleted
  by an earlier, maybe interrupted, call) is skipped, so a retried merge returns
  the kept patron unchanged.
* Bad input changes nothing: fewer than two distinct ids is :class:`Rejected`
  (``local_ids``); a kept patron that does not exist, or an other the library
  never had, is :class:`PatronNotFound`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from adapters.errors import Conflict, Rejected


def split_ids(local_ids: Sequence[str]) -> tuple[str, list[str]]:
    """(kept, others), or Rejected unless there are two or more distinct ids."""
    if len(local_ids) < 2 or len(set(local_ids)) != len(local_ids):
        raise Rejected("merge needs two or more distinct patrons", field="local_ids")
    return local_ids[0], list(local_ids[1:])


def kept_backlink(kept: str | None, others: Iterable[str | None]) -> str | None:
    """The back-link the kept patron ends with."""
    if kept is not None:
        return kept
    named = {link for link in others if link is not None}
    if len(named) > 1:
        raise Conflict("the patrons to merge are linked to different readers and the kept "
                       "one to none", field="reader_id")
    return next(iter(named), None)
