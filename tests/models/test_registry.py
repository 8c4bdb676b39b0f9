"""A new architecture is one entry in radioviz.models.registry: its cards validate, it builds,
``train classifier --arch`` offers it, its checkpoints load and score fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from radioviz.cli import build_parser
from radioviz.data.preprocess import Preprocessing, classifier_normalization
from radioviz.io.layout import discover, read_stack
from radioviz.models import registry
from radioviz.models.card import ModelCard, ModelCardError
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.classifiers import build_classifier
from radioviz.simulate import SimConfig, simulate_field, write_field


class Mean(nn.Module):
    """The smallest window classifier: logits from each band's mean."""

    def __init__(self, in_channels: int = 4):
        super().__init__()
        self.head = nn.Linear(in_channels, 2)

    def forward(self, x):
        return self.head(x.mean(dim=(2, 3)))


@pytest.fixture
def with_mean(monkeypatch):
    entry = registry.Architecture("classifier", "M", Mean, registry.WINDOW, trainable=True)
    monkeypatch.setattr(registry, "ARCHITECTURES", [*registry.ARCHITECTURES, entry])
    return entry


def _card(arch: str) -> dict:
    pre = Preprocessing(
        cutout_size=16,
        normalization=classifier_normalization(np.arange(16, dtype=np.float32).reshape(1, 4, 2, 2)),
    )
    return {"kind": "classifier", "arch": arch, "kwargs": {}, "preprocessing": pre.to_dict()}


def test_the_registry_is_what_cards_and_the_cli_accept():
    assert registry.kinds()["classifier"] == {"L", "A", "D", "segmenter"}
    assert registry.trainable_classifiers() == ["L", "A", "D"]
    with pytest.raises(ModelCardError, match="arch"):
        ModelCard.from_dict(_card("M"))
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cv", "--arch", "M", "--data", "x", "--out", "o"])


def test_a_new_architecture_is_one_entry(with_mean, tmp_path):
    from radioviz.metrics.evaluate import load_classifier
    from radioviz.scan.scorer import ClassifierScorer, load_scorer

    assert ModelCard.from_dict(_card("M")).arch == "M"
    assert isinstance(build_classifier("M"), Mean)
    args = build_parser().parse_args(["train", "classifier", "--arch", "M", "--data", "x", "--out", "o"])
    assert args.arch == "M"
    torch.manual_seed(0)
    path = save_checkpoint(Mean(), tmp_path / "mean", _card("M"))
    model, pre, card = load_classifier(path)
    assert isinstance(model, Mean) and card.arch == "M" and pre.cutout_size == 16
    scorer = load_scorer(path)
    assert isinstance(scorer, ClassifierScorer)
    write_field(simulate_field(SimConfig(seed=1, size=40)), tmp_path / "fields")
    smap = scorer.field_map(read_stack(discover(tmp_path / "fields")[0]), 8)
    assert smap.scores.shape == (5, 5) and np.isfinite(smap.scores).all()


def test_generators_score_nothing():
    assert set(registry.generator_kinds()) == {"ddpm", "edm", "wgan"}
    assert registry.builders("classifier", registry.DENSE).keys() == {"segmenter"}
    assert registry.generator_builders().keys() == {"unet", "wgan-generator"}
