"""Shared fixtures: tiny FITS files built in the test, and the real data when it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GLEAM = SHARED_DATA / "GLEAM-Data"
GEN_EVAL = SHARED_DATA / "Data_for_Gen_Model_Evaluation" / "Central_clipped_images"


def pytest_configure(config):
    """The suite never reads the user's own checkpoints (``~/.local/share/radioviz/checkpoints``,
    where "Retrain on my labels" writes): a model retrained in the served app had made a test fail
    on that machine only.  Servers the browser tests start inherit this."""
    import os
    import tempfile

    os.environ["RADIOVIZ_USER_CHECKPOINTS"] = tempfile.mkdtemp(prefix="radioviz-test-user-checkpoints-")


def needs(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"real data not present at {path}")


def celestial_header(n=32, proj="TAN", crpix=None, cdelt=0.01, ra=10.0, dec=-30.0) -> fits.Header:
    w = WCS(naxis=2)
    w.wcs.ctype = [f"RA---{proj}", f"DEC--{proj}"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = list(crpix or ((n + 1) / 2, (n + 1) / 2))
    w.wcs.cdelt = [-cdelt, cdelt]
    return w.to_header()


def write_fits(path: Path, data, header: fits.Header | None = None, big_endian=True) -> Path:
    data = np.asarray(data, dtype=">f4" if big_endian else "<f4")
    fits.PrimaryHDU(data, header).writeto(path, overwrite=True)
    return path


def noisy_image(n=32, seed=0, sigma=0.05, source=1.0):
    rng = np.random.default_rng(seed)
    img = rng.normal(0, sigma, (n, n))
    img[n // 2 - 2 : n // 2 + 2, n // 2 - 2 : n // 2 + 2] += source
    return img


@pytest.fixture
def gleam_like_source(tmp_path):
    """Four band files of one source with the published name pattern."""

    def make(
        name="abell_0001",
        folder=None,
        bands=("72-103", "103-134", "139-170", "170-231"),
        n=32,
        ra=10.0,
        dec=-30.0,
    ):
        folder = Path(folder or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, b in enumerate(bands):
            paths.append(
                write_fits(
                    folder / f"{name}_Gleam{b}_clipped.fits",
                    noisy_image(n, seed=k),
                    celestial_header(n, ra=ra, dec=dec),
                )
            )
        return paths

    return make


@pytest.fixture(scope="module")
def served_page(tmp_path_factory):
    """(url, page): the served app on a fresh label store and one headless Chromium page on it (not
    yet opened); the module fails on any console error or server error log.  Skipped without
    Debian's chromium."""
    import logging

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    from radioviz.app.headless import ServerErrors, served_app

    errors = ServerErrors()
    for name in ("tornado", "bokeh", "panel"):
        logging.getLogger(name).addHandler(errors)
    labels = tmp_path_factory.mktemp("labels") / "labels.sqlite"
    try:
        with served_app(labels_path=str(labels)) as url, playwright.sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(chromium), args=["--headless", "--no-sandbox"])
            page = b.new_page(viewport={"width": 1600, "height": 1200})
            page.errors = []
            page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
            yield url, page
            assert not page.errors, page.errors
            assert not errors.records, errors.records
            b.close()
    finally:
        for name in ("tornado", "bokeh", "panel"):
            logging.getLogger(name).removeHandler(errors)
