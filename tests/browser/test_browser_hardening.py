"""The served app with a data root, in headless Chromium: typed paths stay inside the root, no
server path reaches the page, uploads are limited before decoding and leave nothing behind.
Any server-side exception (logged by Bokeh/Tornado/Panel) fails the test."""

from __future__ import annotations

import gzip
import logging
import re
import tempfile
import time
from pathlib import Path

import pytest

from radioviz.app.headless import ServerErrors as _Errors

from .. import fuzz_corpus as fz
from .waits import WAIT_MS, WAIT_S

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):

    from radioviz.app import resources
    from radioviz.app.headless import served_app

    base = tmp_path_factory.mktemp("served")
    root = base / "root"
    fz.write_source(root / "fields", "abell_0001", 10.0, 0)
    (base / "secret").mkdir()
    (base / "secret" / "key_Gleam72-103_clipped.fits").write_bytes(fz.good_bytes())
    (root / "escape").symlink_to(base / "secret")
    resources.set_data_root(root)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    with served_app(labels_path=str(base / "labels.ecsv")) as url:
        yield url, root.resolve(), base, errors
    logging.getLogger().removeHandler(errors)
    resources.set_data_root(None)


@pytest.fixture
def page(served, browser):  # noqa: F811
    url, _, _, errors = served
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.locator("canvas").first.wait_for(timeout=WAIT_MS)
    yield page
    assert not page.console_errors, page.console_errors
    assert not errors.records, errors.records
    page.close()


def _sessions(url: str) -> int:
    """Bokeh sessions the server still holds for /app (a closed page's is destroyed after
    Bokeh's unused-session lifetime, 15 s, checked every 17 s)."""
    import panel as pn

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    server = next(s for s, *_ in pn.state._servers.values() if s.port == port)
    return len(server._tornado.get_sessions("/app"))


def _type_folder(page, text):
    box = page.locator("input[type=text]").first
    box.fill(text)
    box.press("Enter")


def test_typed_paths_stay_inside_the_data_root(page, served):
    _, root, base, _ = served
    # the first screen is the root's folder of fields, named relative to the root (#25 walk)
    assert page.locator("input[type=text]").first.input_value() == "fields"
    for typed in ("/etc", "escape", str(base / "secret"), "../secret"):
        _type_folder(page, typed)
        shown = Path(typed).name if typed.startswith("/") else typed  # absolute paths: the name only
        page.get_by_text(re.compile(re.escape(shown) + ": outside the data folder")).wait_for(timeout=WAIT_MS)
        assert str(base) not in page.content()
    _type_folder(page, "fields")
    page.locator("select").first.locator("option", has_text="abell_0001").wait_for(state="attached")
    _type_folder(page, "fields/nothing-here")
    page.get_by_text("fields/nothing-here: no such file or directory").first.wait_for(timeout=WAIT_MS)
    html = page.content()
    assert str(root) not in html and str(base) not in html


def test_uploads_refused_before_decoding_and_no_folder_left(page, served, tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("radioviz-upload-*"))
    big = tmp_path / "big_Gleam72-103_clipped.fits.gz"
    big.write_bytes(gzip.compress(fz._huge_header(16000, 16000)))  # 16000² px in a few kB
    page.locator("input[type=file]").first.set_input_files(str(big))
    page.get_by_text("Upload rejected").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("big_Gleam72-103_clipped.fits.gz: header declares 16000×16000").first.wait_for()
    assert "radioviz-upload" not in page.content() and tempfile.gettempdir() + "/" not in page.content()
    files = []
    for k, b in enumerate(fz.BANDS):
        p = tmp_path / f"mine_Gleam{b}_clipped.fits"
        p.write_bytes(fz.good_bytes(72, k))
        files.append(str(p))
    page.locator("input[type=file]").first.set_input_files(files)
    mine = page.locator("select").first.locator("option", has_text="mine")
    mine.wait_for(state="attached", timeout=WAIT_MS)
    box = page.locator("input[type=text]").first
    deadline = time.time() + WAIT_S  # the folder box and the field list are separate updates
    while time.time() < deadline and not box.input_value().startswith("upload: mine_Gleam"):
        time.sleep(0.2)
    assert box.input_value().startswith("upload: mine_Gleam")
    now = set(Path(tempfile.gettempdir()).glob("radioviz-upload-*")) - before
    assert len(now) == 1  # the refused upload's folder is gone; the open one stays for the session
    assert _sessions(served[0]) >= 1
    page.close()  # the session ends: its folder goes too
    deadline = time.time() + WAIT_S  # Bokeh drops a closed session within 15 + 17 s; slack for load
    while time.time() < deadline and (
        _sessions(served[0]) or set(Path(tempfile.gettempdir()).glob("radioviz-upload-*")) - before
    ):
        time.sleep(0.5)
    assert _sessions(served[0]) == 0  # nothing (e.g. a self-rescheduling plot refresh) keeps it alive
    assert not set(Path(tempfile.gettempdir()).glob("radioviz-upload-*")) - before


