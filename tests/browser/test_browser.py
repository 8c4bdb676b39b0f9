"""End to end: the served app in headless Chromium (Debian's /usr/bin/chromium via Playwright)."""

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from .waits import WAIT_MS, WAIT_S

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory):
    return tmp_path_factory.mktemp("labels") / "labels.sqlite"


@pytest.fixture(scope="module")
def server(labels_file):
    from radioviz.app.headless import served_app

    with served_app(labels_path=str(labels_file)) as url:
        yield url


@pytest.fixture
def page(server, browser):
    page = browser.new_page(viewport={"width": 1700, "height": 1100}, accept_downloads=True)
    page.errors, page.external = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: (
            page.external.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.goto(server)
    page.locator("canvas").first.wait_for(timeout=WAIT_MS)
    yield page
    assert not page.errors, page.errors
    assert not page.external, f"fetched from outside: {page.external}"
    page.close()


def _shot(page, name):
    if os.environ.get("RADIOVIZ_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / name), full_page=True)


@pytest.mark.timeout(900)  # the L score map alone may take 300 s on a loaded 2-core machine
def test_scan_pick_candidate_label_with_keyboard_and_export(page, labels_file):
    from radioviz.scan.vetting import LabelStore

    sel = page.locator("select").filter(has_text="classifier_L")  # L finds candidates in the sample fields
    sel.select_option(
        label=next(o for o in sel.locator("option").all_inner_texts() if o.startswith("classifier_L"))
    )
    page.get_by_role("button", name="Compute score map").click()
    page.get_by_text("Score map:").wait_for(timeout=300000)  # a loaded 2-core machine is slow
    page.locator(".tabulator-row").first.wait_for(timeout=WAIT_MS)  # the table renders after the map
    page.locator(".tabulator-row").first.click()
    page.get_by_text("Candidate 1/").wait_for(timeout=WAIT_MS)
    page.locator("canvas").nth(4).wait_for(timeout=WAIT_MS)  # the band cut-outs are drawn
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("h")
    deadline = time.time() + WAIT_S  # the committed row, waited on (a loaded machine is slow)
    while time.time() < deadline and not LabelStore(labels_file).current():
        time.sleep(0.2)
    assert [lab.label for lab in LabelStore(labels_file).current()] == ["halo"]
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export CSV").click()
    assert "halo" in Path(dl.value.path()).read_text()


def test_bad_upload_shows_error_and_app_keeps_working(page, tmp_path):
    junk = tmp_path / "junk_Gleam72-103_clipped.fits"
    junk.write_bytes(b"this is not FITS")
    page.locator("input[type=file]").first.set_input_files(str(junk))
    page.get_by_text("Upload rejected").first.wait_for(timeout=WAIT_MS)  # the alert and the drop box
    page.locator("select").first.select_option("sim_0104")  # the field selector still works
    page.get_by_text("Upload rejected").first.wait_for(state="visible")
    page.get_by_role("button", name="Compute score map").wait_for()
    page.locator("canvas").first.wait_for()


def test_models_tab_lists_checkpoint_cards(page):
    page.get_by_text("Models", exact=True).first.click()
    page.get_by_text("classifier_L.safetensors").first.wait_for(timeout=WAIT_MS)
    _shot(page, "models.png")


def _wait_for(ok, timeout=WAIT_S):
    deadline = time.time() + timeout
    while not ok():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def _tab(page, name):
    page.get_by_text(name, exact=True).first.click()


def test_generate_tab_draw_mask_and_generate(page):
    _tab(page, "Generate")
    page.get_by_role("button", name="Generate").first.wait_for(timeout=WAIT_MS)
    sel = page.locator("select").first  # options are labelled with kind and measured quality
    sel.select_option(sel.locator("option", has_text="edm_mask_gleam").first.get_attribute("value"))
    page.get_by_text("mask: no mask drawn (empty)").wait_for(timeout=WAIT_MS)
    box = page.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35)
    page.mouse.down()
    for k in range(12):  # a closed loop: filled as a diffuse region
        a = 2 * 3.14159 * k / 11
        page.mouse.move(
            box["x"] + box["width"] * (0.45 + 0.12 * np.cos(a)),
            box["y"] + box["height"] * (0.45 + 0.12 * np.sin(a)),
            steps=3,
        )
    page.mouse.up()
    page.get_by_text(re.compile(r"diffuse [1-9]\d* px")).wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("image(s) in").wait_for(timeout=240000)
    _wait_for(
        lambda: (
            page.evaluate(
                "() => Bokeh.documents[0].get_model_by_name('generate_gallery_source').data.image.length"
            )
            == 4
        )
    )  # the four gallery tiles (one figure)
    _shot(page, "generate.png")


def test_trajectory_slider_changes_the_image_and_compare_tab(page):
    _tab(page, "Trajectory")
    page.get_by_role("button", name="Sample", exact=True).click()
    page.get_by_text("recorded steps").wait_for(timeout=240000)
    words = "() => Bokeh.documents[0].get_model_by_name('traj_step_text').text"  # drawn on a canvas
    _wait_for(lambda: page.evaluate(words).startswith("step 1/"))
    frame = page.locator("canvas").nth(1)
    before = frame.screenshot()
    page.evaluate("() => { Bokeh.documents[0].get_model_by_name('traj_player_slider').value = 10; }")
    _wait_for(lambda: page.evaluate(words).startswith("step 10/"))  # the player's 10 is the text's 10
    _wait_for(lambda: page.locator("canvas").nth(1).screenshot() != before)  # step 10 painted
    _shot(page, "trajectory.png")
    page.get_by_role("button", name="Use last Generate result").wait_for()
    _tab(page, "Generate")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("image(s) in").wait_for(timeout=240000)
    _tab(page, "Compare")
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text(re.compile(r"generated \(latest Generate run, .*\) vs \d+ real")).wait_for(
        timeout=240000
    )
    page.get_by_text("Nearest training neighbours").wait_for(timeout=WAIT_MS)
    _shot(page, "compare.png")
