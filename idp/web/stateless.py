"""No cookie session where nobody signs in: protocol endpoints and gates
authenticate every request themselves, and public documents need none.

Opening (and then saving) a signed cookie session costs a few percent of such a
request. Flask opens the session before it matches the URL, so the endpoints are
turned into the set of their (fixed) paths once every blueprint is registered.
Their views get Flask's null session, which refuses writes.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

#: Endpoint prefixes (blueprint names) that never use the cookie session.
STATELESS = ("oidc.", "cards_gate.", "cards_documents.", "health.")


class NoSessionOn(SecureCookieSessionInterface):
    def __init__(self, paths: set[str]):
        self.paths = frozenset(paths)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path in self.paths:
            return None
        return super().open_session(app, request)


def install(app: Flask, prefixes: tuple[str, ...] = STATELESS) -> None:
    """Call after the last blueprint is registered."""
    app.session_interface = NoSessionOn({
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(prefixes) and not rule.arguments})
