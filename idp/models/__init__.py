"""SQLAlchemy models of the identity database."""

from .audit import AuditEvent
from .base import Base
from .importing import ImportIssue, ImportRun
from .library import Library, LibraryKind
from .links import LibraryAdapterConfig, LinkMethod, LinkState, ReaderLink
from .outbox import OutboxItem, OutboxState
from .reader import Assurance, Category, IdentityDocument, MobileVerification, Reader, Status
from .staff import StaffToken

__all__ = [
    "Assurance",
    "AuditEvent",
    "Base",
    "Category",
    "IdentityDocument",
    "ImportIssue",
    "ImportRun",
    "Library",
    "LibraryAdapterConfig",
    "LibraryKind",
    "LinkMethod",
    "LinkState",
    "MobileVerification",
    "OutboxItem",
    "OutboxState",
    "Reader",
    "ReaderLink",
    "StaffToken",
    "Status",
]
