"""The app served on a free local port, alone (the browser tests' fixtures, which add their own
server-log capture) or with a headless Chromium (benchmarks and screenshot scripts)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import panel as pn

CHROMIUM = "/usr/bin/chromium"


def _wait_listening(port: int, timeout_s: float = 300.0) -> None:
    """Return once the server accepts connections on ``port`` (a warmed server listens only after
    building one page)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the app server did not listen on port {port} within {timeout_s:.0f} s"
                ) from exc
            time.sleep(0.05)


@contextmanager
def served_app(*, warm: bool = False, **app_kwargs) -> Iterator[str]:
    """The url of /app, served (worker threads on, as ``panel serve`` runs it) on a free local
    port until exit; ``app_kwargs`` go to ``create_app`` (e.g. ``labels_path``).  ``warm``: build
    one page before listening, as ``panel serve --warm`` (what ``scripts/launch.sh`` runs) does, so
    the imports, the default detector and the first field are loaded before the first visitor."""
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
        warm=warm,
    )
    _wait_listening(port)
    try:
        yield f"http://127.0.0.1:{port}/app"
    finally:
        srv.stop()


@contextmanager
def served_app_in_chromium(*, warm: bool = False, **app_kwargs) -> Iterator[tuple[str, object]]:
    """(url of /app, a Playwright browser): the app served on a free local port; both closed on exit.
    ``warm`` as for :func:`served_app`; ``app_kwargs`` go to ``create_app`` (e.g. ``labels_path``
    for a benchmark's own label store)."""
    from playwright.sync_api import sync_playwright

    with served_app(warm=warm, **app_kwargs) as url, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield url, b
        finally:
            b.close()


def seconds_to_cancel_scan(page, wait_s: float = 30.0, settle_s: float = 2.0) -> float:
    """Start a score map in the Fields tab (already showing the model to test), let it run
    ``settle_s`` and press Cancel: seconds from the click until the status says it stopped.
    One measurement for the browser test and the benchmark."""
    page.get_by_role("button", name="Compute score map").click()
    page.get_by_text("Scoring").wait_for(timeout=wait_s * 1000)
    time.sleep(settle_s)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Score map cancelled.").wait_for(timeout=wait_s * 1000)
    return time.perf_counter() - t0


class ServerErrors(logging.Handler):
    """Collects the server's error log records (a browser test fails on any of them: a traceback
    on the server is a failure even when the page looks right)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))
