"""Shared fixtures. Browser tests use Debian's Chromium through Playwright; no downloads.
Store tests use a private PostgreSQL cluster (tests/postgres.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium_available, launch
from tests.postgres import pg_database, postgres_url  # noqa: F401  (fixtures)
from tests.stores import open_store  # noqa: F401  (fixture)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not chromium_available():
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed; `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private broker (tests/mosquitto.py) with TLS, for one test module."""
    from tests.mosquitto import PrivateBroker, mosquitto_binary

    if mosquitto_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("Mosquitto is required in CI (apt-get install mosquitto)")
        pytest.skip("Debian mosquitto is not installed; `make test` installs it")
    broker = PrivateBroker(tmp_path_factory.mktemp("mosquitto"), tls=True)
    broker.start()
    yield broker
    broker.stop()
