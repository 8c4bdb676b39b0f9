"""The served app in a headless Chromium, for benchmarks and screenshot scripts (the tests keep
their own fixtures, which also capture the server log)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import panel as pn

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def served_app_in_chromium(**app_kwargs) -> Iterator[tuple[str, object]]:
    """(url of /app, a Playwright browser): the app served on a free local port; both closed on exit.
    ``app_kwargs`` go to ``create_app`` (e.g. ``labels_path`` for a benchmark's own label store)."""
    from playwright.sync_api import sync_playwright

    from .main import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = pn.serve(
        {"app": lambda: create_app(template=True, **app_kwargs)},
        port=port,
        address="127.0.0.1",
        show=False,
        threaded=True,
        websocket_origin=[f"127.0.0.1:{port}"],
    )
    time.sleep(1.0)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                yield f"http://127.0.0.1:{port}/app", b
            finally:
                b.close()
    finally:
        srv.stop()
