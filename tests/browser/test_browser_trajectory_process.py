"""Issue #28 items 2 and 5 on the SERVED app in headless Chromium: the Trajectory tab's "What to
notice" line is computed from the frames on screen and the process plot's marker moves with the
player in the browser; under a data root the forward process, Generate's background reference
and its field mask read a real GLEAM field.  Waits are on states the page publishes (Bokeh
model values, texts), never on time; any console error or server error log fails a test."""

from __future__ import annotations

import logging
import re

import pytest

from radioviz.app.headless import ServerErrors

from ..conftest import GLEAM, SHARED_DATA, needs
from .test_browser_generate import _pick_model, _set_number, _tab, page, served  # noqa: F401
from .waits import WAIT_MS

pytestmark = pytest.mark.browser

STEPS = 10

#: what the page shows of step k: the step line, the notice, the process plot's data and marker
SHOWN = """() => { const d = Bokeh.documents[0];
  const src = d.get_model_by_name('traj_process').data;
  return {step: d.get_model_by_name('traj_step_text').text,
          notice: d.get_model_by_name('traj_notice').text,
          marker: d.get_model_by_name('traj_process_marker').location,
          xt: Array.from(src.xt), peak: Array.from(src.peak)}; }"""
GO_TO = "(k) => { Bokeh.documents[0].get_model_by_name('traj_player_slider').value = k; }"
AT = """(k) => { const d = Bokeh.documents[0];
  return d.get_model_by_name('traj_process_marker').location === k
    && d.get_model_by_name('traj_step_text').text.startsWith(`step ${k}/`); }"""


def _check_notice(shown: dict, k: int) -> None:
    """The notice of step k quotes the process plot's numbers at k and says what they say."""
    lines = shown["notice"].split("\n")
    assert len(lines) == 2 and lines[0].startswith("What to notice — x̂0"), shown["notice"]
    r = shown["xt"][k - 1]
    quoted = float(re.search(r"correlation with the final image (-?[\d.]+)", lines[1]).group(1))
    assert abs(quoted - r) < 0.006, (quoted, r)
    level = 0.5 + 0.5 * max(shown["xt"][0], 0.0)  # counted from what step 1's noise already had
    settled = all(v >= level for v in shown["xt"][k - 1 :])
    assert lines[1].startswith("x_t shows the sources" if settled else "x_t still looks like noise"), lines
    if "within 10 % of its final peak" in lines[0]:
        assert all(abs(p - 1) <= 0.1 for p in shown["peak"][k - 1 :])


def test_notice_is_computed_from_the_frames_and_the_process_marker_moves(page):  # noqa: F811

    from .test_browser_trajectory_run import _sample_edm_in_trajectory

    _sample_edm_in_trajectory(page, STEPS)
    page.wait_for_function(AT, arg=1, timeout=WAIT_MS)
    for k in (1, STEPS // 2, STEPS - 1, STEPS):  # scrubbed in the browser: text and marker follow
        page.evaluate(GO_TO, k)
        page.wait_for_function(AT, arg=k, timeout=WAIT_MS)
        _check_notice(page.evaluate(SHOWN), k)
    first, last = (
        page.evaluate(f"() => Bokeh.documents[0].get_model_by_name('traj_cache').data.notice[{i}]")
        for i in (0, STEPS - 1)
    )
    assert first != last and "blurry guess" in first  # the words change with the pictures

    # Play: the marker moves with the player, step by step, in the browser
    page.evaluate(GO_TO, 1)
    page.wait_for_function(AT, arg=1, timeout=WAIT_MS)
    page.evaluate(
        """() => { const m = Bokeh.documents[0].get_model_by_name('traj_process_marker');
        window._marks = []; m.properties.location.change.connect(() => window._marks.push(m.location)); }"""
    )
    page.locator(".traj-frames").first.get_by_role("button", name="▶ Play").click()  # not the toy's
    page.wait_for_function(AT, arg=STEPS, timeout=WAIT_MS)
    marks = page.evaluate("() => window._marks")
    assert marks == list(range(2, STEPS + 1)), marks
    _check_notice(page.evaluate(SHOWN), STEPS)


@pytest.fixture
def rooted(browser, tmp_path):  # noqa: F811
    """A page of the app served with the shared data as its data root."""
    from radioviz.app import resources
    from radioviz.app.headless import served_app

    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    old = resources.data_root()
    resources.set_data_root(SHARED_DATA)
    try:
        with served_app(labels_path=str(tmp_path / "labels.sqlite")) as url:
            p = browser.new_page(viewport={"width": 1600, "height": 1100})
            p.errors = []
            p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
            p.on("pageerror", lambda e: p.errors.append(str(e)))
            p.goto(url)
            p.locator("canvas").first.wait_for(timeout=WAIT_MS)
            yield p
            assert not p.errors, p.errors
            p.close()
    finally:
        resources.set_data_root(old)
        logging.getLogger().removeHandler(errors)
    assert not errors.records, errors.records


@needs(GLEAM)
def test_forward_process_background_and_mask_on_a_real_field_under_a_data_root(rooted):
    """The walk: abell_2163 open in the Fields tab under --data-root ../shared/data, then
    "Cannot use abell_2163 for the forward process: GLEAM-Data/TRAIN_DATA_1: no such file or
    directory", and Generate offered only the six bundled simulated fields."""
    from playwright.sync_api import expect

    box = rooted.locator("input[type=text]").first
    box.fill("GLEAM-Data/TRAIN_DATA_1")
    box.press("Enter")
    # the folder is open once the page's URL names it (a field picked before then is replaced by the
    # folder's first field on its way back to the browser)
    expect(rooted).to_have_url(re.compile(r"folder=GLEAM-Data%2FTRAIN_DATA_1"), timeout=WAIT_MS)
    field = rooted.locator("select", has=rooted.locator("option", has_text="abell_2163")).first
    expect(field).to_be_attached(timeout=WAIT_MS)
    field.select_option("abell_2163")
    expect(field).to_have_value("abell_2163", timeout=WAIT_MS)

    _tab(rooted, "Trajectory")
    x0_line = rooted.get_by_text("x0 = abell_2163 (the Fields tab's field)").first
    expect(x0_line).to_be_visible(timeout=WAIT_MS)
    expect(rooted.get_by_text("Cannot use")).to_have_count(0)

    _tab(rooted, "Generate")
    rooted.get_by_role("button", name="Generate", exact=True).wait_for(timeout=WAIT_MS)
    _pick_model(rooted, "edm_mask_gleam")
    label = "abell_2163 · GLEAM-Data/TRAIN_DATA_1"
    mask = rooted.locator("select", has=rooted.locator("option", has_text=f"{label} (photutils)")).first
    mask.select_option(label=f"{label} (photutils)")
    summary = rooted.get_by_text(re.compile(r"^mask: ")).first
    expect(summary).to_have_text(re.compile(r"(compact|extended|diffuse) [1-9]\d* px"), timeout=WAIT_MS)
    background = rooted.locator("select", has=rooted.locator("option", has_text=label)).filter(
        has_not=rooted.locator("option", has_text="(photutils)")
    )
    background.first.select_option(label=label)
    _set_number(rooted, "Steps", 2)
    rooted.get_by_role("button", name="Generate", exact=True).click()
    expect(rooted.get_by_text("background from abell_2163").first).to_be_visible(timeout=240000)
