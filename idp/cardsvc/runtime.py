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
from cards.jws import strong_etag

from ..context import Context
from ..direct_read import DirectRead
from ..oidc.ratelimit import MemoryRateLimiter, RateLimiter, make_limiter
from .auth import GateTokens
from .documents import Documents
from .issuance import Signers
from .verification import ADMISSION

EXTENSION = "readerpass.cards"


class CardRuntime:
    def __init__(self, ctx: Context, *, limiter: RateLimiter | None = None,
                 replay: ReplayCache | None = None):
        self.ctx = ctx
        self.documents = Documents(ctx)
        self.signers = Signers()
        self.gates = GateTokens(ctx.settings.cards.gate_token_cache_seconds)
        self.admission = DirectRead(ctx.reads, ADMISSION)
        redis_url = ctx.settings.redis.url
        self.limiter = limiter or make_limiter(redis_url)
        # The verification limit guards against a runaway gate; counting it in-process
        # (per worker) saves a Redis round trip on the hottest endpoint.
        self.verify_limiter: RateLimiter = limiter or MemoryRateLimiter()
        self.replay: ReplayCache = replay or (
            RedisReplayCache.from_url(redis_url, prefix="readerpass:card-replay:")
            if redis_url else MemoryReplayCache())
        self.configuration = configuration(ctx)
        self.configuration_body = self.configuration.to_bytes()
        self.configuration_etag = strong_etag(self.configuration_body)


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
        anchor_transitions_uri=f"{base}/cards/anchor-transitions",
    )


def runtime() -> CardRuntime:
    found: CardRuntime = current_app.extensions[EXTENSION]
    return found


__all__ = ["EXTENSION", "WELL_KNOWN_PATH", "CardRuntime", "configuration", "runtime"]
