"""The model card contract: every committed card loads and round-trips; bad cards are refused
before any network is built, naming the file and the field."""

import json

import pytest

from radioviz.models import registry
from radioviz.models.card import ModelCard, ModelCardError
from radioviz.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from radioviz.models.classifiers import build_classifier
from radioviz.models.unet import build_unet

from ..conftest import REPO

CLASSIFIERS = registry.builders("classifier", registry.WINDOW)  # the window classifiers' constructors

# a trainer's resumable state (``*.train-state.json``, git-ignored) is not a card
COMMITTED = sorted(p for p in (REPO / "checkpoints").glob("*.json") if ".train-state" not in p.name)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_committed_card_loads_and_round_trips(path):
    raw = json.loads(path.read_text())
    card = ModelCard.read(path.with_suffix(".safetensors"))
    assert card.to_dict() == raw  # the file keeps its keys
    assert ModelCard.from_dict(json.loads(card.to_json())) == card
    # one training shape for classifiers and generators
    tr = card.training
    assert tr.steps > 0 and tr.cpu_hours > 0 and tr.command.startswith("radioviz ")
    unit = "step" if card.arch == "segmenter" else "epoch" if card.kind == "classifier" else "iteration"
    assert tr.step_unit == unit
    if card.kind != "wgan":
        curve = tr.learning_curve
        assert curve and all("step" in p and any(k.startswith("loss") for k in p) for p in curve)
    if card.arch == "segmenter":  # the detector's inputs are named groups (bands, residual, …)
        from radioviz.data.fieldgrid import input_channel_count
        from radioviz.models.segmenter import inputs_of

        assert card.channels == input_channel_count(tuple(inputs_of(card.kwargs)), len(card.bands))
    else:
        assert card.channels == len(card.bands)
    assert card.size == 64


def _card(**over):
    d = {
        "kind": "ddpm",
        "arch": "unet",
        "kwargs": {"in_channels": 4, "base": 16, "mults": [1, 2], "size": 64, "num_classes": 4},
        "preprocessing": {
            "cutout_size": 64,
            "nsigma": 3.0,
            "band_convention": "native",
            "bands": ["a", "b", "c", "d"],
            "normalization": {"log": True, "lo": -3.0, "hi": 1.7, "per_image": False, "snr": False},
        },
    }
    for key, value in over.items():
        target, *path = key.split("__")
        holder = d
        for p in [target, *path][:-1]:
            holder = holder[p]
        holder[[target, *path][-1]] = value
    return d


@pytest.mark.parametrize(
    "over, field",
    [
        ({"kwargs__base": 4096}, "kwargs.base"),
        ({"kwargs__base": "16"}, "kwargs.base"),
        ({"kwargs__base": True}, "kwargs.base"),
        ({"kwargs__in_channels": 0}, "kwargs.in_channels"),
        ({"kwargs__size": 100_000}, "kwargs.size"),
        ({"kwargs__mults": [1, 2, 64]}, "kwargs.mults[2]"),
        ({"kwargs__mults": [1] * 20}, "kwargs.mults"),
        ({"kwargs__base": 256, "kwargs__mults": [1, 8]}, "kwargs.base"),  # 2048 channels wide
        ({"kwargs__flux_cond": "yes"}, "kwargs.flux_cond"),
        ({"kwargs__dropout": 1.5}, "kwargs.dropout"),
        ({"kwargs": None}, "kwargs"),
        ({"kind": "vae"}, "kind"),
        ({"arch": "resnet"}, "arch"),
        ({"parameters": -1}, "parameters"),
        ({"parameters": 10**12}, "parameters"),
        ({"labels": "H"}, "labels"),
        ({"conditions": ["label", "weather"]}, "conditions"),
        ({"sigma_range": [0.0, 80.0]}, "sigma_range[0]"),
        ({"schedule": {"T": 0}}, "schedule.T"),
        ({"preprocessing__cutout_size": 10**6}, "preprocessing.cutout_size"),
        ({"preprocessing__bands": []}, "preprocessing.bands"),
        ({"preprocessing__colour": "red"}, "preprocessing"),
        ({"preprocessing__normalization__lo": float("nan")}, "preprocessing.normalization.lo"),
        ({"preprocessing__normalization": None}, "preprocessing.normalization"),
        ({"training": [1, 2]}, "training"),
    ],
)
def test_bad_fields_are_refused_naming_file_and_field(over, field):
    with pytest.raises(ModelCardError) as err:
        ModelCard.from_dict(_card(**over), "m.json")
    assert err.value.field == field
    assert str(err.value).startswith(f"m.json: model card field '{field}'")


def test_out_of_bounds_card_is_refused_before_any_network_is_built(tmp_path):
    path = save_checkpoint(build_unet(**_card()["kwargs"]), tmp_path / "g", _card())
    assert ModelCard.read(path).kwargs["base"] == 16
    path.with_suffix(".json").write_text(json.dumps(_card(kwargs__base=4096)))
    built = []

    def builder(**kw):
        built.append(kw)
        return build_unet(**kw)

    with pytest.raises(ModelCardError, match=r"g\.json: model card field 'kwargs\.base': 4096 is outside"):
        load_checkpoint(path, {"unet": builder})
    assert built == []  # refused from the card alone


def test_constructor_refusals_and_unknown_arguments_name_kwargs(tmp_path):
    path = save_checkpoint(
        build_classifier("L"), tmp_path / "c", {"kind": "classifier", "arch": "L", "kwargs": {}}
    )
    card = json.loads(path.with_suffix(".json").read_text())
    card["kwargs"] = {"colour": "red"}
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelCardError, match="field 'kwargs'.*colour"):
        load_checkpoint(path, CLASSIFIERS)
    path.with_suffix(".json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not an object"):
        load_checkpoint(path, CLASSIFIERS)


def test_a_trainer_cannot_write_a_card_that_would_not_load(tmp_path):
    with pytest.raises(ModelCardError, match="field 'kind'"):
        save_checkpoint(
            build_classifier("L"), tmp_path / "c", {"kind": "classifer", "arch": "L", "kwargs": {}}
        )
    assert not (tmp_path / "c.safetensors").exists()
