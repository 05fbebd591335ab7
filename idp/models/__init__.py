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
from .library import Library, LibraryKind
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
    "IdentityDocument",
    "KeyState",
    "Library",
    "LibraryKind",
    "LoginSession",
    "LogoutDelivery",
    "MobileVerification",
    "OAuthClient",
    "Reader",
    "RefreshToken",
    "RevokedAccessToken",
    "SessionClient",
    "SigningKey",
    "StaffToken",
    "Status",
]
