"""End to end: the served app in headless Chromium (Debian's /usr/bin/chromium via Playwright)."""
import os
import socket
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("RADIOVIZ_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.browser


def _skip_or_fail(reason):
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    import panel as pn

    from radioviz.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = pn.serve({"app": create_app}, port=port, address="127.0.0.1", show=False, threaded=True, websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"])
    time.sleep(1.0)
    yield f"http://127.0.0.1:{port}/app"
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _skip_or_fail("Debian chromium is not installed at /usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield b
        b.close()


def test_fields_page_renders_bands_without_console_errors(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    errors, external = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
    page.goto(server)
    page.get_by_text("sim_0100 — halo").wait_for(timeout=30000)
    page.locator("canvas").nth(3).wait_for(timeout=30000)  # four band plots (titles live in the canvas)
    # choose another field from the selector
    page.locator("select").first.select_option("sim_0104")
    page.get_by_text("sim_0104 — non-halo").wait_for(timeout=30000)
    shots = Path(__file__).resolve().parents[1] / "docs"
    if os.environ.get("RADIOVIZ_SCREENSHOTS"):
        page.screenshot(path=str(shots / "fields.png"), full_page=True)
    assert not errors, errors
    assert not external, f"fetched from outside: {external}"
    page.close()
