"""Scopes the provider knows and the claims each one releases (OIDC Core 5.4)."""

from __future__ import annotations

SCOPES = ("openid", "profile", "phone", "reader_card")

CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "family_name", "given_name"),
    "phone": ("phone_number", "phone_number_verified"),
    "reader_card": ("card_number", "local_barcode", "home_library", "category",
                    "card_status", "card_expires_on", "assurance_level"),
}

DESCRIPTIONS = {
    "openid": "know that it is you (a pseudonymous identifier for this library)",
    "profile": "your name",
    "phone": "your mobile number",
    "reader_card": "your reader card: number, home library, category, status and expiry",
}


def claims_supported() -> list[str]:
    names = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "at_hash"]
    for claims in CLAIMS.values():
        names.extend(claims)
    return names
