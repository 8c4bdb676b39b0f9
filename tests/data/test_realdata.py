"""Checks on the real data in ../shared/data; skipped with a reason where it is absent."""

import numpy as np
import pytest

from radioviz.data.inspect import inspect_path
from radioviz.data.noise import clip_image
from radioviz.io.bands import GLEAM_BANDS
from radioviz.io.fits import is_fits_name, read_planes
from radioviz.io.layout import discover, read_stack

from ..conftest import GEN_EVAL, GLEAM, SHARED_DATA, needs

pytestmark = pytest.mark.realdata


@needs(SHARED_DATA)
def test_every_fits_file_in_shared_data_reads():
    files = [
        p
        for p in SHARED_DATA.rglob("*")
        if p.is_file() and is_fits_name(p.name) and "catalogs" not in p.parts
    ]
    assert len(files) >= 144
    for p in files:
        planes = read_planes(p)
        assert len(planes) == 1 and planes[0].data.ndim == 2 and planes[0].band is not None, p


@needs(GLEAM)
def test_gleam_train_split_has_36_complete_sources():
    sources = discover(GLEAM)
    assert len(sources) == 36
    assert sorted(s.label for s in sources) == [0] * 18 + [1] * 18
    assert all(s.is_complete and s.split == "TRAIN" for s in sources)
    stack = read_stack(sources[0])
    assert stack.bands == list(GLEAM_BANDS)
    scales = [im.pixel_scale_deg for im in stack.images]
    assert scales == sorted(scales, reverse=True)  # coarsest band first


@needs(GLEAM)
def test_inspect_flags_the_known_anomaly_and_clipping_is_idempotent_on_published_files():
    report = inspect_path(GLEAM)
    assert report.ok and len(report.sources) == 36
    a2254 = next(s for s in report.sources if s.name == "abell_2254")
    band = next(b for b in a2254.bands if b.band.name == "103-134MHz")
    assert any("mostly negative" in f for f in band.flags)
    for s in discover(GLEAM)[:6]:
        for im in read_stack(s).images:
            out, noise, t = clip_image(im.data)
            assert noise.clipped and np.array_equal(out, np.nan_to_num(im.data))


@needs(GEN_EVAL)
def test_single_frequency_evaluation_set_groups_by_cluster_and_weighting():
    sources = discover(GEN_EVAL)
    assert len(sources) == 39
    a0141 = next(s for s in sources if s.name == "abell0141mwa2 briggs0_Halo")
    assert [b.centre for b in a0141.bands] == [88, 118, 154, 185, 216]
