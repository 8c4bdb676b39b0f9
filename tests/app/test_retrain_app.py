"""The Fields tab's "Retrain on my labels" job: a user model written apart from the committed ones,
listed with them, recording its labels; refusals and Stop leave everything as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from radioviz.data.fieldgrid import GridSpec
from radioviz.errors import InputError
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.segmenter import CLASSES, Calibration, SegmenterUNet
from radioviz.scan.vetting import LabelStore
from radioviz.training.segmenter import segmenter_card

BANDS = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    from radioviz.app import resources
    from radioviz.simulate import SimConfig, simulate_field, write_field

    user = tmp_path / "user_ckpts"
    monkeypatch.setenv("RADIOVIZ_USER_CHECKPOINTS", str(user))
    monkeypatch.setenv("RADIOVIZ_RETRAIN_STEPS", "3")
    committed = tmp_path / "committed"
    committed.mkdir()
    monkeypatch.setattr(resources, "CHECKPOINTS", committed)
    torch.manual_seed(0)
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch", "out_channels": len(CLASSES)}
    card = segmenter_card(
        kw, GridSpec(), BANDS, Calibration(), classes=list(CLASSES), training={"crop": 16, "batch_size": 2}
    )
    save_checkpoint(SegmenterUNet(4, 4, 2, "batch", len(CLASSES)), committed / "det", card)
    folder = tmp_path / "fields"
    field = simulate_field(SimConfig(seed=5, size=64, halo="halo", point_density_per_deg2=5))
    write_field(field, folder)
    name = field.name
    store = LabelStore(tmp_path / "labels.sqlite", labeller="ann")
    return resources, folder, name, store, user


def _run(retrainer, *args):
    done = []
    retrainer.start(*args, on_done=lambda n, c: done.append((n, c)))
    retrainer._job.join(120)
    return done


def test_retraining_writes_a_user_model_listed_with_the_committed_ones(setup):
    from radioviz.app.retrain import Retrainer

    resources, folder, name, store, user = setup
    from radioviz.io.layout import discover, read_stack

    wcs = read_stack(discover(folder)[0]).images[-1].wcs
    sky = wcs.pixel_to_world(32, 32)
    store.set(f"{name}@32,32", name, float(sky.ra.deg), float(sky.dec.deg), 0.6, "halo")
    r = Retrainer()
    done = _run(r, str(folder), "det.safetensors", store)
    assert not r.running and r.result.startswith("det+labels-") and "Retrained on 1 label(s)" in r.status
    assert (user / r.result).exists() and not list(resources.CHECKPOINTS.glob("*+labels*"))
    assert sorted(p.suffix for p in user.iterdir()) == [".json", ".safetensors"]  # no training state left
    assert r.result in resources.checkpoint_cards() and resources.checkpoint_path(r.result).parent == user
    ((new, card),) = done
    assert (
        new == r.result and card["vetting_labels"]["halo"] == 1 and "/" not in card["vetting_labels"]["store"]
    )


def test_nothing_to_learn_or_a_window_model_is_refused_before_any_work(setup):
    from radioviz.app.retrain import Retrainer

    resources, folder, name, store, _ = setup
    r = Retrainer()
    with pytest.raises(InputError, match="no 'halo' or 'not halo' label"):
        r.start(str(folder), "det.safetensors", store, lambda *a: None)
    store.set(f"{name}@1,1", name, 0.0, 0.0, 0.5, "halo")
    with pytest.raises(InputError, match="needs a detector"):
        r.start(str(folder), "classifier_L.safetensors", store, lambda *a: None)
    assert not r.running


def test_stop_leaves_no_new_model(setup, monkeypatch):
    from radioviz.app.retrain import Retrainer

    resources, folder, name, store, user = setup
    monkeypatch.setenv("RADIOVIZ_RETRAIN_STEPS", "50")
    from radioviz.io.layout import discover, read_stack

    sky = read_stack(discover(folder)[0]).images[-1].wcs.pixel_to_world(32, 32)
    store.set(f"{name}@32,32", name, float(sky.ra.deg), float(sky.dec.deg), 0.6, "not halo")
    r = Retrainer()
    r._cancel.set()  # Stop pressed: the job ends at its first step
    orig = r._cancel.clear
    r._cancel.clear = lambda: None  # keep the request across start()
    done = _run(r, str(folder), "det.safetensors", store)
    r._cancel.clear = orig
    assert done == [] and "stopped" in r.status and not list(user.glob("*.safetensors"))
    assert np.isfinite(r.progress)
