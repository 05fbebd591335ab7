"""The one place that maps a province reader to a member library's local patron.

The link table lives on the adapters branch; until it is merged no library has a
link, so there is no local barcode to return.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def local_barcode(session: Session, reader_id: str, library_code: str) -> str | None:
    """The reader's local patron barcode at ``library_code``, or None without a link."""
    return None
