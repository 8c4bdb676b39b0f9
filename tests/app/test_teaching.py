"""Explanations in layers (issue #28 item 3): one plain sentence per panel and per Compare metric,
the formula one click away, all worded in radioviz/app/teaching.py.  No browser."""

from __future__ import annotations

import pytest

from radioviz.app.teaching import PLAIN, explanations, layers, metric_guide, metric_layers

#: what a plain sentence must not hold: the formula's symbols belong behind the click
FORMULA_MARKS = ("c_skip", "F_θ", "ε_θ", "√", "ᾱ", "β_t", "D(x; σ)", "Π")


@pytest.mark.parametrize(
    "kind, sampler", [("edm", "heun"), ("edm", "euler"), ("ddpm", "ddim"), ("ddpm", "ddpm")]
)
def test_every_panel_is_a_plain_sentence_with_its_formula_behind_a_click(kind, sampler):
    text = explanations(kind, sampler)
    assert set(text) == set(PLAIN) == {"xt", "x0", "diff", "schedule", "update", "guidance", "forward"}
    for key, layer in layers(kind, sampler).items():
        assert not any(mark in layer.plain for mark in FORMULA_MARKS), (key, layer.plain)
        head, hidden = text[key].split("<details>")
        assert layer.plain in head and layer.formula in hidden and "<summary>The formula</summary>" in hidden
    assert "the model's current guess of the clean image" in text["x0"]
    assert ("D(x; σ)" in text["x0"]) == (kind == "edm" or sampler in ("heun", "euler"))


def _report(**over) -> dict:
    return {
        "hist_mean_abs_rel_err": 0.61,
        "hist_err_floor": {"median": 0.29},
        "n_real": 18,
        "n_generated": 8,
        "zero_fraction_real": 0.31,
        "zero_fraction_gen": 0.12,
        "fid_domain": 12.3,
        "kid_domain": -1.552,
        "nn_ssim_max": 0.78,
        "classifier_pass_rate_0.5": 0.5,
        "two_sample": None,
        **over,
    }


def test_each_metric_says_what_a_perfect_generator_would_score():
    m = metric_layers(_report())
    assert set(m) == {"hist", "zero", "power", "fid", "kid", "ssim", "pass", "alpha", "two_sample"}
    assert "0.61" in m["hist"].plain and "≈ 0.29" in m["hist"].plain and "not 0" in m["hist"].plain
    assert "-1.552" in m["kid"].plain and "read it as 0" in m["kid"].plain
    assert "can dip below 0" in metric_layers(_report(kid_domain=0.02))["kid"].plain
    assert "empty sky" in m["ssim"].formula and "shown as pictures" in m["ssim"].formula
    assert "0.5 accuracy" in m["two_sample"].plain
    assert "floor was not measured" in metric_layers(_report(hist_err_floor=None))["hist"].plain
    guide = metric_guide(_report())
    assert guide.count("<details>") == len(m) and "How it is computed" in guide


def test_a_v_prediction_ddpm_says_what_its_network_outputs_behind_the_click():
    """A DDPM trained on v (#28 item 8, models/prediction.py): x̂0's formula says how the guess is
    made from v; the plain sentence is the same for every model."""
    eps, v = layers("ddpm", "ddim"), layers("ddpm", "ddim", "v")
    assert v["x0"].plain == eps["x0"].plain
    assert "v_θ" in v["x0"].formula and "v_θ" not in eps["x0"].formula
    assert "v_θ" in explanations("ddpm", "ddim", prediction="v")["x0"]
    assert "v_θ" not in layers("edm", "heun", "v")["x0"].formula  # an EDM has no ε or v output
