"""Generate, Trajectory and Compare against the SERVED app (worker threads on, as ``panel serve``
runs it) in headless Chromium.  Every test fails on a console error and on any error the server
logs (a Bokeh model changed from a worker thread only shows up there)."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import numpy as np
import pytest

from .waits import WAIT_MS, WAIT_S

pytestmark = pytest.mark.browser


class _ServerLog(logging.Handler):
    """Every ERROR record (and any record carrying an exception) the server process logs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record):
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import panel as pn

    from radioviz.app.headless import served_app

    log = _ServerLog()
    logging.getLogger().addHandler(log)
    old_handler = pn.config.exception_handler
    pn.config.exception_handler = lambda exc: log.records.append(f"callback: {exc!r}")
    labels = tmp_path_factory.mktemp("labels") / "labels.ecsv"
    with served_app(labels_path=str(labels)) as url:
        yield url, log
    pn.config.exception_handler = old_handler
    logging.getLogger().removeHandler(log)


@pytest.fixture
def page(served, browser):
    url, log = served
    page = browser.new_page(viewport={"width": 1700, "height": 1100}, accept_downloads=True)
    page.errors = []
    # every console error fails the test (the gallery is updated in place, so Bokeh's "reference
    # pNNN isn't known", an event for a replaced model, can no longer happen)
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    n_before = len(log.records)
    page.goto(url)
    page.locator("canvas").first.wait_for(timeout=WAIT_MS)
    yield page
    time.sleep(0.5)  # let the last callbacks land
    assert not log.records[n_before:], f"server errors: {log.records[n_before:]}"
    assert not page.errors, page.errors
    page.close()


def _tab(page, name):
    page.get_by_text(name, exact=True).first.click()


def _select_with(page, option_text):
    return page.locator("select", has=page.locator("option", has_text=option_text)).first


def _summary(page) -> str:
    return page.get_by_text(re.compile(r"^mask: ")).first.inner_text()


def _wait_summary(page, pattern, timeout=WAIT_S):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = _summary(page)
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"mask summary {text!r} never matched {pattern!r}")


def _draw_loop(page, canvas, cx=0.45, cy=0.45, r=0.12):
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * (cx + r), box["y"] + box["height"] * cy)
    page.mouse.down()
    for k in range(13):
        a = 2 * np.pi * k / 12
        page.mouse.move(
            box["x"] + box["width"] * (cx + r * np.cos(a)),
            box["y"] + box["height"] * (cy + r * np.sin(a)),
            steps=3,
        )
    page.mouse.up()


def _open_mask_model(page):
    _tab(page, "Generate")
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=WAIT_MS)
    sel = _select_with(page, "edm_mask_gleam")
    sel.select_option(sel.locator("option", has_text="edm_mask_gleam").first.get_attribute("value"))
    page.get_by_text(re.compile(r"^mask: ")).first.wait_for(timeout=WAIT_MS)
    return page.locator(".bk-Canvas canvas, canvas").first


def test_mask_canvas_every_control(page, tmp_path):
    """Field mask, Clear, class choice, Undo and a mask file: each changes the mask and the canvas."""
    canvas = _open_mask_model(page)
    blank = canvas.screenshot()
    _select_with(page, "(simulator truth)").select_option("sim_0100 (simulator truth)")
    _wait_summary(page, r"compact [1-9]\d* px|extended [1-9]\d* px")
    _until(lambda: canvas.screenshot() != blank, "the field's mask never reached the canvas")
    page.get_by_role("button", name="Clear", exact=True).click()
    _wait_summary(page, r"no mask drawn \(empty\)")
    page.get_by_role("button", name="compact", exact=True).click()
    _wait_summary(page, r"next stroke: compact")
    _draw_loop(page, canvas)
    text = _wait_summary(page, r"compact [1-9]\d* px")
    assert "diffuse 0 px" in text, text  # drawn in the chosen class, not the default one
    page.get_by_role("button", name="Undo", exact=True).click()
    _wait_summary(page, r"no mask drawn \(empty\)")
    m = np.zeros((64, 64), np.int64)
    m[20:30, 20:30] = 2
    np.save(tmp_path / "my_mask.npy", m)
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "my_mask.npy"))
    _wait_summary(page, r"extended 100 px")
    _until(lambda: canvas.screenshot() != blank, "the file's mask never reached the canvas")


