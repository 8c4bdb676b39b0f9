import numpy as np
import pytest
from astropy.io import fits

from radioviz.data.noise import estimate_noise
from radioviz.io.layout import discover, read_stack
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.simulate.sky import BAND_NOISE, MASK_CLASSES


@pytest.fixture(scope="module")
def fld():
    return simulate_field(SimConfig(seed=11, halo="halo", halo_flux_jy=1.0, halo_size_mpc=1.0, redshift=0.1))


def test_same_seed_same_field(fld):
    again = simulate_field(SimConfig(seed=11, halo="halo", halo_flux_jy=1.0, halo_size_mpc=1.0, redshift=0.1))
    for a, b in zip(fld.images, again.images, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert all(np.array_equal(a, b) for a, b in zip(fld.masks, again.masks, strict=True))
    assert fld.catalog.pformat() == again.catalog.pformat()
    other = simulate_field(SimConfig(seed=12))
    assert not np.array_equal(other.images[0].data, fld.images[0].data)


def test_noise_and_dead_band_match_the_configured_levels(fld):
    for im in fld.images:
        est = estimate_noise(im.data)
        assert est.clipped
        assert est.dead_band == pytest.approx(3 * BAND_NOISE[im.band], rel=0.05)
        assert 0.85 < est.zero_fraction < 0.99


def test_masks_agree_with_catalogue(fld):
    halo = fld.catalog[fld.catalog["type"] == "halo"][0]
    assert 0.5 <= halo["size_mpc"] <= 1.5 and halo["z"] == pytest.approx(0.1)
    for im, mask in zip(fld.images, fld.masks, strict=True):
        assert set(np.unique(mask)) <= set(range(len(MASK_CLASSES)))
        x, y = im.wcs.world_to_pixel_values(halo["ra"], halo["dec"])
        assert mask[int(round(float(y))), int(round(float(x)))] in (
            1,
            3,
        )  # diffuse, unless a point sits on it
        assert (mask == 3).sum() > 20
        assert (im.data[mask == 0] != 0).mean() < 0.05  # emission outside the mask is only noise peaks
        # bright point sources are compact in the mask
        pts = fld.catalog[(fld.catalog["type"] == "point") & (fld.catalog[f"flux_{im.band.name}"] > 1.0)]
        px, py = im.wcs.world_to_pixel_values(pts["ra"], pts["dec"])
        inside = (px > 2) & (px < 297) & (py > 2) & (py < 297)
        hits = mask[np.round(py[inside]).astype(int), np.round(px[inside]).astype(int)]
        assert (hits > 0).mean() > 0.9


def test_spectra_are_steep_for_halos(fld):
    halo = fld.catalog[fld.catalog["type"] == "halo"][0]
    assert -2.0 < halo["alpha"] < -0.6
    assert halo["flux_72-103MHz"] > halo["flux_170-231MHz"]


def test_written_fields_are_marked_and_readable(fld, tmp_path):
    write_field(fld, tmp_path, "SIM")
    (src,) = discover(tmp_path)
    assert src.label == 1 and src.split == "SIM"
    stack = read_stack(src)
    np.testing.assert_array_equal(stack.images[0].data, fld.images[0].data)
    hdr = fits.getheader(src.files[stack.bands[0]])
    assert hdr["SIMULATE"] is True and "SIMULATED" in hdr["ORIGIN"]
    assert (tmp_path / "truth" / f"{fld.name}_catalog.ecsv").exists()


def test_no_halo_and_minihalo_fields():
    none = simulate_field(SimConfig(seed=3, halo=None, size=96))
    assert none.label == 0 and not any(t in ("halo", "minihalo") for t in none.catalog["type"])
    mini = simulate_field(SimConfig(seed=3, halo="minihalo", size=96))
    assert "minihalo" in list(mini.catalog["type"])
    with pytest.raises(ValueError):
        simulate_field(SimConfig(seed=3, halo="relic"))
