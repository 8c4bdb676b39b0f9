"""The labeller's name, kept by the browser across reloads (a cookie), never by the address."""

from radioviz.app.labeller_memory import COOKIE, MAX_LENGTH, remembered_labeller


def test_the_cookie_gives_the_name_decoded_trimmed_and_cut():
    assert remembered_labeller({COOKIE: "Ann%20Lee%20"}) == "Ann Lee"
    assert remembered_labeller({COOKIE: "x" * 500}) == "x" * MAX_LENGTH
    assert remembered_labeller({}) == "" and remembered_labeller({"other": "bob"}) == ""


def test_without_a_page_nothing_is_remembered():
    assert remembered_labeller() == ""


def test_a_browser_keeps_its_guest_name_and_nothing_else_passes_for_one():
    from radioviz.app.labeller_memory import GUEST_COOKIE, remembered_guest
    from radioviz.app.state import AppSession

    assert remembered_guest({GUEST_COOKIE: "guest-1a2b3c"}) == "guest-1a2b3c"
    for bad in ("guest-1a2b3", "Ada", "guest-1a2b3c'; alert(1)", "guest-ZZZZZZ", ""):
        assert remembered_guest({GUEST_COOKIE: bad}) is None, bad
    assert remembered_guest({}) is None
    assert AppSession(guest="guest-1a2b3c").who() == "guest-1a2b3c"
    fresh = AppSession()
    assert fresh.who().startswith("guest-") and fresh.who() != AppSession().who()
