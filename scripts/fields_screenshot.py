"""The README's Fields screenshot (docs/fields.png): a real GLEAM field opened in the served app,
scored with the default model (the detector), first candidate selected.

Run:  python scripts/fields_screenshot.py [--data ../shared/data/GLEAM-Data/TRAIN_DATA_1]
      [--field abell_2744] [--threshold 0.5] [--out docs/fields.png]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from radioviz.app.headless import served_app_in_chromium

SET_THRESHOLD = """(v) => { for (const d of Bokeh.documents) for (const m of d._all_models.values())
    if (m.title === 'Threshold' && 'value' in m) m.value = v; }"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/GLEAM-Data/TRAIN_DATA_1")
    ap.add_argument("--field", default="")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--out", default="docs/fields.png")
    a = ap.parse_args()
    with served_app_in_chromium(data_dir=a.data, labels_path=tempfile.mktemp(suffix=".sqlite")) as (url, b):
        page = b.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(url, timeout=300000)
        page.get_by_role("button", name="Compute score map").wait_for(timeout=300000)
        if a.field:
            page.locator("select").first.select_option(a.field)
            time.sleep(3)
        page.evaluate(SET_THRESHOLD, a.threshold)
        time.sleep(1)
        page.get_by_role("button", name="Compute score map").click()
        page.get_by_text("Score map:").wait_for(timeout=600000)
        time.sleep(4)
        page.evaluate(
            "window.scrollTo(0, 0); document.querySelectorAll('*')"
            ".forEach(e => { if (e.scrollTop) e.scrollTop = 0; })"
        )
        page.screenshot(path=a.out)
        print(page.get_by_text("Score map:").inner_text())


if __name__ == "__main__":
    main()
