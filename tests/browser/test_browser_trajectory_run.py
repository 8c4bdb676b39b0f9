"""The Trajectory tab's text matches its pictures on the SERVED app in headless Chromium (issue
#28 item 4), and a seed past the libraries' range is refused in words on the page.  Waits are on
states the page publishes (texts, styles, Bokeh model values), never on time."""

from __future__ import annotations

import re

import pytest

from .test_browser_generate import _pick_model, _set_number, _tab, page, served  # noqa: F401
from .waits import WAIT_MS

pytestmark = pytest.mark.browser

#: the schedule plot's x axis, read from the page's Bokeh document
SCHEDULE_X = """() => { const f = [...Bokeh.documents[0].all_models].find(
    m => m.title && m.title.text === 'noise schedule');
  return [f.x_range.start, f.x_range.end]; }"""


def _axis_is(n: int) -> str:
    """JS: the schedule's x axis shows steps 1 … n and not one step more."""
    return f"() => {{ const [a, b] = ({SCHEDULE_X})(); return a <= 1 && a > 0 && b >= {n} && b < {n + 1}; }}"


def _sample_edm_in_trajectory(pg, steps: int):
    """Open the Trajectory tab, sample edm_gleam for ``steps`` Heun steps; the Sample button."""
    from playwright.sync_api import expect

    _tab(pg, "Trajectory")
    sample = pg.get_by_role("button", name="Sample", exact=True)
    sample.wait_for(timeout=WAIT_MS)
    _pick_model(pg, "edm_gleam")
    _set_number(pg, "Steps", steps)
    box = pg.locator(".bk-input-group", has=pg.get_by_text("Steps", exact=True)).locator("input")
    expect(box.first).to_have_value(str(steps), timeout=WAIT_MS)
    sample.click()
    expect(pg.get_by_text(f"{steps} recorded steps").first).to_be_visible(timeout=300000)
    return sample


def test_model_switch_marks_the_old_run_and_generate_result_gets_its_own_schedule_axis(page):  # noqa: F811
    """EDM run, then DDPM picked: the run stays with its EDM captions, greyed, "from the previous
    settings — press Sample".  Then a 3-step Generate result after the 4-step run (and the tab
    shown again, which pinned the old auto range): the schedule's axis is its own 3 steps."""
    from playwright.sync_api import expect

    _sample_edm_in_trajectory(page, 4)
    page.wait_for_function(_axis_is(4), timeout=WAIT_MS)
    expect(page.get_by_text("the model's current guess of the clean image").first).to_be_visible()
    # the formula is one click away: hidden until its "The formula" toggle is opened (#28 item 3)
    edm_caption = page.get_by_text("c_skip(σ)").first
    expect(edm_caption).to_be_hidden()
    page.locator("summary", has_text="The formula").nth(1).click()  # x̂0's (x_t's is the first)
    expect(edm_caption).to_be_visible()

    _pick_model(page, "ddpm_gleam")  # another model, nothing sampled yet
    note = page.get_by_text(re.compile("^From the previous settings — press Sample")).first
    expect(note).to_be_visible(timeout=WAIT_MS)
    expect(edm_caption).to_be_visible()  # the run's own captions stay …
    expect(page.get_by_text("The network predicts the noise")).to_have_count(0)  # … never the DDPM's
    expect(note).to_contain_text("edm_gleam (EDM) · Heun · 4 steps")
    frames = page.locator(".traj-frames").first
    expect(frames).to_have_css("opacity", "0.5")  # greyed

    _tab(page, "Generate")
    generate = page.get_by_role("button", name="Generate", exact=True)
    generate.wait_for(timeout=WAIT_MS)
    _pick_model(page, "edm_gleam")
    _set_number(page, "Steps", 3)
    gen_steps = page.locator(".bk-input-group", has=page.get_by_text("Steps", exact=True)).locator("input")
    expect(gen_steps.first).to_have_value("3", timeout=WAIT_MS)
    generate.click()
    expect(page.get_by_text(re.compile(r"image\(s\) in")).first).to_be_visible(timeout=300000)
    _tab(page, "Trajectory")
    page.get_by_role("button", name="Use last Generate result").click()
    expect(page.get_by_text("3 recorded steps").first).to_be_visible(timeout=WAIT_MS)
    page.wait_for_function(_axis_is(3), timeout=WAIT_MS)  # was stuck on the 4-step run's axis
    expect(note).to_be_hidden(timeout=WAIT_MS)  # the pickers follow the run: it is theirs
    expect(frames).to_have_css("opacity", "1")


