"""What a refused OAuth request is told: an RFC error code with a description.
Input Authlib failed on with a server error is refused here first: HTTP Basic
client credentials that cannot be read, and parameters it quotes in its error
descriptions holding characters an error description may not."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError

#: Said when the code's raiser gave no description (RFC 6749 5.2, RFC 7009 2.2.1,
#: RFC 8628 3.5, RFC 6750 3.1).
DESCRIPTIONS = {
    "invalid_request": "the request is missing a required parameter, repeats one, "
                       "or is otherwise malformed",
    "invalid_client": "client authentication failed: unknown client, wrong secret, or "
                      "an authentication method this client may not use",
    "invalid_grant": "the code, refresh token or device code is invalid, expired, "
                     "already used, or issued to another client",
    "unauthorized_client": "this client may not use this grant type",
    "unsupported_grant_type": "the grant type is not supported",
    "unsupported_response_type": "the response type is not supported",
    "unsupported_token_type": "the token type hint is not supported",
    "invalid_scope": "the scope is unknown or not allowed for this client",
    "access_denied": "the reader denied the request",
    "expired_token": "the device code has expired",
    "invalid_token": "the access token is invalid, expired or revoked",
    "insufficient_scope": "the access token lacks the scope this request needs",
}


class NoBearerToken(OAuth2Error):  # type: ignore[misc]
    """RFC 6750 3.1: a request to a protected resource without a bearer token (none,
    or another scheme) gets a challenge and, as the RFC asks, no error code."""

    error = None
    status_code = 401

    def get_body(self) -> list[tuple[str, str]]:
        return []

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("WWW-Authenticate", 'Bearer realm="readerpass"')]


def describe(error: OAuth2Error) -> OAuth2Error:
    """``error``, with the standard description of its code if it had none."""
    if error.error and not error.description:
        error.description = DESCRIPTIONS.get(error.error, "the request was refused")
    return error


def check_basic_credentials(headers: Any) -> None:
    """Refuse an ``Authorization`` header that is not ``scheme credentials``, or whose
    Basic credentials are not UTF-8 text in base64 (RFC 7617 2), before Authlib
    reads it."""
    value = headers.get("Authorization")
    if value is None:
        return
    parts = value.split(None, 1)
    if " " in value and len(parts) != 2:
        raise _malformed("the Authorization header is not 'scheme credentials'")
    if len(parts) != 2 or parts[0].lower() != "basic":
        return
    try:
        base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _malformed("the HTTP Basic credentials are not base64-encoded UTF-8 "
                         "'client_id:client_secret'") from None


def _malformed(description: str) -> InvalidClientError:
    return InvalidClientError(description=description, status_code=401)


#: Parameters Authlib quotes in error descriptions, which RFC 6749 (4.1.2.1) limits
#: to %x20-21 / %x23-5B / %x5D-7E; with others it raised ValueError.
QUOTED = ("response_type", "redirect_uri")


def check_quoted_parameters(values: Any) -> None:
    """Refuse (as not redirectable: nothing is verified yet) an authorization
    request whose quoted parameters hold characters OAuth does not allow there."""
    for name in QUOTED:
        value = values.get(name)
        if isinstance(value, str) and invalid_error_characters(value):
            raise InvalidRequestError(f"the {name} parameter holds characters outside "
                                      "printable ASCII (or a quote or backslash)")
