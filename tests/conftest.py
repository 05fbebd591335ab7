"""Shared fixtures: URLs of the real servers the suite talks to.

Each server is named by an environment variable. Without it the tests that need
that server are skipped with a reason naming the variable; with
``READERPASS_REQUIRE_SERVICES=1`` (as CI sets) a missing or unreachable server
is a failure instead.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("READERPASS_REQUIRE_SERVICES") == "1"


def service_url(variable: str) -> str:
    url = os.environ.get(variable, "").strip()
    if not url:
        message = f"{variable} is not set"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} but READERPASS_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Server-level URL of a PostgreSQL the tests may create databases in."""
    return service_url("READERPASS_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    return service_url("READERPASS_TEST_MARIADB_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return service_url("READERPASS_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (``apt-get install chromium``), driven by Playwright."""
    path = os.environ.get("READERPASS_TEST_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(path):
        message = f"no Chromium at {path} (set READERPASS_TEST_CHROMIUM)"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


#: Flags for a headless Chromium on a machine without outside network.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