def _pick_class(page, cls):
    """The class for the next shape, waited on until the server says the browser's tools have it."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=cls, exact=True).click()
    expect(page.get_by_text(re.compile(r"^mask: ")).first).to_contain_text(
        f"next stroke: {cls}", timeout=WAIT_MS
    )


def _counts_when(page, pattern) -> dict:
    """The pixel counts, once the published summary matches ``pattern``."""
    from playwright.sync_api import expect

    summary = page.get_by_text(re.compile(r"^mask: ")).first
    expect(summary).to_have_text(re.compile(pattern), timeout=WAIT_MS)
    return {c: int(n) for c, n in re.findall(r"(\w+) (\d+) px", summary.inner_text())}


def test_mask_canvas_every_stroke_counts(page):
    """Issue #28: three strokes in three classes each add their pixels (BokehJS labelled only the
    first stroke in an empty source: later ones were outlines of class ""), Undo takes the last
    stroke's pixels away, Clear all of them, and a stroke after Clear counts again."""
    canvas = _open_mask_model(page)
    _pick_class(page, "compact")
    _draw_loop(page, canvas, 0.25, 0.3, 0.08)
    c = _counts_when(page, r"compact [1-9]\d* px · extended 0 px · diffuse 0 px")["compact"]
    _pick_class(page, "extended")
    _draw_loop(page, canvas, 0.6, 0.3, 0.08)
    e = _counts_when(page, rf"compact {c} px · extended [1-9]\d* px · diffuse 0 px")["extended"]
    _pick_class(page, "diffuse")
    _draw_loop(page, canvas, 0.4, 0.7, 0.08)
    _counts_when(page, rf"compact {c} px · extended {e} px · diffuse [1-9]\d* px")
    page.get_by_role("button", name="Undo", exact=True).click()
    _counts_when(page, rf"compact {c} px · extended {e} px · diffuse 0 px")
    page.get_by_role("button", name="Clear", exact=True).click()
    _counts_when(page, r"no mask drawn \(empty\)")
    _draw_loop(page, canvas, 0.6, 0.3, 0.08)  # still "diffuse"
    _counts_when(page, r"compact 0 px · extended 0 px · diffuse [1-9]\d* px")


def test_mask_canvas_polygon_by_press_and_hold(page):
    """A polygon as the tool's tooltip says (Bokeh 3 starts and ends one on a press and hold, a
    double tap does nothing) adds its pixels in the chosen class; Undo takes them away."""
    canvas = _open_mask_model(page)
    _pick_class(page, "extended")
    page.locator("[title^='Polygon']").click()
    box = canvas.bounding_box()
    at = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in [(0.3, 0.3), (0.6, 0.3)]]
    at += [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in [(0.6, 0.6), (0.3, 0.6)]]
    page.mouse.move(*at[0])
    page.mouse.down()
    page.wait_for_timeout(1000)  # the gesture: held well past Bokeh's 300 ms press threshold
    page.mouse.up()
    for x, y in at[1:3]:
        page.wait_for_timeout(500)  # the gesture: taps further apart than a double tap (300 ms)
        page.mouse.click(x, y)
    page.wait_for_timeout(500)
    page.mouse.move(*at[3])
    page.mouse.down()
    page.wait_for_timeout(1000)
    page.mouse.up()
    n = _counts_when(page, r"compact 0 px · extended [1-9]\d* px · diffuse 0 px")["extended"]
    assert n > 200, f"{n} px: not the whole square"
    page.get_by_role("button", name="Undo", exact=True).click()
    _counts_when(page, r"no mask drawn \(empty\)")


def test_invalid_mask_file_named_by_the_users_file_name(page, tmp_path):
    """A refused mask file is named as the user named it: no temporary folder, no server path."""
    _open_mask_model(page)
    np.save(tmp_path / "my_small_mask.npy", np.zeros((32, 32), np.int64))
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "my_small_mask.npy"))
    page.get_by_text(re.compile(r"^my_small_mask\.npy: mask is a int64 array of shape \(32, 32\)")).wait_for(
        timeout=WAIT_MS
    )
    html = page.content()
    assert not re.search(r"radioviz-upload|/tmp/tmp|upload\.npy", html)  # no temporary name or folder
    (tmp_path / "not_a_mask.fits").write_bytes(b"garbage" * 100)
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "not_a_mask.fits"))
    page.get_by_text("not_a_mask.fits: not a FITS file").wait_for(timeout=WAIT_MS)
    assert not re.search(r"radioviz-upload|/tmp/tmp", page.content())


