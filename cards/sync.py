"""``gate sync``: download the configuration, trust list and status list over HTTP(S).

Uses urllib only, so a gate needs no extra HTTP client. The status list is fetched as a
delta when the gate already holds a list and the service can produce one; any delta
problem falls back to the full list. The delta request carries the held list's entity
tag, so a gate that is already current gets a bodiless 304 (FORMAT.md §7 "No change").
A 304 is not signed and never makes data fresher: the gate keeps the statement it
holds, whose signed ``iat`` keeps ageing. Versions never go backwards: a replayed older
trust list or status list from a compromised mirror is refused (rollback protection,
as TUF does for its metadata).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlencode, urlsplit

from cards.bundle import GateBundle, save_bundle
from cards.configuration import WELL_KNOWN_PATH, ReaderCardConfiguration
from cards.errors import CardError, SyncError
from cards.keys import PinnedAnchors
from cards.status_documents import apply_status_delta, load_status_list, status_etag
from cards.status_list import StatusList
from cards.trust_list import load_trust_list

MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 15.0


#: How the status list was brought up to date: downloaded whole, patched with a delta,
#: or confirmed current by a 304.
StatusDownload = Literal["full", "delta", "unchanged"]


class Fetch(Protocol):
    """GET a URL and return its body; with ``if_none_match``, raise
    :class:`NotModified` when the service answers 304 to that entity tag."""

    def __call__(self, url: str, *, if_none_match: str | None = None) -> bytes: ...


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


def http_get(
    url: str, timeout: float = DEFAULT_TIMEOUT, *, if_none_match: str | None = None
) -> bytes:
    """GET ``url`` (http or https only) and return the body, at most MAX_DOWNLOAD_BYTES."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SyncError("only http and https URLs are fetched", url=url)
    headers = {"User-Agent": "readerpass-gate"}
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
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
    return body


def fetch_configuration(issuer: str, fetch: Fetch = http_get) -> ReaderCardConfiguration:
    """The configuration document; its ``issuer`` must be the one we asked (RFC 8414 §3.3)."""
    url = issuer.rstrip("/") + WELL_KNOWN_PATH
    configuration = ReaderCardConfiguration.from_bytes(fetch(url))
    if configuration.issuer.rstrip("/") != issuer.rstrip("/"):
        raise SyncError("configuration names another issuer", url=url)
    return configuration


def _still_current(
    held: StatusList, configuration: ReaderCardConfiguration, now: int
) -> bool:
    """Whether a 304 for ``held`` is believable: the service re-signs its list long
    before ``status_list_max_age_seconds`` (FORMAT.md §7), so it never answers "no
    change" for a statement that old. One that does is a replayed or misconfigured
    answer, and the gate downloads the full list instead of reporting success."""
    age = now - held.issued_at
    return -configuration.clock_skew_seconds <= age <= configuration.status_list_max_age_seconds


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
            blob = fetch(url, if_none_match=status_etag(current))
            return apply_status_delta(current, blob, anchors), "delta"
        except NotModified:
            if _still_current(current, configuration, now):
                return current, "unchanged"
        except CardError:
            pass  # fall back to the full list below; a bad full list still fails loudly
    # Unconditional: only a signed list may answer this one.
    return load_status_list(fetch(configuration.status_list_uri), anchors), "full"


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
    "no change" answer and rollback protection; ``now`` (the gate's clock, Unix
    seconds) decides whether a "no change" answer is believable. Raises
    :class:`SyncError` or the verification errors of the documents; the stored bundle
    is only replaced once everything verified.
    """
    configuration = fetch_configuration(issuer, fetch)
    trust_text = fetch(configuration.trust_list_uri)
    if not trust_text.isascii():
        raise SyncError("trust list is not ASCII", url=configuration.trust_list_uri)
    trust_list = load_trust_list(trust_text.decode("ascii"), anchors)
    if trust_list.issuer != configuration.issuer:
        raise SyncError("trust list names another issuer", url=configuration.trust_list_uri)
    status_list, how = _fetch_status(
        configuration, anchors, current.status_list if current else None, fetch, now
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
    save_bundle(directory, bundle, status_changed=how != "unchanged")
    return Synced(bundle, how)
