"""The running app's provider (reached through Flask's app context, not a global)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from .provider import Provider

EXTENSION = "readerpass.oidc"


def provider() -> Provider:
    found: Provider = current_app.extensions[EXTENSION]
    return found
