"""What every browser test shares: one headless Debian Chromium per module (Playwright).

Without /usr/bin/chromium or Playwright the tests are skipped — or fail, under CI
(``RADIOVIZ_REQUIRE_BROWSER=1``), so a CI machine without a browser is never green by skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .waits import WAIT_MS

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("RADIOVIZ_REQUIRE_BROWSER") == "1"


def skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def _patient_pages() -> None:
    """Every page's actions (click, fill, ...) and every ``expect`` wait up to WAIT_MS by default
    (Playwright's own defaults, 30 s and 5 s, were made for a quiet machine)."""
    try:
        from playwright.sync_api import Browser, BrowserContext, expect
    except ImportError:
        return
    expect.set_options(timeout=WAIT_MS)
    for cls in (Browser, BrowserContext):
        if getattr(cls.new_page, "_patient", False):
            continue
        new_page = cls.new_page

        def patient(self, *args, _new_page=new_page, **kwargs):
            page = _new_page(self, *args, **kwargs)
            page.set_default_timeout(WAIT_MS)
            return page

        patient._patient = True
        cls.new_page = patient


_patient_pages()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail("Debian chromium is not installed at /usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()
