"""SQLAlchemy models of the identity database."""

from .audit import AuditEvent
from .base import Base
from .library import Library, LibraryKind
from .reader import Assurance, Category, IdentityDocument, MobileVerification, Reader, Status
from .staff import StaffToken

__all__ = [
    "Assurance",
    "AuditEvent",
    "Base",
    "Category",
    "IdentityDocument",
    "Library",
    "LibraryKind",
    "MobileVerification",
    "Reader",
    "StaffToken",
    "Status",
]
