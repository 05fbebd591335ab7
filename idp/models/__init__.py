"""SQLAlchemy models of the identity database."""

from .audit import AuditEvent
from .base import Base
from .cards import (
    Card,
    CardKeyRole,
    CardKeyRow,
    CardScan,
    CardState,
    CardStatusHead,
    CardStatusVersion,
)
from .duplicates import (
    DuplicatePair,
    DuplicateScan,
    KeyKind,
    MatchKey,
    MergeState,
    PairState,
    ReaderMerge,
)
from .importing import ImportedRow, ImportIssue, ImportRun
from .library import Library, LibraryKind
from .links import LibraryAdapterConfig, LinkMethod, LinkState, ReaderLink
from .oauth import (
    AuthorizationCode,
    Consent,
    DeviceCode,
    KeyState,
    LoginSession,
    LogoutDelivery,
    OAuthClient,
    RefreshToken,
    RevokedAccessToken,
    SessionClient,
    SigningKey,
)
from .outbox import OutboxItem, OutboxState
from .reader import Assurance, Category, IdentityDocument, MobileVerification, Reader, Status
from .staff import StaffToken

__all__ = [
    "Assurance",
    "AuditEvent",
    "AuthorizationCode",
    "Base",
    "Card",
    "CardKeyRole",
    "CardKeyRow",
    "CardScan",
    "CardState",
    "CardStatusHead",
    "CardStatusVersion",
    "Category",
    "Consent",
    "DeviceCode",
    "DuplicatePair",
    "DuplicateScan",
    "IdentityDocument",
    "ImportIssue",
    "ImportRun",
    "ImportedRow",
    "KeyKind",
    "KeyState",
    "Library",
    "LibraryAdapterConfig",
    "LibraryKind",
    "LinkMethod",
    "LinkState",
    "LoginSession",
    "LogoutDelivery",
    "MatchKey",
    "MergeState",
    "MobileVerification",
    "OAuthClient",
    "OutboxItem",
    "OutboxState",
    "PairState",
    "Reader",
    "ReaderLink",
    "ReaderMerge",
    "RefreshToken",
    "RevokedAccessToken",
    "SessionClient",
    "SigningKey",
    "StaffToken",
    "Status",
]
