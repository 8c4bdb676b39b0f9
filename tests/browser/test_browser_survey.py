"""The Survey tab in headless Chromium: start a survey on a Dask scheduler from the page, see it
finish, open a surveyed field in the Fields tab and see that field drawn there.  Fails on console
errors, on any request to a host other than the test server (the app must work offline) and on
any error the server logs (a callback that raised, a Bokeh model changed off the session's thread).

The steps run once (module fixture ``surveyed``); each test checks one of the defects a new-user
walk found (#14 follow-up), so a regression names its own defect."""

import io
import logging
import os
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from radioviz.app.headless import ServerErrors as _Errors

from .waits import WAIT_MS, WAIT_S

CHROMIUM = Path("/usr/bin/chromium")
SLOW = 240000  # ms: the 2-core test machine is shared
FIELD_SIZE = 96  # pixels a side of the simulated fields
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fields_dir(tmp_path_factory):
    """Two small simulated fields (the project's simulator, four GLEAM bands each)."""
    from radioviz.simulate import SimConfig, simulate_field, write_field

    root = tmp_path_factory.mktemp("survey_fields")
    for k in range(2):
        write_field(simulate_field(SimConfig(seed=40 + k, size=FIELD_SIZE, n_extended=1)), root)
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    distributed = pytest.importorskip("distributed")
    from radioviz.app import schedulers
    from radioviz.app.headless import served_app

    errors = _Errors()
    for name in ("", "bokeh", "tornado", "panel"):
        logging.getLogger(name).addHandler(errors)
    labels = tmp_path_factory.mktemp("labels") / "labels.ecsv"
    with served_app(labels_path=str(labels)) as url:
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp"
        )
        schedulers.set_schedulers(cluster.scheduler_address)  # as --dask-scheduler at launch (#29)
        yield url, cluster.scheduler_address, errors
        schedulers.set_schedulers(None)
        cluster.close()
    for name in ("", "bokeh", "tornado", "panel"):
        logging.getLogger(name).removeHandler(errors)


def _model_choice(page) -> str:
    """The checkpoint file chosen in the visible tab's model picker."""
    values = page.locator("select").evaluate_all("els => els.map(e => e.value)")
    return next((v.split(" ")[0] for v in values if ".safetensors" in v), "")


def _sky_view_js(body: str) -> str:
    """JS run on the Bokeh view of the Fields tab's sky figure (``v``), null when not rendered."""
    return (
        "() => { for (const root of Object.values(Bokeh.index)) { const stack = [root];"
        " while (stack.length) { const v = stack.pop();"
        "  if (v.model && v.model.name === 'sky' && v.frame) { " + body + " }"
        "  for (const c of (v.child_views || [])) stack.push(c); } } return null; }"
    )


