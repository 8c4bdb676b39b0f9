"""Real fields everywhere (issue #28 item 5): under a data root the forward process, Generate's
background reference and its field masks read the field open in the Fields tab, wherever it
lies.  Before, the Trajectory tab took the Fields tab's folder box (relative to the data root) as a
path from the server's working directory ("GLEAM-Data/TRAIN_DATA_1: no such file or
directory"), and Generate listed only the six bundled simulated fields."""

from __future__ import annotations

import numpy as np
import pytest

from radioviz.app import resources

from ..conftest import GLEAM, SHARED_DATA, needs

SPLIT = "GLEAM-Data/TRAIN_DATA_1"


@pytest.fixture
def data_root(tmp_path, monkeypatch, gleam_like_source):
    """A data root holding one split of two GLEAM-named fields (80×80, so a 64×64 centre fits)."""
    root = tmp_path / "root"
    for name, ra in (("abell_0001", 10.0), ("abell_0002", 20.0)):
        gleam_like_source(name, folder=root / SPLIT, n=80, ra=ra)
    monkeypatch.setattr(resources, "_DATA_ROOT", None)
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(root))
    return root


def _fields(tmp_path, folder: str | None = SPLIT):
    """The Fields tab, with ``folder`` typed in its box (as relative to the data root)."""
    from radioviz.app.fields import FieldsView

    f = FieldsView(labels_path=tmp_path / "labels.sqlite")
    if folder:
        f.data_dir = folder
    return f


def test_forward_process_follows_a_field_under_the_data_root(data_root, tmp_path):
    from radioviz.app.trajectory_view import FOLLOW, TrajectoryView

    f = _fields(tmp_path)
    assert f.field == "abell_0001" and not f.message  # opened there by the Fields tab
    t = TrajectoryView(fields_view=f)
    assert t.forward_field == FOLLOW
    assert "Cannot use" not in t.fwd_text.object, t.fwd_text.object
    assert "x0 = abell_0001 (the Fields tab's field)" in t.fwd_text.object
    assert t.fwd_panels[0].figure.title.text.startswith("x0 (field abell_0001")
    f.field = "abell_0002"
    assert "x0 = abell_0002 (the Fields tab's field)" in t.fwd_text.object
    # the Fields tab's fields are in the picker too, read from their folder
    label = f"abell_0002 · {SPLIT}"
    assert t.param.forward_field.names[label] == (str(data_root / SPLIT), "abell_0002")
    t.forward_field = t.param.forward_field.names[label]
    assert f"x0 = abell_0002 (in {SPLIT})" in t.fwd_text.object and str(data_root) not in t.fwd_text.object


def test_generate_offers_the_open_folders_fields_as_references(data_root, tmp_path, gleam_like_source):
    from radioviz.app.generate_view import GenerateView

    f = _fields(tmp_path)
    g = GenerateView(fields_view=f)
    g.model = "edm_mask_gleam.safetensors"
    folder = str(data_root / SPLIT)
    backgrounds, masks = g.param.background.names, g.param.mask_field.names
    assert backgrounds[f"abell_0001 · {SPLIT}"] == (folder, "abell_0001")
    assert masks[f"abell_0002 · {SPLIT} (photutils)"] == (folder, "abell_0002", "photutils")
    assert "sim_0100" in backgrounds and "sim_0100 (simulator truth)" in masks  # the bundled ones stay
    assert list(backgrounds)[1].endswith(SPLIT)  # the open folder's first
    g.background = backgrounds[f"abell_0001 · {SPLIT}"]
    expected = resources.central_cutout(folder, "abell_0001")
    np.testing.assert_array_equal(g.conditions()["background"], expected)
    g.mask_field = masks[f"abell_0002 · {SPLIT} (photutils)"]
    assert not g.alert.visible and g.canvas.mask.shape == (64, 64)
    # another folder opened in the Fields tab: its fields are offered, a choice gone is dropped
    gleam_like_source("abell_0003", folder=data_root / "GLEAM-Data" / "TRAIN_DATA_0", n=80)
    f.data_dir = "GLEAM-Data/TRAIN_DATA_0"
    assert "abell_0003 · GLEAM-Data/TRAIN_DATA_0" in g.param.background.names
    assert f"abell_0001 · {SPLIT}" not in g.param.background.names and g.background == "(none)"


@needs(GLEAM)
def test_real_gleam_fields_under_the_shared_data_root(tmp_path, monkeypatch):
    """The walk's case on the published fields: forward process, background and mask."""
    from astropy.io import fits
    from astropy.wcs import WCS

    from radioviz.app.generate_view import GenerateView
    from radioviz.app.trajectory_view import TrajectoryView

    monkeypatch.setattr(resources, "_DATA_ROOT", None)
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(SHARED_DATA))
    f = _fields(tmp_path, "GLEAM-Data/TRAIN_DATA_1")
    f.field = "abell_2163"  # the walk's field
    t = TrajectoryView(fields_view=f)
    assert f"x0 = {f.field} (the Fields tab's field)" in t.fwd_text.object, t.fwd_text.object
    g = GenerateView(fields_view=f)
    g.model = "edm_mask_gleam.safetensors"
    label = f"{f.field} · {f.data_dir}"
    g.mask_field = g.param.mask_field.names[f"{label} (photutils)"]
    assert not g.alert.visible and (g.canvas.mask > 0).any()  # a real field has sources
    g.background = g.param.background.names[label]
    g.sampler, g.steps, g.n = "euler", 2, 1
    assert g.generate() is not None and g.result.meta["background_field"] == f.field
    import io

    centre = f.clipped().stack.images[0].centre()
    with fits.open(io.BytesIO(g.fits_bytes())) as h:  # the FITS takes the real field's WCS
        wcs = WCS(h["SAMPLE0_B0"].header).celestial
        assert wcs.pixel_to_world(31.5, 31.5).separation(centre).deg < 0.1
