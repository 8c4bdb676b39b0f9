import numpy as np
import pytest
from astropy.io import fits

from radioviz.errors import (
    AxisError,
    EmptyImageError,
    InputError,
    MissingBandError,
    NotFITSError,
    TruncatedFITSError,
    WCSError,
)
from radioviz.io.bands import GLEAM_BANDS, Band, band_from_name, detect_band
from radioviz.io.fits import read_image, read_planes
from radioviz.io.layout import discover, find_splits, read_stack, source_key, split_sources

from ..conftest import celestial_header, noisy_image, write_fits


@pytest.mark.parametrize(
    "name, band",
    [
        ("abell_0122_Gleam72-103_clipped.fits", Band(72, 103)),
        ("3c 315_GLEAM_139-170MHz_clipped.fits", Band(139, 170)),
        ("abell_s1063Gleam170-231_clipped.fits", Band(170, 231)),
        ("orc 3_GLEAM_103-134MHz_clipped.fits", Band(103, 134)),
        ("abell0122field1118mhzr0.0_Halo.fits", Band(118, 118)),
        ("abell0141mwa288mhzbriggs0_Halo.fits", Band(88, 88)),
        ("abell3164field7154mhzr0.0_Halo.fits", Band(154, 154)),
        ("abell0550field11216mhzr1.0_Halo.fits", Band(216, 216)),
    ],
)
def test_band_from_every_published_name_pattern(name, band):
    assert band_from_name(name).band == band


def test_source_key_strips_band_and_suffix():
    assert source_key("abell_0122_Gleam72-103_clipped.fits") == ("abell_0122", Band(72, 103))
    assert source_key("3c 315_GLEAM_72-103MHz_clipped.fits") == ("3c 315", Band(72, 103))
    assert source_key("abell_s1063Gleam72-103_clipped.fits") == ("abell_s1063", Band(72, 103))
    assert source_key("abell0141mwa288mhzbriggs0_Halo.fits")[0] == "abell0141mwa2 briggs0_Halo"


def test_header_frequency_beats_file_name():
    h = fits.Header({"CTYPE3": "FREQ", "CRVAL3": 154.0e6, "CUNIT3": "Hz", "NAXIS": 3})
    assert detect_band(h, "x_Gleam72-103.fits") == Band(139, 170)


@pytest.mark.parametrize("proj", ["TAN", "SIN", "ZEA"])
def test_reads_projections_with_crpix_outside_and_big_endian(tmp_path, proj):
    img = noisy_image(40)
    p = write_fits(tmp_path / f"img_{proj}.fits", img, celestial_header(40, proj=proj, crpix=(-600.0, 232.0)))
    im = read_image(p)
    assert im.data.dtype == np.float32 and im.data.dtype.isnative
    np.testing.assert_allclose(im.data, img.astype(np.float32))
    assert im.wcs.wcs.ctype[0].endswith(proj)
    assert np.isfinite(im.centre().ra.deg)


def _cube_header(n, nfreq, nstokes=None):
    h = celestial_header(n)
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = "FREQ", 87.5e6, 31e6, 1.0, "Hz"
    if nstokes is not None:
        h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", 1.0, 1.0, 1.0
    return h


def test_degenerate_freq_and_stokes_axes_are_dropped(tmp_path):
    img = noisy_image(16)
    p = write_fits(tmp_path / "cube4d.fits", img[None, None], _cube_header(16, 1, 1))
    planes = read_planes(p)
    assert len(planes) == 1 and planes[0].shape == (16, 16)
    assert planes[0].band == Band(72, 103)  # from CRVAL3 = 87.5 MHz
    np.testing.assert_allclose(planes[0].data, img.astype(np.float32))


def test_frequency_cube_becomes_bands(tmp_path):
    cube = np.stack([noisy_image(16, seed=k) for k in range(3)])
    h = _cube_header(16, 3)
    h["CDELT3"] = 33.5e6  # 87.5, 121, 154.5 MHz
    planes = read_planes(write_fits(tmp_path / "cube.fits", cube, h))
    assert [p.band for p in planes] == list(GLEAM_BANDS[:3])
    with pytest.raises(AxisError, match="cube with 3 planes"):
        read_image(tmp_path / "cube.fits")


def test_two_nondegenerate_extra_axes_is_an_error(tmp_path):
    h = _cube_header(8, 2, 2)
    p = write_fits(tmp_path / "odd.fits", np.ones((2, 2, 8, 8)), h)
    with pytest.raises(AxisError, match="more than one non-degenerate extra axis") as e:
        read_planes(p)
    assert "odd.fits" in str(e.value)


def test_nans_are_kept_and_no_bunit_is_fine(tmp_path):
    img = noisy_image(16)
    img[0, :] = np.nan
    im = read_image(write_fits(tmp_path / "nan.fits", img, celestial_header(16)))
    assert np.isnan(im.data[0]).all() and np.isfinite(im.data[1:]).all()


@pytest.mark.parametrize(
    "make, error, text",
    [
        (lambda p: p.write_bytes(b"this is not a FITS file at all" * 10), NotFITSError, "not a FITS file"),
        (lambda p: p.write_bytes(b""), NotFITSError, "empty"),
        (lambda p: fits.PrimaryHDU().writeto(p), EmptyImageError, "no image HDU"),
        (lambda p: write_fits(p, np.full((8, 8), np.nan), celestial_header(8)), EmptyImageError, "all NaN"),
        (lambda p: write_fits(p, np.zeros((8, 8)), celestial_header(8)), EmptyImageError, "all zero"),
        (lambda p: fits.PrimaryHDU(np.ones((8, 8), "f4")).writeto(p), WCSError, "celestial"),
    ],
)
def test_bad_input_raises_one_clear_error(tmp_path, make, error, text):
    p = tmp_path / "bad.fits"
    make(p)
    with pytest.raises(error, match=text) as e:
        read_planes(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_truncated_file(tmp_path):
    p = write_fits(tmp_path / "full.fits", noisy_image(100), celestial_header(100))
    raw = p.read_bytes()
    t = tmp_path / "trunc.fits"
    t.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFITSError, match="truncated"):
        read_planes(t)


def test_group_and_stack_orders_by_frequency(tmp_path, gleam_like_source):
    gleam_like_source("abell_0001", bands=("170-231", "72-103", "139-170", "103-134"))
    (src,) = discover(tmp_path)
    stack = read_stack(src)
    assert stack.bands == list(GLEAM_BANDS)


def test_missing_band_is_an_error_naming_the_source(tmp_path, gleam_like_source):
    gleam_like_source("abell_0002", bands=("72-103", "103-134", "139-170"))
    (src,) = discover(tmp_path)
    assert not src.is_complete
    with pytest.raises(MissingBandError, match="abell_0002.*170-231"):
        read_stack(src)


def test_published_layout_any_split_name(tmp_path, gleam_like_source):
    gleam_like_source("a", folder=tmp_path / "VALID_DATA_0")
    gleam_like_source("b", folder=tmp_path / "VALID_DATA_1")
    gleam_like_source("c", folder=tmp_path / "TEST_DATA_1")
    assert set(find_splits(tmp_path)) == {"VALID", "TEST"}
    srcs = split_sources(tmp_path, "VALID")
    assert [(s.name, s.label) for s in srcs] == [("a", 0), ("b", 1)]
    with pytest.raises(InputError, match="no TRAIN_DATA_0"):
        split_sources(tmp_path, "TRAIN")