@pytest.fixture(scope="module")
def surveyed(served, fields_dir, tmp_path_factory):
    """The page after: Survey tab → survey of ``fields_dir`` → pick a field → Open in Fields tab."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from playwright.sync_api import expect

    url, scheduler, errors = served
    out = tmp_path_factory.mktemp("survey_out") / "survey"
    server = urlparse(url).netloc
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = b.new_page(viewport={"width": 1700, "height": 1100})
        state = {"console": [], "external": [], "page": page, "out": out, "errors": errors}
        page.on("console", lambda m: state["console"].append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: state["console"].append(f"request failed: {r.url}"))

        def request(r):
            u = urlparse(r.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.netloc != server:
                state["external"].append(r.url)

        page.on("request", request)
        page.goto(url, timeout=SLOW)
        page.locator("canvas").first.wait_for(timeout=SLOW)
        state["fields_default"] = _model_choice(page)
        page.get_by_text("Survey", exact=True).first.click()
        target = page.get_by_placeholder("folder, positions table, 'builtin' or 'sample'")
        target.wait_for(timeout=WAIT_MS)
        state["survey_default"] = _model_choice(page)
        target.fill(str(fields_dir))
        target.press("Enter")
        box = page.get_by_placeholder("output folder")
        box.fill(str(out))
        box.press("Enter")
        sched = page.get_by_placeholder("tcp://host:8786 (empty: embedded cluster)")
        sched.fill(scheduler)
        sched.press("Enter")
        # one websocket: the boxes' values reach the server before the click does
        page.get_by_role("button", name="Start survey").click()
        page.get_by_text("Finished: ").wait_for(timeout=SLOW)
        state["finished"] = page.get_by_text("Finished: ").first.inner_text()
        expect(page.locator(".tabulator-row")).to_have_count(2)  # both surveyed fields are in the table
        state["table"] = page.locator(".tabulator-row").all_inner_texts()
        page.get_by_role("button", name="Open in Fields tab").click()
        # without touching the tab header: the button must have brought the Fields tab forward
        try:
            expect(page.locator(".bk-tab.bk-active").first).to_have_text("Fields")
        except AssertionError:
            pass  # the test below names the tab that stayed in front
        state["active_tab"] = page.locator(".bk-tab.bk-active").first.inner_text()
        if "Fields" not in state["active_tab"]:
            page.get_by_text("Fields", exact=True).first.click()
        page.get_by_role("button", name="Compute score map").wait_for(timeout=WAIT_MS)
        deadline, last = time.time() + WAIT_S, None
        while time.time() < deadline:  # the sky view is drawn, framed on its field, and settled
            r = page.evaluate(_sky_view_js("return [v.model.x_range.start, v.model.x_range.end];"))
            if r and r[1] - r[0] > 10 and r == last:
                break
            last = r
            time.sleep(0.5)
        state["ranges"] = page.evaluate(
            _sky_view_js(
                "const x = v.model.x_range, y = v.model.y_range; return [x.start, x.end, y.start, y.end];"
            )
        )
        v = page.evaluate(
            _sky_view_js(
                "const r = v.el.getBoundingClientRect(), f = v.frame.bbox;"
                " return [r.left + f.left, r.top + f.top, f.width, f.height];"
            )
        )
        state["frame"] = v
        if v:
            page.evaluate(_sky_view_js("v.el.scrollIntoView(); return 1;"))
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            v = page.evaluate(
                _sky_view_js(
                    "const r = v.el.getBoundingClientRect(), f = v.frame.bbox;"
                    " return [r.left + f.left, r.top + f.top, f.width, f.height];"
                )
            )
            state["png"] = page.screenshot(clip={"x": v[0], "y": v[1], "width": v[2], "height": v[3]})
        if os.environ.get("RADIOVIZ_SCREENSHOTS"):
            page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "survey.png"))
        yield state
        b.close()


def test_survey_runs_from_the_page_with_no_console_or_server_error(surveyed):
    assert "Finished: 2 ok, 0 failed" in surveyed["finished"], surveyed["finished"]
    assert (surveyed["out"] / "results.ecsv").exists()
    assert not surveyed["console"], surveyed["console"]
    assert not surveyed["errors"].records, surveyed["errors"].records


def test_nothing_is_requested_from_another_host(surveyed):
    """Offline use: every script and stylesheet (Panel's loading.css, markdown.css included)
    comes from the server itself, on the Fields and the Survey tab."""
    assert not surveyed["external"], surveyed["external"]


def test_results_table_shows_no_nan_reason(surveyed):
    rows = surveyed["table"]
    assert rows and all("nan" not in r.lower() for r in rows), rows


def test_survey_default_model_is_the_fields_default(surveyed):
    assert surveyed["survey_default"] == surveyed["fields_default"], (
        surveyed["survey_default"],
        surveyed["fields_default"],
    )
    assert surveyed["survey_default"] == "segmenter.safetensors"


def test_open_in_fields_switches_to_the_fields_tab(surveyed):
    assert "Fields" in surveyed["active_tab"], surveyed["active_tab"]


def test_opened_field_is_drawn_and_framed_in_fields(surveyed):
    """The map shows the field (not a black frame zoomed to a pixel): the ranges cover the field
    and the screenshot of the plot's frame has structure and non-black pixels."""
    from PIL import Image

    x0, x1, y0, y1 = surveyed["ranges"]
    assert x1 - x0 >= FIELD_SIZE * 0.9 and y1 - y0 >= FIELD_SIZE * 0.9, surveyed["ranges"]
    assert x0 <= 1 and y0 <= 1 and x1 >= FIELD_SIZE - 1 and y1 >= FIELD_SIZE - 1, surveyed["ranges"]
    img = np.asarray(Image.open(io.BytesIO(surveyed["png"])).convert("L"), dtype=float)
    bright = float((img > 40).mean())
    assert img.std() > 10 and bright > 0.05, (img.std(), bright)
