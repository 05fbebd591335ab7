"""One provider per app: the Authlib server, keys, token issuer, rate limiter,
the cached bodies of the discovery document and JWKS, the hot-path caches and
the back-channel logout sender."""

from __future__ import annotations

import json
import secrets

from flask import Flask

from ..context import Context
from .cache import HotCache
from .discovery import metadata
from .keyring import Keyring
from .logout_sender import LogoutSender
from .ratelimit import RateLimiter, make_limiter
from .runtime import EXTENSION
from .server import Server
from .tokens import TokenIssuer


class Provider:
    def __init__(self, ctx: Context, *, limiter: RateLimiter | None = None):
        self.ctx = ctx
        self.cache = HotCache()
        self.cache.watch(ctx.sessions)
        self.keyring = Keyring(ctx)
        self.tokens = TokenIssuer(ctx, self.keyring)
        self.logouts = LogoutSender(ctx, self.keyring)
        self.server = Server(ctx, self.tokens, self.cache.clients)
        self.limiter = limiter or make_limiter(ctx.settings.redis.url)
        self.dummy_hash = ctx.passwords.hash(secrets.token_urlsafe(16))
        self.discovery_body = json.dumps(
            metadata(ctx.settings.issuer, ctx.settings.oidc.signing_alg), separators=(",", ":")
        ).encode()

    def install(self, app: Flask) -> None:
        from . import views_device, views_logout, views_pages, views_protocol

        app.extensions[EXTENSION] = self
        app.extensions["csrf"].exempt(views_protocol.bp)  # client-authenticated, no cookies
        app.register_blueprint(views_protocol.bp)
        app.register_blueprint(views_pages.bp)
        app.register_blueprint(views_device.bp)
        # RPs send their logout requests without our CSRF token; the view checks
        # the token itself when the reader confirms.
        app.extensions["csrf"].exempt(views_logout.end_session)
        app.register_blueprint(views_logout.bp)
