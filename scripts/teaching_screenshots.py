"""Screenshots for docs/teaching.md: one Heun trajectory of the class-conditional EDM, walked
through in the served app (headless Chromium).  Run: python scripts/teaching_screenshots.py"""

from __future__ import annotations

import time
from pathlib import Path

from radioviz.app.headless import served_app_in_chromium

OUT = Path(__file__).resolve().parents[1] / "docs" / "teaching"
STEPS = 12
MIDDLE = 7  # σ ≈ 0.95: stage 2
PLAYER = "[...Bokeh.documents[0].all_models].find(m => m.type === 'panel.models.widgets.Player')"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with served_app_in_chromium() as (url, b):
        page = b.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        page.locator("canvas").first.wait_for(timeout=120000)
        page.get_by_text("Trajectory", exact=True).first.click()
        sel = page.locator("select", has=page.locator("option", has_text="edm_gleam")).first
        sel.select_option(sel.locator("option", has_text="edm_gleam").first.get_attribute("value"))
        time.sleep(1.0)
        box = page.locator(".bk-input-group", has=page.get_by_text("Steps", exact=True)).locator("input")
        box.first.fill(str(STEPS))
        box.first.press("Enter")
        time.sleep(0.5)
        page.get_by_role("button", name="Run both").click()  # H vs non-halo, same seed
        page.get_by_text("recorded steps").wait_for(timeout=900000)
        time.sleep(1.5)
        clip = {"x": 0, "y": 60, "width": 1500, "height": 720}
        for k, name in ((1, "1_start"), (MIDDLE, "2_middle"), (STEPS, "3_end")):
            page.evaluate(f"() => {{ {PLAYER}.value = {k}; }}")
            time.sleep(1.0)
            page.screenshot(path=str(OUT / f"{name}.png"), clip=clip)
        page.get_by_role("button", name="per frame", exact=True).click()
        time.sleep(2.0)
        page.screenshot(path=str(OUT / "4_end_per_frame.png"), clip=clip)
        page.get_by_role("button", name="fixed scale", exact=True).click()
        page.evaluate(f"() => {{ {PLAYER}.value = {MIDDLE}; }}")
        time.sleep(1.5)
        for heading, name, height in (
            ("One seed, two conditionings", "5_two_conditionings", 420),
            ("Forward process: noising", "6_forward", 480),
        ):
            loc = page.get_by_text(heading)
            loc.evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(1.0)
            y = max(0.0, loc.bounding_box()["y"] - 10)
            page.screenshot(
                path=str(OUT / f"{name}.png"),
                clip={"x": 0, "y": y, "width": 1500, "height": min(height, 1000 - y)},
            )


if __name__ == "__main__":
    main()
