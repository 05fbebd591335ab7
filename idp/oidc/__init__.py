"""The OpenID Connect provider, built from Authlib's server classes.

``init_app`` builds one :class:`~idp.oidc.provider.Provider` per app (no module
state) and registers its blueprints.
"""

from __future__ import annotations

from flask import Flask

from ..context import Context


def init_app(app: Flask, ctx: Context) -> None:
    from .provider import Provider

    Provider(ctx).install(app)
