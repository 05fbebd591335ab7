"""One card runtime per app: signed-document cache, replay cache, rate limiter and
the configuration document (reached through the app, not a global)."""

from __future__ import annotations

from flask import current_app

from cards import (
    WELL_KNOWN_PATH,
    MemoryReplayCache,
    ReaderCardConfiguration,
    RedisReplayCache,
    ReplayCache,
)

from ..context import Context
from ..oidc.ratelimit import RateLimiter, make_limiter
from .documents import Documents
from .issuance import Signers

EXTENSION = "readerpass.cards"


class CardRuntime:
    def __init__(self, ctx: Context, *, limiter: RateLimiter | None = None,
                 replay: ReplayCache | None = None):
        self.ctx = ctx
        self.documents = Documents(ctx)
        self.signers = Signers()
        redis_url = ctx.settings.redis.url
        self.limiter = limiter or make_limiter(redis_url)
        self.replay: ReplayCache = replay or (
            RedisReplayCache.from_url(redis_url, prefix="readerpass:card-replay:")
            if redis_url else MemoryReplayCache())
        self.configuration = configuration(ctx)
        self.configuration_body = self.configuration.to_bytes()


def configuration(ctx: Context) -> ReaderCardConfiguration:
    """``/.well-known/reader-card-configuration`` (cards/FORMAT.md §9)."""
    base = ctx.settings.server.public_url
    return ReaderCardConfiguration(
        issuer=base,
        trust_list_uri=f"{base}/cards/trust-list",
        status_list_uri=f"{base}/cards/status-list",
        status_list_delta_uri=f"{base}/cards/status-list/delta",
        verification_endpoint=f"{base}/cards/verify",
        clock_skew_seconds=ctx.settings.cards.clock_skew_seconds,
        status_list_max_age_seconds=ctx.settings.cards.max_age_seconds,
    )


def runtime() -> CardRuntime:
    found: CardRuntime = current_app.extensions[EXTENSION]
    return found


__all__ = ["EXTENSION", "WELL_KNOWN_PATH", "CardRuntime", "configuration", "runtime"]