def test_compare_real_root_outside_is_refused(page, served, tmp_path):
    _, root, base, _ = served
    page.get_by_text("Compare", exact=True).first.click()
    page.get_by_role("button", name="Compare", exact=True).wait_for(timeout=WAIT_MS)
    inputs = page.locator("input[type=text]")
    real = next(inputs.nth(i) for i in range(inputs.count()) if inputs.nth(i).input_value() == ".")
    real.fill(str(base / "secret"))
    real.press("Enter")
    page.locator("input[type=file]").first.set_input_files(str(fz.Corpus(tmp_path).samples()))
    page.get_by_text("Loaded samples.npz: 4 images").first.wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text("outside the data folder this server shares").first.wait_for(timeout=WAIT_MS)
    assert str(root) not in page.content()


def test_large_upload_arrives_in_chunks_and_one_over_the_limit_is_refused(page, served, tmp_path):
    """25 MB of FITS (4 bands of 1250² float32) is more than one websocket message could carry: it
    arrives in chunks and opens; a file over the limit is refused by name in the drop box before
    anything is sent, and the session stays up."""
    from radioviz.app import resources

    files = []
    for k, b in enumerate(fz.BANDS):
        p = tmp_path / f"large_Gleam{b}_clipped.fits"
        p.write_bytes(fz.good_bytes(1250, k))
        files.append(str(p))
    assert sum(Path(f).stat().st_size for f in files) > 25_000_000
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(len(f))))
    page.locator("input[type=file]").first.set_input_files(files)
    page.locator("select").first.locator("option", has_text="large").wait_for(
        state="attached", timeout=WAIT_MS
    )
    box = page.locator("input[type=text]").first
    deadline = time.time() + WAIT_S  # the folder box and the field list are separate updates
    while time.time() < deadline and not box.input_value().startswith("upload: large_Gleam"):
        time.sleep(0.2)
    assert box.input_value().startswith("upload: large_Gleam")
    assert not page.get_by_text("Upload rejected").first.is_visible()
    limit = resources.max_upload_bytes()
    huge = tmp_path / "huge_Gleam72-103_clipped.fits"
    with open(huge, "wb") as fh:
        fh.truncate(limit + 1_000_000)  # sparse: the browser refuses it on its size alone
    n_sent = len(sent)
    page.locator("input[type=file]").first.set_input_files(str(huge))
    item = page.locator(".filepond--item", has_text="huge_Gleam72-103_clipped.fits")
    item.get_by_text("File is too large").first.wait_for(timeout=WAIT_MS)
    item.get_by_text(f"Maximum file size is {limit // 1_000_000} MB").first.wait_for()
    time.sleep(1.0)
    assert sum(sent[n_sent:]) < 100_000  # nothing of it went over the websocket
    _type_folder(page, "fields")  # the session still answers
    page.locator("select").first.locator("option", has_text="abell_0001").wait_for(
        state="attached", timeout=WAIT_MS
    )
