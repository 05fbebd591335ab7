"""The registration pages in a real browser (headless Chromium via Playwright)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.conftest import CHROMIUM_ARGS

from .test_mobile_verification import code_of, outbox


@pytest.fixture
def base_url(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium_path: str):
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_a_reader_registers_and_verifies_in_the_browser(page, base_url, ctx, people):
    person = people.reader(min_age=25)
    page.goto(f"{base_url}/register")
    # The stylesheet loads under the page's Content-Security-Policy: labels sit on
    # their own lines above full-width inputs.
    assert page.eval_on_selector("label", "e => getComputedStyle(e).display") == "block"
    page.fill("#family_name", person.family_name)
    page.fill("#given_name", person.given_name)
    page.select_option("#document_type", "resident_id")
    page.fill("#document_number", person.resident_id[:-1] + "0"
              if person.resident_id[-1] != "0" else person.resident_id[:-1] + "1")
    page.fill("#mobile", person.mobile.removeprefix("+86"))
    page.select_option("#home_library", "CITY")
    page.fill("#password", person.password)
    page.fill("#password_repeat", person.password)
    page.click("button[type=submit]")
    assert "check digit" in page.inner_text("body")
    assert page.input_value("#family_name") == person.family_name

    page.fill("#document_number", person.resident_id)
    page.fill("#password", person.password)
    page.fill("#password_repeat", person.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/register/verify")
    card = page.inner_text("#card-number")
    assert len(card) == 13 and card.isdigit()

    page.fill("#code", code_of(outbox(ctx)[-1]))
    page.click("button[value=confirm]")
    assert "mobile is verified" in page.inner_text("#verified")
