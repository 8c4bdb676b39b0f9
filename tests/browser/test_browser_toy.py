"""The 2-D toy in the served Trajectory tab: trained and sampled from the page, played with its
player, its caption computed from the frame on screen (issue #28 item 6)."""

import re

import pytest

from .waits import WAIT_MS

SLOW = 240000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(served_page):
    url, pg = served_page
    pg.goto(url, timeout=SLOW)
    return pg


def test_the_toy_trains_samples_and_plays_with_captions_from_its_frames(page):
    page.get_by_text("Trajectory", exact=True).first.click()
    go = page.get_by_role("button", name="Train and sample")
    go.wait_for(timeout=SLOW)
    go.click()
    page.get_by_text(re.compile(r"1000 particles, heun 25 steps")).wait_for(timeout=SLOW)
    last = page.get_by_text(re.compile(r"Step 25 of 25"))
    last.wait_for(timeout=WAIT_MS)
    assert "spread like the cloud" in last.inner_text()
    back = page.locator(".bk-btn", has_text="◀").last  # the toy's own player, below the image's
    for _ in range(24):
        back.click()
    first = page.get_by_text(re.compile(r"Step 1 of 25, noise σ = 80"))
    first.wait_for(timeout=WAIT_MS)
    assert "best guess for any particle is the average" in first.inner_text()
