"""``readerpass gate sync|verify``: the offline gate kit.

A gate (entrance or self-check machine) syncs the province's signed trust list
and status list while it has a network, and verifies scanned reader-card texts
with no network at all. It pins the province trust anchor's public key given by
the operator; nothing it downloads is trusted unless that anchor signed it.
When the province rotates its anchor, `gate sync` follows the transition signed by
the pinned anchor and pins the new one in its place (FORMAT.md §11); a transition
the pinned anchor did not sign stops the sync. These commands need no settings file
and no database.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from cards import (
    CardError,
    MemoryReplayCache,
    PinnedAnchors,
    RedisReplayCache,
    ReplayCache,
    load_bundle,
    public_key_from_jwk,
    public_key_to_jwk,
    sync_bundle,
    verify,
)
from cards.anchor_transition import describe
from cards.verify import Verdict

from .common import BadCommandInput, CommandFailed

ANCHORS_FILE = "anchors.json"
DEFAULT_MAX_AGE = 24 * 3600


@click.group("gate")
def command() -> None:
    """Offline verification of reader cards at a library gate."""


def _read_anchor_file(path: Path) -> list[dict[str, Any]]:
    """A JWK, a list of JWKs or a JWK Set ({"keys": [...]}) of P-256 public keys."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadCommandInput(f"cannot read the anchor file {path}: {exc}") from None
    keys = data.get("keys", data) if isinstance(data, dict) and "keys" in data else data
    keys = keys if isinstance(keys, list) else [keys]
    try:
        return [public_key_to_jwk(public_key_from_jwk(jwk)) for jwk in keys]
    except (CardError, AttributeError, TypeError) as exc:
        raise BadCommandInput(f"{path} holds no valid P-256 public key JWK: {exc}") from None


def _write_anchors(directory: Path, keys: list[dict[str, Any]]) -> None:
    """Replace the pinned anchors (write a temporary file, then rename over)."""
    temporary = directory / f".{ANCHORS_FILE}.new"
    temporary.write_text(json.dumps({"keys": keys}, indent=1), encoding="utf-8")
    os.replace(temporary, directory / ANCHORS_FILE)


def _anchors(directory: Path) -> PinnedAnchors:
    path = directory / ANCHORS_FILE
    if not path.exists():
        raise BadCommandInput(
            f"no pinned trust anchor in {directory}: run `readerpass gate sync --anchor FILE` "
            "first with the anchor key published by the province"
        )
    return PinnedAnchors.from_keys(public_key_from_jwk(jwk) for jwk in
                                   _read_anchor_file(path))


@command.command("sync")
@click.option("--url", required=True, help="The ReaderPass service (issuer) URL.")
@click.option("--dir", "directory", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="The gate's data folder.")
@click.option("--anchor", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JWK file of the province trust anchor to pin (first sync, or to replace).")
def sync(url: str, directory: Path, anchor: Path | None) -> None:
    """Download and check the card configuration, trust list and status list.

    A gate holding a list gets only the changes since; one holding the current list
    gets a "no change" answer and keeps it ("status_list": "unchanged"); so do the
    configuration and trust list, asked for with the entity tags stored with them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if anchor is not None:
        _write_anchors(directory, _read_anchor_file(anchor))
    anchors = _anchors(directory)
    now = int(time.time())
    try:
        current = load_bundle(directory, anchors, now, max_age=10**9)
    except CardError:
        current = None  # first sync, or data that no longer verifies: fetch in full
    try:
        synced = sync_bundle(url.rstrip("/"), directory, anchors, now=now, current=current)
    except CardError as exc:
        raise CommandFailed(f"sync failed: {exc.message}") from None
    bundle = synced.bundle
    if synced.anchor_steps and synced.anchors is not None:
        # Only now, with documents signed by the new anchor verified and stored.
        _write_anchors(directory, [public_key_to_jwk(key) for key in
                                   synced.anchors.keys.values()])
    click.echo(json.dumps({
        "issuer": bundle.configuration.issuer,
        "trust_list_version": bundle.trust_list.version,
        "status_list_version": bundle.status_list.version,
        "status_list": synced.status_download,
        "trust_list": synced.trust_list_download,
        "configuration": synced.configuration_download,
        "status_list_issued_at": bundle.status_list.issued_at,
        "revoked_cards": bundle.status_list.count(),
        "anchors": sorted(synced.anchors or anchors),
        "anchor_rotations": describe(synced.anchor_steps),
    }))


def _verdict_json(verdict: Verdict) -> str:
    return json.dumps({
        "ok": verdict.ok,
        "reason": verdict.reason.value,
        "detail": verdict.detail,
        "serial": verdict.serial_text,
        "status_index": verdict.status_index,
        "key_id": verdict.key_id,
        "issued_at": verdict.issued_at,
        "expires_at": verdict.expires_at,
    })


@command.command("verify")
@click.argument("text", required=False)
@click.option("--dir", "directory", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The gate's data folder (from `gate sync`).")
@click.option("--max-age", type=click.IntRange(60), default=DEFAULT_MAX_AGE, show_default=True,
              envvar="READERPASS_GATE_MAX_AGE",
              help="Refuse to run on trust or status data signed longer ago (seconds).")
@click.option("--skew", type=click.IntRange(0, 600), default=30, show_default=True,
              help="Clock difference tolerated between phone and gate (seconds).")
@click.option("--redis", "redis_url", envvar="READERPASS_GATE_REDIS_URL",
              help="Share the replay cache with the library's other gates.")
def verify_cmd(text: str | None, directory: Path, max_age: int, skew: int,
               redis_url: str | None) -> None:
    """Verify TEXT, or one scanned text per line of standard input, offline.

    Prints one JSON verdict per text. With TEXT, the exit status is 0 only if it
    was accepted.
    """
    anchors = _anchors(directory)
    try:
        bundle = load_bundle(directory, anchors, int(time.time()), max_age, skew=skew)
    except CardError as exc:
        raise CommandFailed(f"refusing to verify: {exc.message}") from None
    cache: ReplayCache = RedisReplayCache.from_url(redis_url) if redis_url else (
        MemoryReplayCache())

    def check(scanned: str) -> Verdict:
        return verify(scanned, bundle.trust_list, bundle.status_list, cache,
                      int(time.time()), skew=skew)

    if text is not None:
        verdict = check(text.strip())
        click.echo(_verdict_json(verdict))
        sys.exit(0 if verdict.ok else 1)
    # Bytes, not the locale's text stream: line noise from a scanner that is not
    # UTF-8 is one malformed verdict (U+FFFD is outside the token alphabet), where a
    # strict decoder (under zh_CN.UTF-8, say) stopped the gate.
    for raw in sys.stdin.buffer:
        scanned = raw.decode("utf-8", "replace").strip("\r\n")
        if scanned:
            click.echo(_verdict_json(check(scanned)))
            sys.stdout.flush()
