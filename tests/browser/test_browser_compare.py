"""The Compare tab's figures on the SERVED app in headless Chromium: the guide to the numbers is
shown whole beside the plots it speaks of, over none of them, and every plot fits the window at
1600 and 1280 px.  Waits are on texts the page publishes, never on time; any console error or
server error log fails the test."""

from __future__ import annotations

import pytest

from .. import fuzz_corpus as fz
from .test_browser_generate import _tab, page, served  # noqa: F401
from .waits import WAIT_MS

pytestmark = pytest.mark.browser

#: the guide's pane, the column holding it, and every plot canvas, as [left, top, right, bottom]
LAYOUT = """() => {
  const all = [];
  const collect = (root) => {
    for (const e of root.querySelectorAll('*')) { all.push(e); if (e.shadowRoot) collect(e.shadowRoot); }
  };
  collect(document);
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const heading = all.find(e => e.tagName === 'H4' && e.textContent.startsWith('How to read'));
  const guide = heading.getRootNode().host;
  const column = guide.parentElement || guide.getRootNode().host;
  const plots = all.filter(e => e.tagName === 'CANVAS' && e.getBoundingClientRect().width > 100);
  return {guide: box(guide), clipped: column.scrollHeight - column.clientHeight,
          plots: plots.map(box), width: window.innerWidth};
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_guide_to_the_numbers_is_whole_and_over_no_plot_at_1600_and_1280(page, tmp_path):  # noqa: F811
    """Walk: after Compare the guide was cut to the histograms' height and scrolled within, its
    last visible line on the spectral-index plot's title below (it read as running into the
    plot), and at 1280 px the α plot ran off the window.  Now the guide is whole, beside the
    pixel, α and power plots, and nothing is wider than the window."""
    _tab(page, "Compare")
    page.get_by_role("button", name="Compare", exact=True).wait_for(timeout=WAIT_MS)
    page.locator("input[type=file]").last.set_input_files(str(fz.Corpus(tmp_path).samples()))
    page.get_by_text("Loaded samples.npz: 4 images").first.wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text("Nearest training neighbours").first.wait_for(timeout=240000)
    page.get_by_text("How to read these numbers").first.wait_for(timeout=WAIT_MS)
    for width in (1600, 1280):
        page.set_viewport_size({"width": width, "height": 1100})
        page.wait_for_function(f"() => ({LAYOUT})().width === {width}", timeout=WAIT_MS)
        shown = page.evaluate(LAYOUT)
        assert shown["clipped"] <= 1, shown  # the whole guide, no scrolling box
        assert len(shown["plots"]) >= 7, shown  # histogram, error, α, power, three statistics
        assert not [p for p in shown["plots"] if _overlap(p, shown["guide"])], shown
        assert max(p[2] for p in shown["plots"]) <= width, shown  # no plot runs off the window
