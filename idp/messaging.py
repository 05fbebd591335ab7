"""Pluggable senders for messages to readers' mobiles (verification codes).

``outbox`` (the default) appends each message as a JSON line to a local file for
development and demos, and warns that nothing reaches a phone. ``http`` posts to
an SMS gateway configured in ``[messaging]``. Adding a gateway means one class
here and one line in :data:`SENDERS`.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .errors import ReaderPassError
from .settings import Settings

log = logging.getLogger(__name__)


class DeliveryFailed(ReaderPassError):
    """The message could not be handed to the gateway (HTTP 503)."""

    code = "delivery_failed"


class MessageSender(Protocol):
    def send(self, to: str, text: str, *, purpose: str) -> None:
        """Deliver ``text`` to the E.164 number ``to`` or raise DeliveryFailed."""


class OutboxFileSender:
    """Development sender: writes messages to a JSON-lines file, never to a phone."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._warned = False

    def send(self, to: str, text: str, *, purpose: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("messages to readers go to the outbox file %s, not to phones", self.path)
        line = json.dumps({"to": to, "purpose": purpose, "text": text}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise DeliveryFailed(f"cannot write the message outbox: {exc.strerror}") from None


class HttpSmsSender:
    """Posts ``{"to", "text", "purpose"}`` as JSON with a bearer token to a gateway."""

    def __init__(self, url: str, token: str | None, timeout: float):
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, text: str, *, purpose: str) -> None:
        body = json.dumps({"to": to, "text": text, "purpose": purpose}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"the SMS gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryFailed(f"the SMS gateway cannot be reached: {reason}") from None


def _outbox(settings: Settings) -> MessageSender:
    return OutboxFileSender(settings.outbox_path)


def _http(settings: Settings) -> MessageSender:
    config = settings.messaging
    if not config.http_url:
        raise ValueError("messaging.http_url is required when messaging.sender = 'http'")
    token = config.http_token.get_secret_value() if config.http_token else None
    return HttpSmsSender(config.http_url, token, config.http_timeout_seconds)


SENDERS: dict[str, Callable[[Settings], MessageSender]] = {"outbox": _outbox, "http": _http}


def make_sender(settings: Settings) -> MessageSender:
    return SENDERS[settings.messaging.sender](settings)
