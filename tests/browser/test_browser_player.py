"""The client player's step slider in headless Chromium (a static page: no server needed)."""

import pytest

from .waits import WAIT_MS

pytestmark = pytest.mark.browser


def test_end_and_home_keys_follow_the_trajectory_length(browser, tmp_path):  # noqa: F811
    """#walk: End on the Trajectory slider stayed at 2 (the slider's initial end) after a
    25-step trajectory set the end to 25."""
    from bokeh.embed import file_html
    from bokeh.layouts import row
    from bokeh.resources import INLINE

    from radioviz.app.client_player import ClientPlayer

    player = ClientPlayer(lambda v: None, name="p")
    page_file = tmp_path / "player.html"
    page_file.write_text(file_html(row(*player.controls()), INLINE))
    page = browser.new_page()
    errors = []
    # a static page has no server for Panel's extension bundles: only their loads may fail
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_file.as_uri())
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
        model = "Bokeh.documents[0].get_model_by_name('p_slider')"
        for end in (25, 10):  # as set_trajectory does: a new end, the value back to 1
            page.evaluate(f"() => {{ const s = {model}; s.end = {end}; s.value = 1; }}")
            handle = page.locator(".noUi-handle").first
            handle.focus()
            page.keyboard.press("End")
            page.wait_for_function(f"() => {model}.value === {end}", timeout=WAIT_MS)
            page.keyboard.press("Home")
            page.wait_for_function(f"() => {model}.value === 1", timeout=WAIT_MS)
    finally:
        page.close()
    assert errors == []
