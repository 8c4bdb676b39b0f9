"""How a class detector's answer reads on the page: words, marker colours and their legend."""

from radioviz.app.candidate_classes import CLASS_COLOURS, class_legend_html, class_name, class_text


def test_the_legend_names_every_class_and_only_when_candidates_have_classes():
    assert class_legend_html([]) == "" and class_legend_html([{"x": 1}]) == ""
    html = class_legend_html([{"class": "relic", "class_probs": {"relic": 0.6}}])
    for name in ("halo", "mini-halo", "relic", "radio galaxy"):
        assert name in html
    assert len(set(CLASS_COLOURS.values())) == len(CLASS_COLOURS)  # one colour per class


def test_class_words_are_the_ones_every_tab_uses():
    c = {"class": "radio_galaxy", "class_probs": {"radio_galaxy": 0.621, "halo": 0.2}}
    assert class_text(c) == "radio galaxy 0.62" and class_name(c) == "radio galaxy" and class_name({}) == ""
