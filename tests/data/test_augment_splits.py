import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from radioviz.data.augment import all_augmentations, augment, augment_batch, rotate
from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.data.splits import group_folds, sky_groups, train_val_split
from radioviz.simulate import SimConfig, simulate_field, write_field


def test_160_augmentations_per_image_identity_first():
    img = np.random.default_rng(0).random((4, 16, 16)).astype(np.float32)
    out = augment(img)
    assert out.shape == (160, 4, 16, 16) and len(all_augmentations()) == 160
    np.testing.assert_allclose(out[0], img * 0.9, rtol=1e-6)
    scales = out[:10, 0].sum((1, 2)) / img[0].sum()
    np.testing.assert_allclose(scales, np.linspace(0.9, 1.4, 10), rtol=1e-5)
    batch, index = augment_batch(np.stack([img, img]))
    assert batch.shape[0] == 320 and (np.bincount(index) == 160).all()


def test_rotations_exact_for_right_angles_and_orientations_distinct():
    img = np.zeros((1, 17, 17), np.float32)
    img[0, 2, 3] = 1.0
    img[0, 8, 8] = 2.0
    np.testing.assert_array_equal(rotate(img, 90), np.rot90(img, 1, axes=(-2, -1)))
    out = augment(img)[::10]  # one per orientation (scale 0.9)
    flat = out.reshape(16, -1)
    assert len({tuple(np.round(r, 5)) for r in flat}) == 16  # no duplicate orientations
    with pytest.raises(ValueError):
        rotate(img, 30)


def test_two_names_one_field_share_a_group():
    # ORC 2 and ORC 3 are ~2' apart: one field, two names
    pos = SkyCoord(
        [100.0, 100.0 + 2 / 60 / np.cos(np.deg2rad(-30)), 150.0, 200.0] * u.deg,
        [-30.0, -30.0, 10.0, 40.0] * u.deg,
    )
    g = sky_groups(pos, 1.0)
    assert g[0] == g[1] and len(set(g)) == 3


def test_split_keeps_groups_together_and_balances_classes():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), rng.integers(1, 3, 20))
    labels = (np.arange(len(groups)) % 2).astype(int)
    val = train_val_split(groups, labels, 0.2, seed=1)
    for g in np.unique(groups):
        assert len(set(val[groups == g])) == 1
    assert 0 < val.sum() < len(val)
    folds = group_folds(groups, labels, 5, seed=2)
    assert set(folds) == set(range(5))


@pytest.fixture(scope="module")
def sim_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("simroot")
    for seed, halo in ((1, "halo"), (2, None), (3, "halo"), (4, None), (5, "halo"), (6, None)):
        write_field(
            simulate_field(SimConfig(seed=seed, halo=halo, n_extended=1, point_density_per_deg2=5, size=128)),
            root,
            "TRAIN",
        )
    # the same sky under a second name (two names, one field)
    dup = simulate_field(
        SimConfig(seed=1, halo="halo", n_extended=1, point_density_per_deg2=5, size=128),
        name="sim_0001_alias",
    )
    write_field(dup, root, "TRAIN")
    return root


def test_build_dataset_splits_before_augmenting_and_caches(sim_root, tmp_path):
    cfg = DatasetConfig(str(sim_root), "TRAIN", cutout_size=32, val_fraction=0.34, offcentre_per_halo=1)
    ds, path, cached = build_dataset(cfg, tmp_path, progress=False)
    assert not cached and path.exists()
    names = list(ds.source_names)
    assert len(names) == 7 and ds.images.shape[1:] == (4, 32, 32)
    assert len(ds.images) == (7 + 4) * 160  # 4 halo fields incl. the alias give one off-centre each
    a, b = names.index("sim_0001"), names.index("sim_0001_alias")
    assert ds.source_group[a] == ds.source_group[b]
    for s in range(len(names)):  # a source's images are all on one side
        assert len(set(ds.is_val[ds.source == s])) == 1
    for g in set(ds.source_group):
        assert len(set(ds.is_val[np.isin(ds.source, np.flatnonzero(ds.source_group == g))])) == 1
    assert (ds.labels[~ds.is_centre] == 0).all()
    ds2, path2, cached2 = build_dataset(cfg, tmp_path, progress=False)
    assert cached2 and path2 == path and np.array_equal(ds2.images, ds.images)
