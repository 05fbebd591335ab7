"""The card page in headless Chromium: the QR code is drawn client-side from the
embedded batch, changes with the slot and keeps decoding and verifying offline."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import qrcode
import qrcode.constants
import qrcode.util
from PIL import Image
from playwright.sync_api import sync_playwright

from cards import MemoryReplayCache, verify
from tests.cards.test_qr import decode_qr
from tests.conftest import CHROMIUM_ARGS


@pytest.fixture
def browser_page(chromium_path: str):
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context()
        yield context, context.new_page()
        browser.close()


def _python_modules(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.modules]


def _scan(page) -> str:
    return decode_qr(Image.open(io.BytesIO(page.locator("#qr svg").screenshot()))).text


def _lists(live):
    from idp.cardsvc.runtime import EXTENSION

    snapshot = live.app.extensions[EXTENSION].documents.snapshot()
    return snapshot.trust_list, snapshot.status_list


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_card_page_works_offline(live, card_keys, reader, clock, browser_page):
    context, page = browser_page
    slot = live.ctx.settings.cards.slot_seconds
    clock.current = clock.current.replace(second=0) + dt.timedelta(seconds=5)
    page.clock.install(time=clock.current)
    page.goto(f"{live.url}/card")
    page.fill("#identifier", reader.card_number)
    page.fill("#password", reader.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/card")
    page.wait_for_selector("#qr svg")
    trust_list, status_list = _lists(live)

    first = page.get_attribute("#qr", "data-token")
    assert page.get_attribute("#qr", "data-slot") == "0"
    assert _scan(page) == first
    # The script draws the same modules python-qrcode (the PNG/SVG endpoints) does.
    assert page.evaluate("t => window.readerpassQr.encode(t)", first) == _python_modules(first)
    gate_cache = MemoryReplayCache()
    now = int(clock().timestamp())
    assert verify(first, trust_list, status_list, gate_cache, now).ok

    context.set_offline(True)
    assert page.evaluate("() => fetch('/cards/batch').then(() => 'online', () => 'offline')"
                         ) == "offline"
    page.clock.fast_forward(slot * 1000)
    clock.advance(seconds=slot)
    page.wait_for_function("document.querySelector('#qr').dataset.slot === '1'")
    second = page.get_attribute("#qr", "data-token")
    assert second != first
    scanned = _scan(page)
    assert scanned == second
    verdict = verify(scanned, trust_list, status_list, gate_cache, int(clock().timestamp()))
    assert verdict.ok and verdict.issued_at == verify(
        first, trust_list, status_list, MemoryReplayCache(), now).issued_at + slot

    # Hours later, still offline: the batch still covers it.
    page.clock.fast_forward(6 * 3600 * 1000)
    clock.advance(hours=6)
    page.wait_for_function(f"document.querySelector('#qr').dataset.slot === "
                           f"'{1 + 6 * 3600 // slot}'")
    late = _scan(page)
    assert verify(late, trust_list, status_list, gate_cache, int(clock().timestamp())).ok
    assert "New code in" in page.inner_text("#qr-status")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_card_page_report_lost_and_refusal(live, card_keys, reader, clock, browser_page):
    _, page = browser_page
    page.clock.install(time=clock.current)
    page.goto(f"{live.url}/card")
    page.fill("#identifier", reader.card_number)
    page.fill("#password", reader.password)
    page.click("button[type=submit]")
    page.wait_for_selector("#qr svg")
    page.click("#report-lost")
    page.wait_for_selector("#card-error")
    assert "lost" in page.inner_text("#card-error")
    assert page.locator("#qr").count() == 0
    page.clock.fast_forward(48 * 3600 * 1000)  # nothing left to show, nothing shown


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_stops_when_the_batch_runs_out(live, card_keys, reader, clock,
                                                  browser_page):
    _, page = browser_page
    page.clock.install(time=clock.current)
    page.goto(f"{live.url}/card")
    page.fill("#identifier", reader.card_number)
    page.fill("#password", reader.password)
    page.click("button[type=submit]")
    page.wait_for_selector("#qr svg")
    batch_seconds = live.ctx.settings.cards.batch_slots * live.ctx.settings.cards.slot_seconds
    page.clock.fast_forward((batch_seconds + 60) * 1000)
    page.wait_for_function("document.querySelector('#qr svg') === null")
    assert "run out" in page.inner_text("#qr-status")
