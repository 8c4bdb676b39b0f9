"""Safe to serve to a group (#29), in the served app with a data root and headless Chromium: a
scheduler typed on the page is refused and never connected to (and without the operator's
scheduler there is no box for one), a link loop or a 300-character name typed in a path box is
answered in one line with no traceback in the log, and an upload's memory is given back when
its session ends.  The fixtures (and their checks: no console error, nothing logged at ERROR)
are those of ``test_browser_hardening``."""

from __future__ import annotations

import gc
import re
import socket
import time
from pathlib import Path

import pytest

from .. import bombs
from .. import fuzz_corpus as fz
from .test_browser_hardening import _sessions, _type_folder, page, served  # noqa: F401
from .waits import WAIT_MS, WAIT_S

pytestmark = pytest.mark.browser
SCHEDULER_BOX = "tcp://host:8786 (empty: embedded cluster)"
TARGET_BOX = "folder, positions table, 'builtin' or 'sample'"


def _rss_mb() -> float:
    """This process's resident memory (the served app runs in it), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _survey_tab(p):
    p.get_by_text("Survey", exact=True).first.click()
    p.get_by_placeholder(TARGET_BOX).wait_for(timeout=WAIT_MS)


def test_typed_loop_and_long_name_are_refused_in_one_line(page, served):  # noqa: F811
    _, root, _, _ = served
    if not (root / "loop1").is_symlink():
        (root / "loop1").symlink_to(root / "loop2")
        (root / "loop2").symlink_to(root / "loop1")
    _type_folder(page, "loop1")
    page.get_by_text("loop1: outside the data folder this server shares").first.wait_for(timeout=WAIT_MS)
    long = "a" * 300
    _type_folder(page, long)
    page.get_by_text(f"{long}: no such file or directory").first.wait_for(timeout=WAIT_MS)
    _survey_tab(page)
    target = page.get_by_placeholder(TARGET_BOX)
    for typed, said in (("loop1", "outside the data folder"), (long, "no such file or directory")):
        target.fill(typed)
        target.press("Enter")
        time.sleep(0.5)
        page.get_by_role("button", name="Start survey").click()
        page.get_by_text(re.compile(r"Error: .*" + said)).first.wait_for(timeout=WAIT_MS)
        page.get_by_role("button", name="Start survey").wait_for(state="visible")
        deadline = time.time() + WAIT_S  # the run has ended (Start is lit again) before the next one
        while time.time() < deadline and page.get_by_role("button", name="Start survey").is_disabled():
            time.sleep(0.2)
    assert str(root) not in page.content()
    # the page fixture then checks that nothing was logged at ERROR (a traceback) meanwhile


def test_no_scheduler_box_unless_the_operator_names_one(page):  # noqa: F811
    _survey_tab(page)
    page.get_by_text("Runs on an embedded Dask cluster").first.wait_for(timeout=WAIT_MS)
    assert page.get_by_placeholder(SCHEDULER_BOX).count() == 0


def test_typed_scheduler_is_refused_and_never_connected(served, browser):  # noqa: F811
    """With the operator's scheduler the box shows it; another address typed there is refused
    with a message and the box goes back, and nothing connects to the typed address."""
    from radioviz.app import schedulers

    url, _, _, errors = served
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(2.0)
    typed = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    operator = "tcp://127.0.0.1:9"  # never contacted here: no survey is started
    schedulers.set_schedulers(operator)
    p = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        p.goto(url)
        p.locator("canvas").first.wait_for(timeout=WAIT_MS)
        _survey_tab(p)
        box = p.get_by_placeholder(SCHEDULER_BOX)
        assert box.input_value() == operator
        box.fill(typed)
        box.press("Enter")
        refused = f"Refused: {typed}: not a Dask scheduler this server allows"
        p.get_by_text(refused).first.wait_for(timeout=WAIT_MS)
        p.get_by_text(f"Kept {operator}").first.wait_for()
        deadline = time.time() + WAIT_S
        while time.time() < deadline and box.input_value() != operator:
            time.sleep(0.2)
        assert box.input_value() == operator
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing connected to the typed address
    finally:
        p.close()
        listener.close()
        schedulers.set_schedulers(None)
    assert not errors.records, errors.records


def test_upload_memory_is_given_back_when_the_session_ends(served, browser, tmp_path):  # noqa: F811
    """A cube at the upload budget (4096×4096×4 float32, 268 MB decoded) opened in the Fields tab:
    the server's RSS returns to within 100 MB of what it was before the upload once the session
    ends (it kept +258 MB per upload, in process-wide caches keyed by the deleted folder)."""
    url, _, _, errors = served
    warm = []
    for k, b in enumerate(fz.BANDS):
        f = tmp_path / f"warm_Gleam{b}_clipped.fits"
        f.write_bytes(fz.good_bytes(72, k))
        warm.append(str(f))
    cube = bombs.fits_gz(tmp_path / "cube.fits.gz", (4, 4096, 4096))
    p = browser.new_page(viewport={"width": 1600, "height": 1000})
    p.goto(url)
    p.locator("canvas").first.wait_for(timeout=WAIT_MS)
    box = p.locator("input[type=text]").first

    def opened(prefix: str, timeout: float = 180) -> None:
        deadline = time.time() + timeout  # the folder box and the field list are separate updates
        while time.time() < deadline and not box.input_value().startswith(prefix):
            time.sleep(0.3)
        assert box.input_value().startswith(prefix), box.input_value()

    p.locator("input[type=file]").first.set_input_files(warm)  # first use of the upload code
    opened("upload: warm_Gleam")
    time.sleep(2)
    gc.collect()
    before = _rss_mb()
    p.locator("input[type=file]").first.set_input_files(str(cube))
    opened("upload: cube.fits.gz")
    p.locator("select").first.locator("option", has_text="cube").wait_for(state="attached", timeout=WAIT_MS)
    time.sleep(2)
    gc.collect()
    during = _rss_mb()
    assert during - before > 150, (before, during)  # the measurement sees the field
    p.close()
    deadline = time.time() + WAIT_S  # Bokeh drops a closed session within 15 + 17 s; slack for load
    while time.time() < deadline and _sessions(url):
        time.sleep(0.5)
    assert _sessions(url) == 0
    time.sleep(1)
    gc.collect()
    after = _rss_mb()
    print(f"RSS before the upload {before:.0f} MB, open {during:.0f} MB, after the session {after:.0f} MB")
    assert after - before < 100, (before, during, after)
    assert not errors.records, errors.records
