"""Generated images as files: the ``radioviz sample`` npz, and FITS a viewer can place on the sky.

FITS: one image HDU per sample and band, each a (1, 64, 64) Jy/beam plane with a celestial WCS
and a FREQ axis (the band's centre and width), so ds9/Aladin/astropy read pixel scale and
frequency.  The WCS is the background reference field's own cut-out WCS when the run had one;
otherwise a synthetic TAN grid centred on RA 0°, Dec 0° at the band's GLEAM pixel scale, said so
in the header (generated images have no sky position).  The conditioning goes in every header.
"""

from __future__ import annotations

import io

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from ..data.preprocess import Preprocessing, common_grid, cutout
from ..io.bands import GLEAM_BANDS, GLEAM_PIXEL_DEG
from ..models.card import ModelCard
from ..sampling.generate import Generated, save_samples
from .describe import label_text

SYNTHETIC_CENTRE = SkyCoord(0.0, 0.0, unit="deg")
_BANDS = {b.name: b for b in GLEAM_BANDS}


def samples_npz(g: Generated) -> bytes:
    """The npz a browser user downloads: the checkpoint named by its file name only (no server path)."""
    import dataclasses

    meta = dict(g.meta)
    if meta.get("checkpoint"):
        meta["checkpoint"] = str(meta["checkpoint"]).replace("\\", "/").split("/")[-1]
    buf = io.BytesIO()
    save_samples(dataclasses.replace(g, meta=meta), buf)
    return buf.getvalue()


def _celestial(pre: Preprocessing, band_index: int, size: int, reference) -> tuple[WCS, str]:
    """(WCS, how it was chosen) for one band's plane."""
    name = pre.bands[band_index]
    if reference is not None and len(pre.bands) == len(reference.stack.images):
        im = reference.stack.images[band_index]
        if pre.band_convention == "coregistered":
            scale = min(i.pixel_scale_deg for i in reference.stack.images)
            return common_grid(reference.stack.images[-1].centre(), size, scale), "reference field"
        return cutout(im, size).wcs, "reference field"
    if pre.band_convention == "coregistered":
        scale = min(GLEAM_PIXEL_DEG.values())
    else:
        scale = GLEAM_PIXEL_DEG.get(_BANDS.get(name), GLEAM_PIXEL_DEG[GLEAM_BANDS[2]])
    return common_grid(SYNTHETIC_CENTRE, size, scale), "synthetic"


def samples_fits(g: Generated, card: ModelCard | dict, reference=None) -> bytes:
    """A multi-extension FITS of ``g``: provenance in the primary header, then SAMPLE<i>_<band>."""
    pre = ModelCard.coerce(card).preprocessing or Preprocessing()
    meta = g.meta
    prim = fits.PrimaryHDU()
    prim.header["ORIGIN"] = "RadioViz generator (SIMULATED/GENERATED, not an observation)"
    cond = {
        "RVMODEL": (str(meta.get("checkpoint", "")).split("/")[-1][:68], "generator checkpoint"),
        "RVKIND": (meta.get("kind", ""), "generator kind"),
        "RVCLASS": (str(meta.get("label")), "class conditioning (None: unconditional)"),
        # a number (FITS readers compare it); left undefined when the run was not flux-conditioned
        "RVFLUX": (
            float(meta["flux"]) if isinstance(meta.get("flux"), (int, float)) else None,
            _flux_comment(meta.get("flux")),
        ),
        "RVOMEGA": (float(meta.get("guidance") or 0.0), "classifier-free guidance omega"),
        "RVMASK": (bool(meta.get("mask")), "conditioned on a segmentation mask"),
        "RVBKG": (
            str(meta.get("background_field") or meta.get("background") or "none")[:68],
            "background ref",
        ),
        "RVSAMPLR": (meta.get("sampler", ""), "sampler"),
        "RVSTEPS": (int(meta.get("steps") or 0), "sampler steps"),
        "RVNFE": (int(meta.get("nfe") or 0), "network evaluations"),
        "RVSEED": (int(meta.get("seed") or 0), "random seed"),
    }
    for k, (v, c) in cond.items():
        prim.header[k] = (v, c)
    words = label_text(meta.get("label")).replace("—", "-").replace("–", "-")
    prim.header["COMMENT"] = "Class: " + words.encode("ascii", "replace").decode()
    hdus = [prim]
    size = g.physical.shape[-1]
    for i, img in enumerate(g.physical):
        for b in range(img.shape[0]):
            w2, how = _celestial(pre, b, size, reference)
            h = w2.to_header()
            band = _BANDS.get(pre.bands[b])
            hdu = fits.ImageHDU(img[b][None].astype(np.float32), name=f"SAMPLE{i}_B{b}")
            hdu.header.update(h)
            hdu.header["WCSAXES"] = 3
            if band is not None:
                hdu.header["CTYPE3"] = "FREQ"
                hdu.header["CRVAL3"] = band.centre * 1e6
                hdu.header["CDELT3"] = (band.high - band.low) * 1e6
                hdu.header["CRPIX3"] = 1.0
                hdu.header["CUNIT3"] = "Hz"
                hdu.header["FREQ"] = (band.centre * 1e6, "band centre, Hz")
                hdu.header["BANDWID"] = ((band.high - band.low) * 1e6, "band width, Hz")
            else:
                hdu.header["CTYPE3"] = "FREQ"
                hdu.header["CRVAL3"] = 154e6
                hdu.header["CDELT3"] = 1.0
                hdu.header["CRPIX3"] = 1.0
                hdu.header["CUNIT3"] = "Hz"
                hdu.header["COMMENT"] = (
                    "single-frequency model trained on 88-216 MHz MWA images: 154 MHz is nominal"
                )
            hdu.header["BAND"] = (pre.bands[b], "GLEAM band")
            hdu.header["BUNIT"] = "Jy/beam"
            hdu.header["WCSSRC"] = (how, "reference field or synthetic")
            if how == "synthetic":
                hdu.header["COMMENT"] = (
                    "Synthetic WCS: centred on RA 0, Dec 0 at the band's GLEAM pixel scale; "
                    "a generated image has no sky position."
                )
            for k, (v, c) in cond.items():
                hdu.header[k] = (v, c)
            hdus.append(hdu)
    buf = io.BytesIO()
    fits.HDUList(hdus).writeto(buf)
    return buf.getvalue()


def _flux_comment(flux) -> str:
    if isinstance(flux, str):
        return f"peak flux, Jy/beam: {flux} (see the npz)"
    return "peak flux, Jy/beam" + (" (blank: not conditioned)" if flux is None else "")