def _until(ok, what: str, timeout=WAIT_S):
    """Poll ``ok()`` until it holds (a state the page shows), else fail saying ``what``."""
    deadline = time.time() + timeout
    while not ok():
        assert time.time() < deadline, what
        time.sleep(0.2)


def _wait_js(page, js, ok, timeout=WAIT_S):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = page.evaluate(js)
        if ok(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{value!r} never satisfied the check")


def _pick_model(page, name):
    sel = _select_with(page, name)
    sel.select_option(sel.locator("option", has_text=name).first.get_attribute("value"))


def _set_number(page, label, value):
    box = page.locator(".bk-input-group", has=page.get_by_text(label, exact=True)).locator("input").first
    box.fill(str(value))
    box.press("Enter")


def test_generate_double_click_runs_once_and_downloads_wait_for_a_run(page, monkeypatch):
    import radioviz.app.generate_state as gv

    calls = []
    real = gv.generate
    monkeypatch.setattr(gv, "generate", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    _tab(page, "Generate")
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=WAIT_MS)
    page.get_by_text("nothing yet").wait_for(timeout=WAIT_MS)
    npz = page.get_by_role("button", name="Download .npz")
    assert npz.is_disabled()
    _pick_model(page, "ddpm_gleam")
    _set_number(page, "Steps", 30)
    button = page.get_by_role("button", name="Generate", exact=True)
    button.dblclick()
    page.get_by_text("image(s) in").wait_for(timeout=240000)
    time.sleep(1.0)
    assert len(calls) == 1, f"{len(calls)} runs started by one double click"
    assert not button.is_disabled() and not npz.is_disabled()
    page.get_by_text("Conditioning:").wait_for()
    with page.expect_download() as dl:
        npz.click()
    assert Path(dl.value.path()).stat().st_size > 1000


def test_generate_flux_box_and_class_words(page):
    from playwright.sync_api import expect

    _tab(page, "Generate")
    _pick_model(page, "edm_gleam")
    page.get_by_text("diffuse emission around a cool-core BCG").wait_for(timeout=WAIT_MS)  # in words
    on = page.get_by_role("button", name="condition on this peak flux")
    off = page.get_by_role("button", name="ignore peak flux")
    flux = page.locator(".bk-input-group", has=page.get_by_text("Peak flux (Jy/beam)", exact=True))
    expect(off).to_have_class(re.compile("bk-active"))
    expect(flux.locator("input").first).to_be_disabled()  # an ignored flux cannot be typed
    on.click()  # the words themselves are the control
    expect(on).to_have_class(re.compile("bk-active"), timeout=WAIT_MS)
    expect(flux.locator("input").first).to_be_enabled(timeout=WAIT_MS)
    _set_number(page, "Peak flux (Jy/beam)", 3.5)
    off.click()
    expect(off).to_have_class(re.compile("bk-active"), timeout=WAIT_MS)
    expect(flux.locator("input").first).to_be_disabled(timeout=WAIT_MS)
    on.click()
    expect(on).to_have_class(re.compile("bk-active"), timeout=WAIT_MS)
    # one entry at a time: served events run on a thread pool, so two typed at the same instant
    # may be taken in either order
    _set_number(page, "Steps", 2.5)  # walk: Bokeh's integer box made this 25 without a word
    page.get_by_text(re.compile(r"Steps must be a whole number .*2\.5 refused, kept \d+")).first.wait_for(
        timeout=WAIT_MS
    )
    kept = re.search(r"kept (\d+)", page.get_by_text(re.compile("2\\.5 refused")).first.inner_text()).group(1)
    steps = page.locator(".bk-input-group", has=page.get_by_text("Steps", exact=True)).locator("input").first
    expect(steps).to_have_value(kept, timeout=WAIT_MS)
    _set_number(page, "Steps", 3)
    expect(steps).to_have_value("3", timeout=WAIT_MS)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("peak flux 3.5 Jy/beam").first.wait_for(timeout=240000)


def test_trajectory_player_text_scale_wheel_and_edm_samplers(page):
    """Player and text agree, the x̂0 − x_t colour scale is a choice, the wheel scrolls the page,
    and with an EDM the sampler button says what it runs."""
    _tab(page, "Trajectory")
    _set_number(page, "Steps", 6)
    page.get_by_role("button", name="Sample", exact=True).click()
    page.get_by_text("6 recorded steps").wait_for(timeout=300000)
    words = """() => { const d = Bokeh.documents[0];
        return [d.get_model_by_name('traj_step_text').text, d.get_model_by_name('traj_notice').text]; }"""
    _wait_js(page, words, lambda w: w[0].startswith("step 1/6 · σ") and "What to notice — x̂0" in w[1])
    page.evaluate("() => { Bokeh.documents[0].get_model_by_name('traj_player_slider').value = 5; }")
    _wait_js(page, words, lambda w: w[0].startswith("step 5/6 · σ"))  # the player's 5 is the text's 5
    limits = """() => { const d = Bokeh.documents[0];
        const s = d.get_model_by_name('traj_diff');
        const r = [...d.all_models].find(m => m.type === 'GlyphRenderer' && m.data_source === s);
        return [r.glyph.color_mapper.low, r.glyph.color_mapper.high]; }"""
    page.get_by_role("button", name="fixed scale", exact=True).click()  # the default shows stages
    _wait_js(page, limits, lambda v: v == [-2, 2])
    page.get_by_role("button", name="per frame", exact=True).click()
    deadline = time.time() + WAIT_S
    while time.time() < deadline and page.evaluate(limits) == [-2, 2]:
        time.sleep(0.2)
    low, high = page.evaluate(limits)
    assert low == -high and 0 < high != 2  # its own symmetric range, told by the colorbar
    plot = page.locator("canvas").nth(1)
    y0 = plot.bounding_box()["y"]
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 300)
    _until(lambda: plot.bounding_box()["y"] < y0 - 100, "the wheel did not scroll the page")
    _pick_model(page, "edm_gleam")
    page.get_by_role("button", name="Run Euler-25 / Heun-25").wait_for(timeout=WAIT_MS)
    page.get_by_text("no discrete DDPM/DDIM sampler").wait_for()


