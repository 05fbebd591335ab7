"""The service side of reader cards: keys, cards and their lifecycle, status-list
publication, token issuance, online verification, the card page and gate scan logs.

The card format and all cryptography live in the pure :mod:`cards` library; this
package stores, publishes and serves (STYLE 1: pure core, thin edges).
"""

from __future__ import annotations

from flask import Flask

from ..context import Context


def init_app(app: Flask, ctx: Context) -> None:
    from . import views_documents
    from .runtime import EXTENSION, CardRuntime

    app.extensions[EXTENSION] = CardRuntime(ctx)
    csrf = app.extensions["csrf"]
    for blueprint in (views_documents.bp,):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
