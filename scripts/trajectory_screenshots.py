"""Screenshots of the Trajectory tab at chosen steps of one run of the default model (Heun-25 of
the EDM, seed 0), from the served app in headless Chromium: to look at whether each stage is
visible and the "What to notice" line matches the pictures (issue #28), and for docs/trajectory.png.

Run:  python scripts/trajectory_screenshots.py [--steps 1 10 20 25] [--out /tmp/trajectory]
      [--docs 20]   (also writes that step's picture to docs/trajectory.png)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from radioviz.app.headless import served_app_in_chromium

DOCS = Path(__file__).resolve().parents[1] / "docs" / "trajectory.png"
GO_TO = "(k) => { Bokeh.documents[0].get_model_by_name('traj_player_slider').value = k; }"
AT = """(k) => { const d = Bokeh.documents[0];
  return d.get_model_by_name('traj_process_marker').location === k
    && d.get_model_by_name('traj_step_text').text.startsWith(`step ${k}/`); }"""
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
NOTICE = "() => Bokeh.documents[0].get_model_by_name('traj_notice').text"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 10, 20, 25])
    ap.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "trajectory"))
    ap.add_argument("--docs", type=int, default=None, help="the step copied to docs/trajectory.png")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    labels = str(out / "labels.sqlite")
    with served_app_in_chromium(labels_path=labels) as (url, b):
        page = b.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url, timeout=300000)
        page.locator("canvas").first.wait_for(timeout=120000)
        page.get_by_text("Trajectory", exact=True).first.click()
        sample = page.get_by_role("button", name="Sample", exact=True)
        sample.wait_for(timeout=120000)
        sample.click()
        page.get_by_text("recorded steps").first.wait_for(timeout=600000)
        for k in a.steps:
            page.evaluate(GO_TO, k)
            page.wait_for_function(AT, arg=k, timeout=30000)
            page.evaluate(PAINTED)
            path = out / f"trajectory_step{k:02d}.png"
            page.screenshot(path=str(path), clip={"x": 0, "y": 60, "width": 1600, "height": 800})
            print(f"{path}\n  {page.evaluate(NOTICE)}")
            if k == a.docs:
                shutil.copy(path, DOCS)


if __name__ == "__main__":
    main()