def test_trajectory_play_runs_in_the_browser_and_the_step_reaches_the_server(page):
    """Play draws every frame from the browser's cache with nothing sent to the server per frame;
    the step it stops at (at the end, or paused) is the server's step afterwards."""
    _tab(page, "Trajectory")
    _set_number(page, "Steps", 12)
    page.get_by_role("button", name="Sample", exact=True).click()
    page.get_by_text("12 recorded steps").wait_for(timeout=300000)
    frames = page.locator(".traj-frames").first  # its player (the toy below has its own)
    words = "() => Bokeh.documents[0].get_model_by_name('traj_step_text').text"
    _wait_js(page, words, lambda w: w.startswith("step 1/12"))
    page.evaluate(
        """() => { const src = Bokeh.documents[0].get_model_by_name('traj_xt'); window._drawn = [];
        src.properties.data.change.connect(() => window._drawn.push(performance.now())); }"""
    )
    page.evaluate(
        """() => { const d = Bokeh.documents[0]; window._sent = [];
        d.on_change(e => { if (e.sync) window._sent.push(e.attr || e.kind || 'event'); }); }"""
    )
    frames.get_by_role("button", name="▶ Play").click()
    frames.get_by_role("button", name="❚❚ Pause").wait_for(timeout=WAIT_MS)
    frames.get_by_role("button", name="▶ Play").wait_for(timeout=WAIT_MS)  # stops at the last step
    assert page.evaluate(words).startswith("step 12/12")
    drawn = page.evaluate("() => window._drawn")
    assert len(drawn) == 11, f"{len(drawn)} frames drawn for 11 steps"
    gap = float(np.median(np.diff(drawn)))  # the default speed (4 frames/s) can be followed
    assert 180 < gap < 450, f"{gap:.0f} ms per frame at the default speed"
    sent = page.evaluate("() => window._sent")  # Play/Pause labels and the step it stopped at
    assert len(sent) <= 4 and sent.count("value_throttled") == 1 and "value" not in sent, sent
    # the server heard the step: a server-side redraw (per-frame scale) keeps it, not step 1
    page.get_by_role("button", name="per frame", exact=True).click()
    time.sleep(2.0)
    assert page.evaluate(words).startswith("step 12/12")
    # paused half-way: the same
    frames.get_by_role("button", name="▶ Play").click()  # from the end it starts again at step 1
    frames.get_by_role("button", name="❚❚ Pause").click(force=True)  # at once: Play takes 1.1 s
    frames.get_by_role("button", name="▶ Play").wait_for(timeout=WAIT_MS)
    stopped = page.evaluate(words).split(" ·")[0]
    assert stopped != "step 12/12", "Pause did not stop the player"
    time.sleep(0.5)
    assert page.evaluate(words).split(" ·")[0] == stopped  # and it stays stopped
    page.get_by_role("button", name="fixed scale", exact=True).click()
    time.sleep(2.0)
    assert page.evaluate(words).split(" ·")[0] == stopped
    k = int(stopped.split()[1].split("/")[0])  # one step forward (k < 12), then back, then a redraw
    frames.get_by_role("button", name="▶", exact=True).click()
    _wait_js(page, words, lambda w: w.startswith(f"step {k + 1}/12"))
    frames.get_by_role("button", name="◀", exact=True).click()
    _wait_js(page, words, lambda w: w.startswith(f"step {k}/12"))
    page.get_by_role("button", name="per frame", exact=True).click()
    time.sleep(2.0)
    assert page.evaluate(words).startswith(f"step {k}/12")


