"""The labeller's name, kept by the browser across reloads (a cookie), never by the address."""

from radioviz.app.labeller_memory import COOKIE, MAX_LENGTH, remembered_labeller


def test_the_cookie_gives_the_name_decoded_trimmed_and_cut():
    assert remembered_labeller({COOKIE: "Ann%20Lee%20"}) == "Ann Lee"
    assert remembered_labeller({COOKIE: "x" * 500}) == "x" * MAX_LENGTH
    assert remembered_labeller({}) == "" and remembered_labeller({"other": "bob"}) == ""


def test_without_a_page_nothing_is_remembered():
    assert remembered_labeller() == ""
