"""The service side of reader cards: keys, cards and their lifecycle, status-list
publication, token issuance, online verification, the card page and gate scan logs.

The card format and all cryptography live in the pure :mod:`cards` library; this
package stores, publishes and serves (STYLE 1: pure core, thin edges).
"""

from __future__ import annotations

from flask import Flask

from ..context import Context


def init_app(app: Flask, ctx: Context) -> None:
    from ..oidc.runtime import EXTENSION as OIDC
    from . import views_documents, views_gate, views_page, views_reader, views_staff
    from .quick import QuickVerify
    from .runtime import EXTENSION, CardRuntime

    runtime = app.extensions[EXTENSION] = CardRuntime(ctx)
    # A revocation or a changed client committed here ends cached gate tokens at once.
    app.extensions[OIDC].cache.on_client_change(runtime.gates.clear)
    csrf = app.extensions["csrf"]
    # Bearer tokens or no authentication at all: no cookies to forge, so no CSRF.
    for blueprint in (views_documents.bp, views_gate.bp, views_reader.bp, views_staff.bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(views_page.bp)
    app.wsgi_app = QuickVerify(app.wsgi_app, app, runtime)  # type: ignore[method-assign]