def test_gallery_replaced_in_place_between_runs(page):
    """Two runs of different sizes, the mouse moving over the page meanwhile: the second run's
    tiles replace the first's in the same figure, and nothing reaches the console (the page
    fixture fails on any console error, "reference pNNN isn't known" included)."""
    _tab(page, "Generate")
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=WAIT_MS)
    _pick_model(page, "ddpm_gleam")
    _set_number(page, "Steps", 3)
    gallery = """() => { const d = Bokeh.documents[0];
        return [d.get_model_by_name('generate_gallery').id,
                d.get_model_by_name('generate_gallery_source').data.image.length]; }"""
    seen = []
    for n in (4, 2):
        handle = page.locator(".bk-input-group", has=page.get_by_text("How many")).locator(".noUi-handle")
        for _ in range(4 - n):  # the "How many" slider, by keyboard (4 → 2)
            handle.first.press("ArrowLeft")
        page.get_by_text(f"How many: {n}").first.wait_for(timeout=WAIT_MS)
        time.sleep(0.5)
        page.get_by_role("button", name="Generate", exact=True).click()
        for k in range(30):  # pointer events on the page while the run ends and the gallery changes
            page.mouse.move(900 + 10 * (k % 10), 500 + 12 * (k % 7))
            time.sleep(0.05)
        page.get_by_text(f"{n} image(s) in").wait_for(timeout=240000)
        seen.append(_wait_js(page, gallery, lambda v, n=n: v[1] == n))
    assert seen[0][0] == seen[1][0]  # one figure, its data replaced


def _visible_cancel(page):
    return page.locator("button:visible").filter(has_text=re.compile(r"^\s*Cancel\s*$")).first


def test_cancel_stops_a_long_generate_and_a_long_trajectory_run(page):
    """Walk of session 13: a page's events are handled in order, and Generate and Sample ran inside
    their click's handler, so Cancel waited until the 200-step run had ended (139 s).  Now the
    runs go on off the event queue and Cancel is heard at the next network call."""
    from playwright.sync_api import expect

    _tab(page, "Generate")
    _pick_model(page, "edm_gleam")
    _set_number(page, "Steps", 200)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text(re.compile(r"Generating \d+ with edm_gleam")).first.wait_for(timeout=WAIT_MS)
    cancel = _visible_cancel(page)
    expect(cancel).to_be_enabled(timeout=WAIT_MS)
    cancel.click()
    page.get_by_text(re.compile(r"Cancelled \(cancelled at step \d+ of")).first.wait_for(timeout=WAIT_MS)
    assert not page.get_by_text("image(s) in").count()  # the run did not finish behind the message

    _tab(page, "Trajectory")
    _set_number(page, "Steps", 200)
    page.get_by_role("button", name="Sample", exact=True).click()
    cancel = _visible_cancel(page)
    expect(cancel).to_be_enabled(timeout=WAIT_MS)
    cancel.click()
    page.get_by_text(re.compile(r"cancelled at step \d+ of \d+")).first.wait_for(timeout=WAIT_MS)
