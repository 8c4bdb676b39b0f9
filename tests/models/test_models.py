import json

import pytest
import torch

from radioviz.models import registry
from radioviz.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from radioviz.models.classifiers import build_classifier, count_parameters, halo_score

CLASSIFIERS = registry.builders("classifier", registry.WINDOW)  # the window classifiers' constructors


@pytest.mark.parametrize(
    "arch, low, high", [("L", 50_000, 70_000), ("A", 800_000, 1_100_000), ("D", 1_000_000, 1_100_000)]
)
def test_classifier_shapes_scores_and_sizes(arch, low, high):
    model = build_classifier(arch).eval()
    x = torch.rand(3, 4, 64, 64)
    assert model(x).shape == (3, 2)
    s = halo_score(model, x)
    assert ((s >= 0) & (s <= 1)).all()
    assert low <= count_parameters(model) <= high


def test_attention_classifier_embeds_64_features():
    assert build_classifier("A").eval().embed(torch.rand(2, 4, 64, 64)).shape == (2, 64)


def test_checkpoint_round_trip_and_validation(tmp_path):
    torch.manual_seed(0)
    model = build_classifier("L").eval()
    path = save_checkpoint(model, tmp_path / "clf", {"kind": "classifier", "arch": "L", "kwargs": {}})
    loaded, card = load_checkpoint(path, CLASSIFIERS, kind="classifier")
    x = torch.rand(2, 4, 64, 64)
    assert torch.equal(loaded(x), model(x)) and card.parameters == count_parameters(model)

    # a card that claims another architecture is caught, not silently loaded
    bad = json.loads(path.with_suffix(".json").read_text())
    bad["arch"] = "D"
    path.with_suffix(".json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="do not match architecture D"):
        load_checkpoint(path, CLASSIFIERS)
    with pytest.raises(CheckpointError, match="not a generator"):
        bad["arch"] = "L"
        path.with_suffix(".json").write_text(json.dumps(bad))
        load_checkpoint(path, CLASSIFIERS, kind="generator")

    # a pickle (or any other non-safetensors file) is refused, never unpickled
    evil = tmp_path / "evil.safetensors"
    torch.save(model.state_dict(), evil)
    evil.with_suffix(".json").write_text(json.dumps({"kind": "classifier", "arch": "L", "kwargs": {}}))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(evil, CLASSIFIERS)
    with pytest.raises(CheckpointError, match="card .* is missing|model card"):
        (tmp_path / "lonely.safetensors").write_bytes(b"x")
        load_checkpoint(tmp_path / "lonely.safetensors", CLASSIFIERS)
