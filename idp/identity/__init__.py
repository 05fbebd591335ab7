"""Identity documents and contact numbers: validation and canonical forms.

Resident identity numbers follow GB 11643-1999 (check character ISO 7064 MOD 11-2,
regions GB/T 2260); mobiles are stored in E.164 form.
"""

from idp.identity.documents import (
    DocumentType,
    NormalisedDocument,
    mask_document_number,
    normalise_document,
)
from idp.identity.phone import mask_mobile, normalise_mobile
from idp.identity.resident_id import (
    ResidentId,
    check_digit,
    parse_resident_id,
    upgrade_15_to_18,
)

__all__ = [
    "DocumentType",
    "NormalisedDocument",
    "ResidentId",
    "check_digit",
    "mask_document_number",
    "mask_mobile",
    "normalise_document",
    "normalise_mobile",
    "parse_resident_id",
    "upgrade_15_to_18",
]
