"""The 2-D toy in the served Trajectory tab: trained and sampled from the page, played with its
player, its caption computed from the frame on screen (issue #28 item 6)."""

import logging
import re
from pathlib import Path

import pytest

from radioviz.app.headless import ServerErrors as _Errors

CHROMIUM = Path("/usr/bin/chromium")
SLOW = 240000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    from radioviz.app.headless import served_app

    errors = _Errors()
    for name in ("tornado", "bokeh", "panel"):
        logging.getLogger(name).addHandler(errors)
    labels = tmp_path_factory.mktemp("labels") / "labels.sqlite"
    with served_app(labels_path=str(labels)) as url, playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        pg = b.new_page(viewport={"width": 1600, "height": 1200})
        pg.errors = []
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        pg.goto(url, timeout=SLOW)
        yield pg
        assert not pg.errors, pg.errors
        assert not errors.records, errors.records
        b.close()


def test_the_toy_trains_samples_and_plays_with_captions_from_its_frames(page):
    page.get_by_text("Trajectory", exact=True).first.click()
    go = page.get_by_role("button", name="Train and sample")
    go.wait_for(timeout=SLOW)
    go.click()
    page.get_by_text(re.compile(r"1000 particles, heun 25 steps")).wait_for(timeout=SLOW)
    last = page.get_by_text(re.compile(r"Step 25 of 25"))
    last.wait_for(timeout=30000)
    assert "spread like the cloud" in last.inner_text()
    back = page.locator(".bk-btn", has_text="◀").last  # the toy's own player, below the image's
    for _ in range(24):
        back.click()
    first = page.get_by_text(re.compile(r"Step 1 of 25, noise σ = 80"))
    first.wait_for(timeout=30000)
    assert "best guess for any particle is the average" in first.inner_text()
