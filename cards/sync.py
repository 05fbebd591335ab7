"""``gate sync``: download the configuration, trust list and status list over HTTP(S).

Uses urllib only, so a gate needs no extra HTTP client. The status list is fetched as a
delta when the gate already holds a list and the service can produce one; any delta
problem falls back to the full list. The delta request carries the held list's entity
tag, so a gate that is already current gets a bodiless 304 (FORMAT.md §7 "No change").
The configuration and the trust list are asked for with the strong entity tags the
gate stored with them (FORMAT.md §6, §9), and a 304 keeps the files held.
A 304 is not signed and never makes data fresher: the gate keeps the statement it
holds, whose signed ``iat`` keeps ageing, and it believes a 304 for a trust list or
status list only while that ``iat`` is within the configuration's maximum age.
Versions never go backwards: a replayed older trust list or status list from a
compromised mirror is refused (rollback protection, as TUF does for its metadata).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlencode, urlsplit

from cards.anchor_transition import (
    AnchorTransition,
    follow_transitions,
    parse_transition_list,
)
from cards.bundle import GateBundle, is_entity_tag, load_etags, save_bundle, save_etags
from cards.configuration import WELL_KNOWN_PATH, ReaderCardConfiguration
from cards.errors import CardError, SyncError
from cards.keys import PinnedAnchors
from cards.status_documents import apply_status_delta, load_status_list, status_etag
from cards.status_list import StatusList
from cards.trust_list import TrustList, load_trust_list

MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 15.0


#: How the status list was brought up to date: downloaded whole, patched with a delta,
#: or confirmed current by a 304.
StatusDownload = Literal["full", "delta", "unchanged"]
#: How the configuration or the trust list was brought up to date.
DocumentDownload = Literal["full", "unchanged"]


@dataclass(frozen=True)
class Fetched:
    """A response body and its entity tag (``ETag``), if the service sent a valid one."""

    body: bytes
    etag: str | None = None


class Fetch(Protocol):
    """GET a URL; with ``if_none_match``, raise :class:`NotModified` when the service
    answers 304 to that entity tag."""

    def __call__(self, url: str, *, if_none_match: str | None = None) -> Fetched: ...


class DeltaUnavailable(SyncError):
    """The service has no delta from our version (e.g. HTTP 404/410); fetch the full list."""

    code = "delta_unavailable"


class NotModified(SyncError):
    """HTTP 304 to a conditional request: nothing newer than the entity tag sent."""

    code = "not_modified"


@dataclass(frozen=True)
class Synced:
    """The stored bundle and how its status list was obtained."""

    bundle: GateBundle
    status_download: StatusDownload
    trust_list_download: DocumentDownload = "full"
    configuration_download: DocumentDownload = "full"
    #: The anchors the bundle verifies against: the pinned ones, or their successors
    #: when the service rotated its anchor (then the gate must pin these instead).
    anchors: PinnedAnchors | None = None
    anchor_steps: tuple[AnchorTransition, ...] = ()


def http_get(
    url: str, timeout: float = DEFAULT_TIMEOUT, *, if_none_match: str | None = None
) -> Fetched:
    """GET ``url`` (http or https only): the body, at most MAX_DOWNLOAD_BYTES, and ETag."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SyncError("only http and https URLs are fetched", url=url)
    headers = {"User-Agent": "readerpass-gate"}
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
            etag = response.headers.get("ETag")
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and if_none_match is not None:
            error_type: type[SyncError] = NotModified
        elif exc.code in (404, 410):
            error_type = DeltaUnavailable
        else:
            error_type = SyncError
        exc.close()
        raise error_type(f"HTTP {exc.code} from {url}", url=url, status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise SyncError(f"cannot reach {url}: {exc}", url=url) from exc
    if len(body) > MAX_DOWNLOAD_BYTES:
        raise SyncError(f"{url} sent more than {MAX_DOWNLOAD_BYTES} bytes", url=url)
    return Fetched(body, etag if is_entity_tag(etag) else None)


def _configuration_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN_PATH


def _read_configuration(issuer: str, body: bytes) -> ReaderCardConfiguration:
    configuration = ReaderCardConfiguration.from_bytes(body)
    if configuration.issuer.rstrip("/") != issuer.rstrip("/"):
        raise SyncError("configuration names another issuer", url=_configuration_url(issuer))
    return configuration


def fetch_configuration(issuer: str, fetch: Fetch = http_get) -> ReaderCardConfiguration:
    """The configuration document; its ``issuer`` must be the one we asked (RFC 8414 §3.3)."""
    return _read_configuration(issuer, fetch(_configuration_url(issuer)).body)


def _conditional_configuration(
    issuer: str, fetch: Fetch, held: ReaderCardConfiguration | None, etag: str | None
) -> tuple[ReaderCardConfiguration, str | None, DocumentDownload]:
    """The configuration, or the one held when the service answers 304 to its tag.
    The document is not signed either way (trust comes from the anchor), so a 304 is
    worth as much as a 200 here."""
    url = _configuration_url(issuer)
    if held is not None and etag is not None:
        try:
            got = fetch(url, if_none_match=etag)
        except NotModified:
            return held, etag, "unchanged"
    else:
        got = fetch(url)
    return _read_configuration(issuer, got.body), got.etag, "full"


def _still_current(
    issued_at: int, configuration: ReaderCardConfiguration, now: int
) -> bool:
    """Whether a 304 for a signed document issued at ``issued_at`` is believable: the
    service re-signs its lists long before ``status_list_max_age_seconds`` (FORMAT.md
    §7), so it never answers "no change" for a statement that old. One that does is a
    replayed or misconfigured answer, and the gate downloads the document without a
    condition instead of reporting success."""
    age = now - issued_at
    return -configuration.clock_skew_seconds <= age <= configuration.status_list_max_age_seconds


def _fetch_trust(
    configuration: ReaderCardConfiguration,
    anchors: PinnedAnchors,
    held: TrustList | None,
    etag: str | None,
    fetch: Fetch,
    now: int,
) -> tuple[TrustList, str | None, DocumentDownload]:
    """The trust list; with the tag of the one held, a 304 keeps that one, but only
    while its signed ``iat`` is recent (the status list's rule, FORMAT.md §7)."""
    url = configuration.trust_list_uri
    if held is not None and etag is not None:
        try:
            got = fetch(url, if_none_match=etag)
        except NotModified:
            if _still_current(held.issued_at, configuration, now):
                return held, etag, "unchanged"
            got = fetch(url)  # unconditional: only a signed list may answer this one
    else:
        got = fetch(url)
    if not got.body.isascii():
        raise SyncError("trust list is not ASCII", url=url)
    trust_list = load_trust_list(got.body.decode("ascii"), anchors)
    if trust_list.issuer != configuration.issuer:
        raise SyncError("trust list names another issuer", url=url)
    return trust_list, got.etag, "full"


def _fetch_status(
    configuration: ReaderCardConfiguration,
    anchors: PinnedAnchors,
    current: StatusList | None,
    fetch: Fetch,
    now: int,
) -> tuple[StatusList, StatusDownload]:
    if current is not None:
        separator = "&" if urlsplit(configuration.status_list_delta_uri).query else "?"
        url = (
            configuration.status_list_delta_uri + separator + urlencode({"since": current.version})
        )
        try:
            blob = fetch(url, if_none_match=status_etag(current)).body
            return apply_status_delta(current, blob, anchors), "delta"
        except NotModified:
            if _still_current(current.issued_at, configuration, now):
                return current, "unchanged"
        except CardError:
            pass  # fall back to the full list below; a bad full list still fails loudly
    # Unconditional: only a signed list may answer this one.
    return load_status_list(fetch(configuration.status_list_uri).body, anchors), "full"


def sync_bundle(
    issuer: str,
    directory: Path,
    anchors: PinnedAnchors,
    *,
    now: int,
    current: GateBundle | None = None,
    fetch: Fetch = http_get,
) -> Synced:
    """Download, verify and store a fresh bundle; return it.

    ``current`` is the bundle the gate holds (if any): it enables delta download, the
    "no change" answers (with the entity tags stored in ``directory``) and rollback
    protection; ``now`` (the gate's clock, Unix seconds) decides whether a "no
    change" answer is believable. Raises :class:`SyncError` or the verification
    errors of the documents; the stored bundle is only replaced once everything
    verified.
    """
    etags = load_etags(directory) if current is not None else {}
    configuration, configuration_tag, configuration_how = _conditional_configuration(
        issuer, fetch, current.configuration if current else None, etags.get("configuration"))
    anchors, steps = _follow_anchor(configuration, anchors, fetch)
    # After an anchor rotation the held lists are signed by an anchor no longer pinned:
    # nothing may be kept on a 304, everything is fetched and verified anew.
    held = None if steps else current
    trust_list, trust_tag, trust_how = _fetch_trust(
        configuration, anchors, held.trust_list if held else None,
        etags.get("trust_list"), fetch, now)
    status_list, how = _fetch_status(
        configuration, anchors, held.status_list if held else None, fetch, now
    )
    if current is not None:
        if trust_list.version < current.trust_list.version:
            raise SyncError(
                f"trust list version {trust_list.version} is older than "
                f"{current.trust_list.version}",
                url=configuration.trust_list_uri,
            )
        if status_list.version < current.status_list.version:
            raise SyncError(
                f"status list version {status_list.version} is older than "
                f"{current.status_list.version}",
                url=configuration.status_list_uri,
            )
    bundle = GateBundle(configuration, trust_list, status_list)
    save_bundle(directory, bundle, status_changed=how != "unchanged",
                trust_changed=trust_how != "unchanged",
                configuration_changed=configuration_how != "unchanged")
    save_etags(directory, {"configuration": configuration_tag, "trust_list": trust_tag})
    return Synced(bundle, how, trust_how, configuration_how, anchors, steps)


def _follow_anchor(
    configuration: ReaderCardConfiguration, anchors: PinnedAnchors, fetch: Fetch
) -> tuple[PinnedAnchors, tuple[AnchorTransition, ...]]:
    """The pinned anchors after the service's published transitions (FORMAT.md §11)."""
    url = configuration.anchor_transitions_uri
    if url is None:
        return anchors, ()
    texts = parse_transition_list(fetch(url).body, configuration.issuer)
    followed = follow_transitions(texts, anchors, configuration.issuer)
    return followed.anchors, followed.steps
