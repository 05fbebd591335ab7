"""The gate kit: `readerpass gate sync` over HTTP, `gate verify` with no network at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cards import (
    AnchorKey,
    CardKey,
    StatusList,
    TokenSigner,
    TrustedKey,
    TrustList,
    new_serial,
    public_key_to_jwk,
    sign_status_list,
    sign_trust_list,
)
from cards.configuration import WELL_KNOWN_PATH
from tests.cards.test_configuration import make
from tests.cards.test_sync import Service

ROOT = Path(__file__).resolve().parents[2]
REVOKED = 7


def readerpass(*args: str, stdin: str = "", network: bool = True) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "idp", *args]
    if not network:
        command = ["unshare", "--net", *command]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


class Province:
    def __init__(self, service: Service, issued_at: int):
        self.anchor = AnchorKey.generate()
        self.card_key = CardKey.generate()
        self.signer = TokenSigner(self.card_key)
        self.service = service
        base = service.base
        service.documents[WELL_KNOWN_PATH] = make(
            issuer=base, trust_list_uri=f"{base}/trust", status_list_uri=f"{base}/status",
            status_list_delta_uri=f"{base}/status/delta").to_bytes()
        trusted = TrustedKey(self.card_key.public_key, not_before=issued_at - 86_400,
                             not_after=issued_at + 86_400)
        service.documents["/trust"] = sign_trust_list(
            TrustList.build(base, 1, issued_at, [trusted]), self.anchor).encode()
        status = StatusList.from_indices(1000, [REVOKED], 1, issued_at)
        service.documents["/status"] = sign_status_list(status, self.anchor, base)

    def synced_gate(self, directory: Path) -> Path:
        """A gate directory synced from the service, trusting this province's anchor."""
        gate = directory / "gate"
        synced = readerpass("gate", "sync", "--url", self.service.base, "--dir", str(gate),
                            "--anchor", str(self.anchor_file(directory)))
        assert synced.returncode == 0, synced.stderr
        return gate

    def anchor_file(self, directory: Path) -> Path:
        path = directory / "anchor.jwk"
        path.write_text(json.dumps(public_key_to_jwk(self.anchor.public_key)), encoding="utf-8")
        return path


@pytest.fixture
def service() -> Iterator[Service]:
    running = Service()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) from util-linux")
def test_sync_then_verify_offline(service: Service, tmp_path: Path):
    now = int(time.time())
    province = Province(service, now - 60)
    gate = tmp_path / "gate"
    no_anchor = readerpass("gate", "sync", "--url", service.base, "--dir", str(gate))
    assert no_anchor.returncode == 2 and "--anchor" in no_anchor.stderr
    synced = readerpass("gate", "sync", "--url", service.base, "--dir", str(gate),
                        "--anchor", str(province.anchor_file(tmp_path)))
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["revoked_cards"] == 1

    good = province.signer.sign(new_serial(), 3, now, 120)
    lost = province.signer.sign(new_serial(), REVOKED, now, 120)
    forged = TokenSigner(CardKey.generate()).sign(new_serial(), 4, now, 120)
    flipped = good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:]
    scanned = [good, lost, good, forged, "hello", flipped.lower(), ""]
    result = readerpass("gate", "verify", "--dir", str(gate), stdin="\r\n".join(scanned) + "\n",
                        network=False)
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["reason"] for v in verdicts] == [
        "ok", "revoked", "replayed", "unknown_key", "malformed", "bad_signature"]
    assert verdicts[0]["ok"] is True and verdicts[0]["status_index"] == 3

    single = readerpass("gate", "verify", "--dir", str(gate),
                        province.signer.sign(new_serial(), 5, now, 120), network=False)
    assert single.returncode == 0 and json.loads(single.stdout)["ok"] is True
    refused = readerpass("gate", "verify", "--dir", str(gate), lost, network=False)
    assert refused.returncode == 1 and json.loads(refused.stdout)["reason"] == "revoked"


def test_gate_refuses_to_run_on_stale_data(service: Service, tmp_path: Path):
    now = int(time.time())
    gate = Province(service, now - 7200).synced_gate(tmp_path)
    stale = readerpass("gate", "verify", "--dir", str(gate), "--max-age", "3600",
                       stdin="x\n")
    assert stale.returncode == 1 and "refusing to verify" in stale.stderr
    assert stale.stdout == ""
    fresh_enough = readerpass("gate", "verify", "--dir", str(gate), "--max-age", "10800",
                              stdin="x\n")
    assert json.loads(fresh_enough.stdout)["reason"] == "malformed"


def test_sync_refuses_documents_signed_by_another_anchor(service: Service, tmp_path: Path):
    now = int(time.time())
    Province(service, now)
    impostor = Province.__new__(Province)
    impostor.anchor = AnchorKey.generate()
    result = readerpass("gate", "sync", "--url", service.base, "--dir", str(tmp_path / "g"),
                        "--anchor", str(impostor.anchor_file(tmp_path)))
    assert result.returncode == 1 and "sync failed" in result.stderr
    assert not (tmp_path / "g" / "trust-list.jws").exists()


def test_sync_reports_an_unreachable_service(tmp_path: Path):
    anchor = tmp_path / "a.jwk"
    anchor.write_text(json.dumps(public_key_to_jwk(AnchorKey.generate().public_key)))
    result = readerpass("gate", "sync", "--url", "http://127.0.0.1:9", "--dir",
                        str(tmp_path / "g"), "--anchor", str(anchor))
    assert result.returncode == 1 and "cannot reach" in result.stderr
    bad = tmp_path / "bad.jwk"
    bad.write_text("{not json")
    result = readerpass("gate", "sync", "--url", "http://127.0.0.1:9", "--dir",
                        str(tmp_path / "g"), "--anchor", str(bad))
    assert result.returncode == 2 and "anchor" in result.stderr


def test_verify_survives_scanner_noise_that_is_not_utf8(service: Service, tmp_path: Path):
    """A scanner's line noise (bytes that are not UTF-8) is one malformed verdict;
    the gate goes on reading the scans after it."""
    now = int(time.time())
    province = Province(service, now - 60)
    gate = province.synced_gate(tmp_path)
    good = province.signer.sign(new_serial(), 3, now, 120)
    noise = b"\xff\xfe\x80RP\xc3(\r\n" + good.encode() + b"\n"
    result = subprocess.run([sys.executable, "-m", "idp", "gate", "verify", "--dir", str(gate)],
                            input=noise, capture_output=True, timeout=60,
                            # as under a zh_CN.UTF-8 locale: standard input decoded strictly
                            env={**os.environ, "PYTHONPATH": str(ROOT),
                                 "PYTHONIOENCODING": "utf-8:strict"})
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [v["reason"] for v in verdicts] == ["malformed", "ok"]
