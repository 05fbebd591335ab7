"""Benchmark of the card library: signing, offline verification, status lists, QR images.

Not a test. Run ``python bench/cards.py``; it prints its figures and the machine. All
figures are single-threaded, so "per second" means per core.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file is named cards.py: keep its own directory off the path so `import cards`
# finds the package, not this script.
_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import cryptography  # noqa: E402
from cryptography.hazmat.backends.openssl import backend as openssl_backend  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from cards import (  # noqa: E402
    AnchorKey,
    CardKey,
    MemoryReplayCache,
    PinnedAnchors,
    StatusList,
    TokenSigner,
    TrustedKey,
    TrustList,
    apply_status_delta,
    load_status_list,
    load_trust_list,
    new_serial,
    qr_version,
    render_png,
    render_svg,
    sign_status_delta,
    sign_status_list,
    sign_trust_list,
    verify,
)

NOW = 1_760_000_000
CARDS = 20_000_000
LOST_FRACTION = 0.01
ISSUER = "https://id.example.org"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def rate(label: str, count: int, seconds: float) -> None:
    print(f"{label:<46} {count / seconds:>12,.0f} /s  ({seconds * 1e6 / count:.1f} µs each)")


def bench_tokens(n: int = 30_000) -> str:
    anchor, key = AnchorKey.generate(), CardKey.generate()
    signer = TokenSigner(key)
    serial = new_serial()
    data, ecdsa = b"x" * 26, ec.ECDSA(hashes.SHA256())
    seconds, _ = timed(lambda: [key.private_key.sign(data, ecdsa) for _ in range(n)])
    rate("baseline: raw P-256 sign (cryptography)", n, seconds)
    seconds, texts = timed(lambda: [signer.sign(serial, 42, NOW + i, 120) for i in range(n)])
    rate("tokens signed (TokenSigner.sign)", n, seconds)

    signature = key.private_key.sign(data, ecdsa)
    public = key.public_key
    seconds, _ = timed(lambda: [public.verify(signature, data, ecdsa) for _ in range(n)])
    rate("baseline: raw P-256 verify (cryptography)", n, seconds)

    anchors = PinnedAnchors.of(anchor.public_key)
    trust = load_trust_list(
        sign_trust_list(
            TrustList.build(ISSUER, 1, NOW, [TrustedKey(public, NOW - 10, NOW + 10 * n)]), anchor
        ),
        anchors,
    )
    status = StatusList.from_indices(1_000_000, [7], 1, NOW)
    cache = MemoryReplayCache()
    assert isinstance(texts, list)
    seconds, verdicts = timed(
        lambda: [verify(t, trust, status, cache, NOW + i) for i, t in enumerate(texts)]
    )
    assert isinstance(verdicts, list) and all(v.ok for v in verdicts)
    rate("full offline verifications (verify -> ok)", n, seconds)
    batch_seconds, _ = timed(lambda: signer.batch(serial, 42, NOW, slots=1440))
    print(f"{'batch of 24 h x 60 s slots (1440 tokens)':<46} {batch_seconds * 1000:>12.1f} ms")
    first: str = texts[0]
    return first


def bench_status_list() -> None:
    anchor = AnchorKey.generate()
    anchors = PinnedAnchors.of(anchor.public_key)
    lost = random.Random(1).sample(range(CARDS), int(CARDS * LOST_FRACTION))
    print(f"status list: {CARDS:,} cards, {len(lost):,} lost ({LOST_FRACTION:.0%})")
    seconds, built = timed(lambda: StatusList.from_indices(CARDS, lost, 1, NOW))
    assert isinstance(built, StatusList)
    print(f"  build from indices                 {seconds * 1000:>10.0f} ms")
    seconds, full = timed(lambda: sign_status_list(built, anchor, ISSUER))
    assert isinstance(full, bytes)
    print(
        f"  full: compress (zlib 9) + sign     {seconds * 1000:>10.0f} ms, "
        f"{len(full):,} bytes ({len(full) / 1024:.0f} KiB; raw bits {len(built.bits):,})"
    )
    seconds, _ = timed(lambda: load_status_list(full, anchors))
    print(f"  full: verify + inflate (gate)      {seconds * 1000:>10.0f} ms")

    rng = random.Random(2)
    revoke = rng.sample(range(CARDS), 1000)
    restore = lost[:200]
    newer = built.with_changes(2, NOW + 300, revoke=revoke, restore=restore)
    seconds, delta = timed(lambda: sign_status_delta(built, newer, anchor, ISSUER))
    assert isinstance(delta, bytes)
    print(
        f"  delta (1,000 lost + 200 found): diff + sign {seconds * 1000:>5.0f} ms, "
        f"{len(delta):,} bytes"
    )
    seconds, applied = timed(lambda: apply_status_delta(built, delta, anchors))
    assert isinstance(applied, StatusList) and applied.bits == newer.bits
    print(f"  delta: verify + apply (gate)       {seconds * 1000:>10.0f} ms")


def bench_qr(text: str, n: int = 100) -> None:
    print(f"QR: {len(text)} characters, version {qr_version(text)}, ECC M, alphanumeric mode")
    seconds, png = timed(lambda: [render_png(text) for _ in range(n)])
    assert isinstance(png, list)
    print(f"  PNG  {seconds * 1000 / n:6.2f} ms each, {len(png[0]):,} bytes")
    seconds, svg = timed(lambda: [render_svg(text) for _ in range(n)])
    assert isinstance(svg, list)
    print(f"  SVG  {seconds * 1000 / n:6.2f} ms each, {len(svg[0]):,} bytes")


def main() -> None:
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
    )
    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"cryptography {cryptography.__version__} ({openssl_backend.openssl_version_text()})"
    )
    print()
    text = bench_tokens()
    print()
    bench_status_list()
    print()
    bench_qr(text)


if __name__ == "__main__":
    main()
