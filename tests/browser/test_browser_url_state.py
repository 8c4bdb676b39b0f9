"""What a user set in the Fields tab survives a reload: it is kept in the page's address (#25)."""

import re

import pytest

from .waits import WAIT_MS

SLOW = 240000

pytestmark = pytest.mark.browser

_VALUE = (
    "(t) => { for (const d of Bokeh.documents) for (const m of d._all_models.values())"
    " if (m.title === t && m.value !== undefined) return m.value; return null; }"
)


@pytest.fixture(scope="module")
def served(served_page):
    return served_page


def _open(page, url):
    page.goto(url, timeout=SLOW)
    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)


def _wait_value(page, title, value):
    page.wait_for_function(f"(v) => ({_VALUE})({title!r}) === v", arg=value, timeout=WAIT_MS)


def test_a_link_opens_the_view_it_names_and_the_users_changes_survive_a_reload(served):
    url, page = served
    # the model's own threshold (L: 0.95) never overrides the one the link gives
    _open(page, url + "?field=sim_0103&model=classifier_L.safetensors&stride=8&threshold=0.7")
    for title, value in (("Field", "sim_0103"), ("Stride", 8), ("Threshold", 0.7)):
        _wait_value(page, title, value)
    assert page.evaluate(_VALUE, "Classifier") == "classifier_L.safetensors"
    handle = page.locator(".bk-input-group", has_text="Stride").locator(".noUi-handle").first
    handle.focus()
    for _ in range(4):  # 8 → 12, as a keyboard user moves the slider
        handle.press("ArrowRight")
    page.wait_for_url(re.compile(r"stride=12"), timeout=WAIT_MS)  # the address follows the user
    page.reload(timeout=SLOW)
    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)
    _wait_value(page, "Stride", 12)
    _wait_value(page, "Field", "sim_0103")
    _wait_value(page, "Threshold", 0.7)


def test_a_link_to_a_field_that_is_not_there_opens_the_folder_without_an_error(served):
    url, page = served
    _open(page, url + "?field=no_such_field&stride=8")
    _wait_value(page, "Stride", 8)
    page.wait_for_function(f"() => ({_VALUE})('Field') === 'sim_0100'", timeout=WAIT_MS)  # the folder's first


def test_a_reload_shows_the_band_the_score_map_and_the_candidate_the_user_had(served):
    """The band and how it is drawn, a computed score map and the selected candidate are in the
    address too: a reload scores the field again and opens the same candidate, drawn the same way
    (#25 walk: they were lost on reload; session 14 walk: the RGB channels, stretch and colour map)."""
    url, page = served
    _open(page, url + "?field=sim_0103&stride=8&threshold=0.5&band=RGB&red=103-134MHz&stretch=linear")
    _wait_value(page, "Band", "RGB")
    _wait_value(page, "RGB red", "103-134MHz")
    _wait_value(page, "Stretch", "linear")
    page.get_by_role("button", name="Compute score map").click()
    page.get_by_text("Candidate 1/").wait_for(timeout=SLOW)
    page.wait_for_url(re.compile(r"scanned=true"), timeout=WAIT_MS)
    page.get_by_role("button", name="next (j) ▶").click()
    page.get_by_text("Candidate 2/").wait_for(timeout=WAIT_MS)
    page.wait_for_url(re.compile(r"candidate=\d+%2C\d+|candidate=\d+,\d+"), timeout=WAIT_MS)
    page.reload(timeout=SLOW)
    page.get_by_text("Candidate 2/").wait_for(timeout=SLOW)
    _wait_value(page, "Band", "RGB")
    _wait_value(page, "RGB red", "103-134MHz")
    _wait_value(page, "Stretch", "linear")


def test_the_labellers_name_survives_a_reload_but_is_not_in_the_address(served):
    """Walk: after a reload the Labeller box was empty and later labels went to guest-<id>.  The
    browser keeps the name (a cookie); a shared link never carries it."""
    url, page = served
    _open(page, url + "?field=sim_0100")
    box = page.get_by_placeholder(re.compile(r"^your name")).first
    # before a name is typed, labels are by this browser's guest name: the same after a reload
    # (walk 15: it was new on every page, so one person became two labellers)
    guest = re.search(r"guest-[0-9a-f]{6}", box.get_attribute("placeholder")).group(0)
    page.wait_for_function(f"() => document.cookie.includes('radioviz_guest={guest}')", timeout=WAIT_MS)
    page.reload(timeout=SLOW)
    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)
    box = page.get_by_placeholder(re.compile(r"^your name")).first
    assert guest in box.get_attribute("placeholder") and guest not in page.url
    box.fill("Ada Lovelace")
    box.press("Enter")
    page.wait_for_function(
        "() => document.cookie.includes('radioviz_labeller=Ada%20Lovelace')", timeout=WAIT_MS
    )
    page.reload(timeout=SLOW)
    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)
    _wait_value(page, "Labeller", "Ada Lovelace")
    assert "Ada" not in page.url


def test_the_tab_shown_is_in_the_address(served):
    """Walk 15: a reload always came back to the Fields tab."""
    url, page = served
    _open(page, url + "?field=sim_0100")
    page.get_by_text("Models", exact=True).first.click()
    page.wait_for_url(re.compile(r"tab=4"), timeout=WAIT_MS)
    page.reload(timeout=SLOW)
    page.get_by_text("Quality (").first.wait_for(timeout=SLOW)  # the Models tab, built and shown
    page.get_by_text("Fields", exact=True).first.click()
    page.wait_for_url(re.compile(r"tab=0"), timeout=WAIT_MS)
