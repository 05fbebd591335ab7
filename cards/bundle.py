"""Gate bundle: the synced documents a gate verifies with, kept in one directory.

Files (FORMAT.md §8): ``reader-card-configuration.json``, ``trust-list.jws`` and
``status-list.bin`` (a status snapshot, see :func:`cards.status_documents.snapshot`),
and ``etags.json``: the entity tags the service sent with the configuration and the
trust list, each bound to the digest of the file it describes.
Loading re-verifies every signature against the pinned anchors, so a file edited on the
gate is refused, and refuses data whose *signed* issue time is older than the allowed
age: a gate cut off from the service must stop, not keep admitting lost cards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cards.configuration import ReaderCardConfiguration
from cards.errors import BundleError, CardError, StaleBundle
from cards.keys import PinnedAnchors
from cards.status_documents import load_status_list, snapshot
from cards.status_list import StatusList
from cards.trust_list import TrustList, load_trust_list
from cards.verify import DEFAULT_SKEW

CONFIGURATION_FILE = "reader-card-configuration.json"
TRUST_LIST_FILE = "trust-list.jws"
STATUS_LIST_FILE = "status-list.bin"
ETAGS_FILE = "etags.json"
#: Documents whose entity tags a gate stores and sends back (FORMAT.md §6, §9).
TAGGED_FILES = {"configuration": CONFIGURATION_FILE, "trust_list": TRUST_LIST_FILE}
#: entity-tag = [ W/ ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3), ASCII only, bounded.
_ETAG = re.compile(r'(W/)?"[\x21\x23-\x7e]{0,200}"')


@dataclass(frozen=True)
class GateBundle:
    configuration: ReaderCardConfiguration
    trust_list: TrustList
    status_list: StatusList


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over the target."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_bundle(
    directory: Path,
    bundle: GateBundle,
    *,
    status_changed: bool = True,
    trust_changed: bool = True,
    configuration_changed: bool = True,
) -> None:
    """Store a verified bundle; the status list goes first so a crash never pairs a new
    trust list with an old status list the service already superseded. A part marked
    unchanged (a 304) is the one stored already and is left as it is."""
    if not bundle.trust_list.signed:
        raise BundleError("only a verified trust list can be stored", path=str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    if status_changed or not (directory / STATUS_LIST_FILE).exists():
        _write_atomically(directory / STATUS_LIST_FILE, snapshot(bundle.status_list))
    if trust_changed or not (directory / TRUST_LIST_FILE).exists():
        _write_atomically(directory / TRUST_LIST_FILE, bundle.trust_list.signed.encode("ascii"))
    if configuration_changed or not (directory / CONFIGURATION_FILE).exists():
        _write_atomically(directory / CONFIGURATION_FILE, bundle.configuration.to_bytes())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_entity_tag(value: object) -> bool:
    """Whether ``value`` is a syntactically valid entity tag we are willing to store."""
    return isinstance(value, str) and _ETAG.fullmatch(value) is not None


def save_etags(directory: Path, etags: Mapping[str, str | None]) -> None:
    """Store the entity tags of the documents now on disk (``TAGGED_FILES`` keys),
    each with the SHA-256 of its file; invalid or missing tags are left out."""
    entries = {}
    for name, tag in etags.items():
        if name in TAGGED_FILES and is_entity_tag(tag):
            content = _read(directory / TAGGED_FILES[name])
            entries[name] = {"etag": tag, "sha256": _digest(content)}
    _write_atomically(directory / ETAGS_FILE, json.dumps(entries, sort_keys=True).encode())


def load_etags(directory: Path) -> dict[str, str]:
    """The stored entity tags, each only while its file is still the one it was stored
    with (an edited, replaced or missing file gets no tag, hence a full download).
    A missing or unreadable ``etags.json`` is no tags at all, never an error."""
    try:
        data = json.loads((directory / ETAGS_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    found: dict[str, str] = {}
    for name, file in TAGGED_FILES.items():
        entry = data.get(name)
        if not isinstance(entry, dict) or not is_entity_tag(entry.get("etag")):
            continue
        stored = entry.get("sha256")
        try:
            content = (directory / file).read_bytes()
        except OSError:
            continue
        if isinstance(stored, str) and hmac.compare_digest(stored, _digest(content)):
            found[name] = entry["etag"]
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read {path.name}: {exc.strerror}", path=str(path)) from exc


def check_fresh(
    bundle: GateBundle,
    now: int,
    max_age: int,
    *,
    max_trust_list_age: int | None = None,
    skew: int = DEFAULT_SKEW,
    path: str = "",
) -> None:
    """Raise :class:`StaleBundle` when signed data is too old (or dated in the future,
    which means the gate clock is wrong and its expiry checks cannot be trusted)."""
    parts = (
        ("status_list", bundle.status_list.issued_at, max_age),
        (
            "trust_list",
            bundle.trust_list.issued_at,
            max_age if max_trust_list_age is None else max_trust_list_age,
        ),
    )
    for part, issued_at, limit in parts:
        age = now - issued_at
        if age > limit:
            raise StaleBundle(
                f"{part} is {age} s old, the limit is {limit} s",
                path=path,
                part=part,
                age=age,
                max_age=limit,
            )
        if age < -skew:
            raise StaleBundle(
                f"{part} is dated {-age} s ahead of this gate's clock",
                path=path,
                part=part,
                age=age,
                max_age=limit,
            )


def load_bundle(
    directory: Path,
    anchors: PinnedAnchors,
    now: int,
    max_age: int,
    *,
    max_trust_list_age: int | None = None,
    skew: int = DEFAULT_SKEW,
) -> GateBundle:
    """Read, verify and age-check a stored bundle; raise :class:`BundleError` subclasses."""
    where = str(directory)
    try:
        configuration = ReaderCardConfiguration.from_bytes(_read(directory / CONFIGURATION_FILE))
        trust_bytes = _read(directory / TRUST_LIST_FILE)
        if not trust_bytes.isascii():
            raise BundleError("trust list file is not ASCII", path=where)
        trust_list = load_trust_list(trust_bytes.decode("ascii"), anchors)
        status_list = load_status_list(_read(directory / STATUS_LIST_FILE), anchors)
    except BundleError:
        raise
    except CardError as exc:
        raise BundleError(f"bundle does not verify: {exc.message}", path=where) from exc
    if trust_list.issuer != configuration.issuer:
        raise BundleError("trust list issuer differs from the configured issuer", path=where)
    bundle = GateBundle(configuration, trust_list, status_list)
    check_fresh(bundle, now, max_age, max_trust_list_age=max_trust_list_age, skew=skew, path=where)
    return bundle
