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
