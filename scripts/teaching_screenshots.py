"""Screenshots for docs/teaching.md: one Heun trajectory of the class-conditional EDM, walked
through in the served app (headless Chromium).  Run: python scripts/teaching_screenshots.py"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import panel as pn
from playwright.sync_api import sync_playwright

from radioviz.app import create_app

OUT = Path(__file__).resolve().parents[1] / "docs" / "teaching"
STEPS = 12
MIDDLE = 7  # σ ≈ 0.95: stage 2
PLAYER = "[...Bokeh.documents[0].all_models].find(m => m.type === 'panel.models.widgets.Player')"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = pn.serve(
        {"app": lambda: create_app(template=True)},
        port=port,
        address="127.0.0.1",
        show=False,
        threaded=True,
        websocket_origin=[f"127.0.0.1:{port}"],
    )
    time.sleep(1.0)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = b.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/app")
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
            b.close()
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
