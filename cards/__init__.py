"""ReaderPass reader cards: token format v1, signing, offline verification, trust list,
status (lost-card) list, replay caches, gate bundle and QR rendering.

A pure library: it imports neither Flask nor SQLAlchemy, so a gate device can run it
alone. The byte-level format is specified in ``cards/FORMAT.md`` (shipped as package data).
"""

from __future__ import annotations

from cards.bundle import GateBundle, check_fresh, load_bundle, save_bundle
from cards.configuration import WELL_KNOWN_PATH, ReaderCardConfiguration
from cards.errors import (
    BundleError,
    CardError,
    ConfigurationError,
    DeltaMismatch,
    InvalidKey,
    MalformedToken,
    QRCapacityError,
    SignedDocumentError,
    StaleBundle,
    SyncError,
    TokenFieldError,
)
from cards.keys import (
    AnchorKey,
    CardKey,
    PinnedAnchors,
    key_id,
    public_key_from_jwk,
    public_key_from_raw,
    public_key_to_jwk,
    public_key_to_raw,
)
from cards.qr import qr_version, render_png, render_svg
from cards.replay import MemoryReplayCache, RedisReplayCache, ReplayCache
from cards.signing import IssuedToken, TokenSigner, sign_batch, sign_token
from cards.status_documents import (
    apply_status_delta,
    load_status_list,
    sign_status_delta,
    sign_status_list,
    snapshot,
    status_etag,
)
from cards.status_list import StatusChanges, StatusList, StatusListError, diff
from cards.sync import (
    Fetched,
    NotModified,
    Synced,
    fetch_configuration,
    http_get,
    sync_bundle,
)
from cards.token import (
    FORMAT_VERSION,
    TEXT_LENGTH,
    TEXT_PREFIX,
    Token,
    decode_token,
    new_serial,
    new_serials,
    serial_from_text,
    serial_to_text,
)
from cards.trust_list import TrustedKey, TrustList, load_trust_list, sign_trust_list
from cards.verify import DEFAULT_SKEW, Reason, Verdict, verify

__all__ = [
    "DEFAULT_SKEW",
    "FORMAT_VERSION",
    "TEXT_LENGTH",
    "TEXT_PREFIX",
    "WELL_KNOWN_PATH",
    "AnchorKey",
    "BundleError",
    "CardError",
    "CardKey",
    "ConfigurationError",
    "DeltaMismatch",
    "Fetched",
    "GateBundle",
    "InvalidKey",
    "IssuedToken",
    "MalformedToken",
    "MemoryReplayCache",
    "NotModified",
    "PinnedAnchors",
    "QRCapacityError",
    "ReaderCardConfiguration",
    "Reason",
    "RedisReplayCache",
    "ReplayCache",
    "SignedDocumentError",
    "StaleBundle",
    "StatusChanges",
    "StatusList",
    "StatusListError",
    "SyncError",
    "Synced",
    "Token",
    "TokenFieldError",
    "TokenSigner",
    "TrustList",
    "TrustedKey",
    "Verdict",
    "apply_status_delta",
    "check_fresh",
    "decode_token",
    "diff",
    "fetch_configuration",
    "http_get",
    "key_id",
    "load_bundle",
    "load_status_list",
    "load_trust_list",
    "new_serial",
    "new_serials",
    "public_key_from_jwk",
    "public_key_from_raw",
    "public_key_to_jwk",
    "public_key_to_raw",
    "qr_version",
    "render_png",
    "render_svg",
    "save_bundle",
    "serial_from_text",
    "serial_to_text",
    "sign_batch",
    "sign_status_delta",
    "sign_status_list",
    "sign_token",
    "sign_trust_list",
    "snapshot",
    "status_etag",
    "sync_bundle",
    "verify",
]