def test_a_seed_past_the_libraries_range_is_refused_on_the_page(page):  # noqa: F811
    """A typed 99999999999999999999 reached the server as an integer past int64: Panel raised
    (``ufunc 'isnan'``, in the server log, which the page fixture fails on) and the page said
    nothing.  Now: one message, the box back to the seed in use."""
    from playwright.sync_api import expect

    _tab(page, "Generate")
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=WAIT_MS)
    seed = page.locator(".bk-input-group", has=page.get_by_text("Seed", exact=True)).locator("input").first
    expect(seed).to_have_value("0", timeout=WAIT_MS)
    _set_number(page, "Seed", "99999999999999999999")
    message = page.get_by_text(re.compile(r"^Seed must be a whole number between 0 and 4,294,967,295: "))
    expect(message.first).to_have_text(  # never "1e+20": not what was typed
        "Seed must be a whole number between 0 and 4,294,967,295: the number typed is far larger — "
        "refused, kept 0.",
        timeout=WAIT_MS,
    )
    expect(seed).to_have_value("0", timeout=WAIT_MS)  # the box shows the seed in use again


#: every visible "The formula" toggle of the page: its gap (px) to the sentence above it and to
#: what comes below it (the next sentence, else the end of its pane)
TOGGLE_GAPS = """() => {
  const out = [];
  const walk = (root) => {
    for (const d of root.querySelectorAll('details')) {
      const r = d.getBoundingClientRect();
      if (!r.height || d.querySelector('summary').textContent !== 'The formula') continue;
      const prev = d.previousElementSibling, next = d.nextElementSibling;
      const below = next || d.getRootNode().host;  // the next sentence, else the pane's end
      const end = next ? below.getBoundingClientRect().top : below.getBoundingClientRect().bottom;
      out.push([r.top - prev.getBoundingClientRect().bottom, end - r.bottom]);
    }
    for (const e of root.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
  };
  walk(document);
  return out;
}"""


def test_each_formula_toggle_sits_under_its_sentence_with_a_gap_before_the_next(page):  # noqa: F811
    """Walk: in the Noise level / Update / Guidance column the next sentence started right under
    "▸ The formula" (0 px), which read as that sentence's heading, while a full paragraph's gap
    parted the toggle from its own sentence.  Now each toggle sits under its sentence and a
    paragraph's gap follows it, the same for the seven toggles on the tab."""
    _tab(page, "Trajectory")
    page.get_by_role("button", name="Run both").wait_for(timeout=WAIT_MS)
    page.wait_for_function(f"() => ({TOGGLE_GAPS})().length === 7", timeout=WAIT_MS)
    gaps = page.evaluate(TOGGLE_GAPS)
    assert all(above <= 6 for above, _ in gaps), gaps  # close under its own sentence
    assert all(below >= 12 for _, below in gaps), gaps  # a paragraph's gap before what follows


def test_a_run_is_still_shown_after_another_tab_was_opened(page):  # noqa: F811
    """Walk 16: Sample, open another tab, come back: the step line said "Press Sample", x_t was
    grey and x̂0 flat, while the captions still described the run (the frames live in the
    browser, and the tab's figures were built again without them)."""
    from playwright.sync_api import expect

    sample = _sample_edm_in_trajectory(page, 4)
    shown = (
        "() => { const d = Bokeh.documents[0]; const t = d.get_model_by_name('traj_step_text');"
        " const s = d.get_model_by_name('traj_xt'); return t && t.text.startsWith('step ')"
        " && Array.from(s.data.image[0]).some((v) => v !== 0); }"
    )
    page.wait_for_function(shown, timeout=WAIT_MS)
    _tab(page, "Models")
    page.get_by_text("Quality (").first.wait_for(timeout=WAIT_MS)
    _tab(page, "Trajectory")
    sample.wait_for(timeout=WAIT_MS)
    page.wait_for_function(shown, timeout=WAIT_MS)
    expect(page.get_by_text("Press Sample (or use the Generate tab")).to_have_count(0)
