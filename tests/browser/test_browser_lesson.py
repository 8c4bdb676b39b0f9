"""The guided lesson in the served Trajectory tab (issue #28 item 7), walked whole in headless
Chromium: Start on the EDM run on screen, every question revealed with the player moved to the
step its answer names, Back, Next, the toy's question answered from the toy run its Reveal makes, Restart.
Waits are on what the page publishes (the lesson's status line, the players' Bokeh values);
the module fails on any server error or console error (``served_page``)."""

from __future__ import annotations

import re

import pytest

from .waits import WAIT_MS

SLOW = 300000
STEPS = 6

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(served_page):
    """The served page; besides ``served_page``'s checks, any error logged anywhere on the server
    (a watcher failing in a worker thread is logged by ``concurrent.futures``) or handed to
    Panel's exception handler fails the module."""
    import logging

    import panel as pn

    from radioviz.app.headless import ServerErrors

    errors = ServerErrors()
    logging.getLogger().addHandler(errors)
    old = pn.config.exception_handler
    pn.config.exception_handler = lambda exc: errors.records.append(f"callback: {exc!r}")
    url, pg = served_page
    pg.goto(url, timeout=SLOW)
    try:
        yield pg
        assert not errors.records, errors.records
    finally:
        pn.config.exception_handler = old
        logging.getLogger().removeHandler(errors)


def _slider(page, name: str) -> int:
    return page.evaluate(f"() => Bokeh.documents[0].get_model_by_name('{name}').value")


def _wait_slider(page, name: str, value: int) -> None:
    page.wait_for_function(
        f"() => Bokeh.documents[0].get_model_by_name('{name}').value === {value}", timeout=WAIT_MS
    )


def _status(page, text: str) -> None:
    page.locator(".lesson-status", has_text=text).wait_for(timeout=SLOW)


def _answer(page, has: str = "Answer (from this run)") -> str:
    """The answer's paragraph, once shown."""
    box = page.locator(".lesson-text p", has_text=has).first
    box.wait_for(timeout=SLOW)
    return box.inner_text()


def test_the_lesson_is_walked_whole_from_the_run_on_screen(page):
    from playwright.sync_api import expect

    page.get_by_text("Trajectory", exact=True).first.click()
    sample = page.get_by_role("button", name="Sample", exact=True)
    sample.wait_for(timeout=SLOW)
    expect(page.get_by_text("This lesson uses the EDM")).to_be_visible()
    steps = page.locator(".bk-input-group", has=page.get_by_text("Steps", exact=True)).locator("input").first
    steps.fill(str(STEPS))
    steps.press("Enter")
    expect(steps).to_have_value(str(STEPS), timeout=WAIT_MS)
    sample.click()
    expect(page.get_by_text(f"{STEPS} recorded steps").first).to_be_visible(timeout=SLOW)

    button = {n: page.get_by_role("button", name=n, exact=True) for n in ("◀ Back", "Next ▶", "Restart")}
    reveal = page.get_by_role("button", name="Reveal the answer")
    page.get_by_role("button", name="Start the lesson").click()
    _status(page, "Question 1 of 7 · answer hidden")
    expect(button["◀ Back"]).to_be_disabled()
    expect(page.get_by_text("Answer (from this run)")).to_have_count(0)

    for i in range(1, 7):  # the six questions on the image run
        if i > 1:
            button["Next ▶"].click()
            _status(page, f"Question {i} of 7 · answer hidden")
        reveal.click()
        _status(page, f"Question {i} of 7 · answer shown")
        text = _answer(page)
        step = int(re.search(r"[Ss]tep (\d+)", text).group(1))
        assert 1 <= step <= STEPS
        _wait_slider(page, "traj_player_slider", step)  # the player shows the step the answer names
        expect(reveal).to_be_disabled()
        if i == 2:  # one step back and forward again: the answer hides, the question stays
            button["◀ Back"].click()
            _status(page, "Question 1 of 7 · answer hidden")
            button["Next ▶"].click()
            _status(page, "Question 2 of 7 · answer hidden")
            reveal.click()
            _status(page, "Question 2 of 7 · answer shown")

    button["Next ▶"].click()
    _status(page, "Question 7 of 7 · answer hidden")
    expect(button["Next ▶"]).to_be_disabled()
    reveal.click()
    _status(page, "Question 7 of 7 · answer shown")
    expect(page.get_by_text("Lesson, question 7 of 7")).to_be_visible()  # repeated beside the toy
    # no toy run yet: Reveal makes one (as Start made the image run), and the answer is read from it
    toy = _answer(page, "When the noise is large")
    toy_step = int(re.search(r"When the noise is small \(step (\d+)", toy).group(1))
    _wait_slider(page, "toy_player_slider", toy_step)
    expect(page.get_by_text(re.compile(r"^1000 particles, heun 25 steps"))).to_be_visible()  # the toy's run

    button["Restart"].click()
    _status(page, "Question 1 of 7 · answer hidden")
    _wait_slider(page, "traj_player_slider", 1)
    expect(button["◀ Back"]).to_be_disabled()
    expect(reveal).to_be_enabled()
