"""``gate sync``: download the configuration, trust list and status list over HTTP(S).

Uses urllib only, so a gate needs no extra HTTP client. The status list is fetched as a
delta when the gate already holds a list and the service can produce one; any delta
problem falls back to the full list. Versions never go backwards: a replayed older
trust list or status list from a compromised mirror is refused (rollback protection,
as TUF does for its metadata).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from cards.bundle import GateBundle, save_bundle
from cards.configuration import WELL_KNOWN_PATH, ReaderCardConfiguration
from cards.errors import CardError, SyncError
from cards.keys import PinnedAnchors
from cards.status_documents import apply_status_delta, load_status_list
from cards.status_list import StatusList
from cards.trust_list import load_trust_list

Fetch = Callable[[str], bytes]
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 15.0


class DeltaUnavailable(SyncError):
    """The service has no delta from our version (e.g. HTTP 404/410); fetch the full list."""

    code = "delta_unavailable"


def http_get(url: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """GET ``url`` (http or https only) and return the body, at most MAX_DOWNLOAD_BYTES."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SyncError("only http and https URLs are fetched", url=url)
    request = urllib.request.Request(url, headers={"User-Agent": "readerpass-gate"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        error_type = DeltaUnavailable if exc.code in (404, 410) else SyncError
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


def _fetch_status(
    configuration: ReaderCardConfiguration,
    anchors: PinnedAnchors,
    current: StatusList | None,
    fetch: Fetch,
) -> StatusList:
    if current is not None:
        separator = "&" if urlsplit(configuration.status_list_delta_uri).query else "?"
        url = (
            configuration.status_list_delta_uri + separator + urlencode({"since": current.version})
        )
        try:
            return apply_status_delta(current, fetch(url), anchors)
        except CardError:
            pass  # fall back to the full list below; a bad full list still fails loudly
    return load_status_list(fetch(configuration.status_list_uri), anchors)


def sync_bundle(
    issuer: str,
    directory: Path,
    anchors: PinnedAnchors,
    *,
    current: GateBundle | None = None,
    fetch: Fetch = http_get,
) -> GateBundle:
    """Download, verify and store a fresh bundle; return it.

    ``current`` is the bundle the gate holds (if any): it enables delta download and
    rollback protection. Raises :class:`SyncError` or the verification errors of the
    documents; the stored bundle is only replaced once everything verified.
    """
    configuration = fetch_configuration(issuer, fetch)
    trust_text = fetch(configuration.trust_list_uri)
    if not trust_text.isascii():
        raise SyncError("trust list is not ASCII", url=configuration.trust_list_uri)
    trust_list = load_trust_list(trust_text.decode("ascii"), anchors)
    if trust_list.issuer != configuration.issuer:
        raise SyncError("trust list names another issuer", url=configuration.trust_list_uri)
    status_list = _fetch_status(
        configuration, anchors, current.status_list if current else None, fetch
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
    save_bundle(directory, bundle)
    return bundle
