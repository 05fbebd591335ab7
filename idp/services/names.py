"""Reader names as written, and the normalised form used for prefix search."""

from __future__ import annotations

import unicodedata

from ..errors import InvalidInput


def search_name(family_name: str, given_name: str) -> str:
    """NFKC, case-folded, without spaces: '张 伟' and '张伟' search alike."""
    joined = unicodedata.normalize("NFKC", family_name + given_name)
    return "".join(joined.split()).casefold()


def check_name(value: str, field: str) -> str:
    """Names are kept as written, but control and invisible characters are refused."""
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise InvalidInput("must not contain control or invisible characters", field=field)
    return value
