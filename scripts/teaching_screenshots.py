"""Screenshots and transcript for docs/teaching.md: the Trajectory tab's Lesson followed in the
served app (headless Chromium) as a student would — Start (the lesson's EDM run: the best-measured EDM, Heun,
25 steps, seed 0), then for each question Reveal, a screenshot with the player on the answer's
step, Next; the toy trained for the last question.  Waits on what the page publishes (the
lesson's status line, the players' values), never on time alone.

Run: python scripts/teaching_screenshots.py  (writes docs/teaching/lesson_*.png and lesson.json)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from radioviz.app.headless import served_app_in_chromium

OUT = Path(__file__).resolve().parents[1] / "docs" / "teaching"
SLOW = 900000
SIZE = {"width": 1600, "height": 1250}


def _value(name: str) -> str:
    return f"Bokeh.documents[0].get_model_by_name('{name}').value"


def _settle(page) -> None:
    """Two animation frames: the canvases have drawn what the page holds."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    transcript = []
    with served_app_in_chromium() as (url, b):
        page = b.new_page(viewport=SIZE)
        page.goto(url)
        page.locator("canvas").first.wait_for(timeout=SLOW)
        page.get_by_text("Trajectory", exact=True).first.click()
        page.get_by_role("button", name="Start the lesson").click()
        status = page.locator(".lesson-status")
        for i in range(1, 8):
            status.filter(has_text=f"Question {i} of 7 · answer hidden").wait_for(timeout=SLOW)
            heading = page.locator(".lesson-text h4")
            if transcript:  # the previous question's heading has gone
                heading = heading.filter(has_not_text=transcript[-1]["question"])
            question = heading.first.inner_text()
            look = page.locator(".lesson-text p", has_text="Look at:").first.inner_text()
            if i == 7:  # the toy first: its answer is read from its frames
                page.get_by_role("button", name="Train and sample").click()
                page.get_by_text(re.compile(r"1000 particles, heun 25 steps")).wait_for(timeout=SLOW)
            page.get_by_role("button", name="Reveal the answer").click()
            status.filter(has_text=f"Question {i} of 7 · answer shown").wait_for(timeout=SLOW)
            answer = page.locator(".lesson-text p", has_text="Answer (from this run)").first.inner_text()
            player = "toy_player_slider" if i == 7 else "traj_player_slider"
            step = int(
                re.search(r"noise is small \(step (\d+)" if i == 7 else r"[Ss]tep (\d+)", answer).group(1)
            )
            page.wait_for_function(f"() => {_value(player)} === {step}", timeout=60000)
            target = (
                page.locator(".bk-panel-models-layout-Card").first
                if i < 7
                else page.get_by_text("Lesson, question 7 of 7").first
            )
            target.evaluate("e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -60); }")
            _settle(page)
            shot = OUT / f"lesson_{i}.png"
            page.screenshot(path=str(shot))
            transcript.append(
                {"question": question, "look": look, "answer": answer, "step": step, "screenshot": shot.name}
            )
            if i < 7:
                page.get_by_role("button", name="Next ▶").click()
    (OUT / "lesson.json").write_text(json.dumps(transcript, indent=1, ensure_ascii=False) + "\n")
    for t in transcript:
        print(f"- {t['question']}\n  {t['answer']}\n")


if __name__ == "__main__":
    main()
