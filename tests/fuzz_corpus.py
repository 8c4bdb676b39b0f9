"""A fuzz corpus of bad input, run through every ``radioviz`` command in-process.

Malformed FITS (truncated, not FITS, corrupt gzip, headers claiming 10¹² pixels, NaN/Inf, tiny
bands, odd cubes, directories and FIFOs named ``*.fits``, link loops, non-UTF-8 names), masks and
tampered model cards.  Every run must end in one of two ways: one ``radioviz: error: ...`` line
and a non-zero exit, or a correct result (exit 0 where the input is valid).  Counted:

- ``clean``: the one-line refusal of bad input;
- ``correct``: exit 0 on valid input;
- ``traceback``: an exception escaped ``main()`` or a traceback was printed;
- ``hang``: the command ran past its time limit;
- ``wrong_success``: exit 0 on input that should have been refused;
- ``wrong_refusal``: a clean refusal of valid input.

Self-contained (only numpy, astropy and radioviz), so the same corpus runs against older code:
``PYTHONPATH=<checkout> python tests/fuzz_corpus.py --work /tmp/fuzz``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

REPO = Path(__file__).resolve().parents[1]
CHECKPOINTS = REPO / "checkpoints"
BANDS = ("72-103", "103-134", "139-170", "170-231")
SIZE = 72  # good images: just above the 64×64 cut-out
OUTCOMES = ("clean", "correct", "traceback", "hang", "wrong_success", "wrong_refusal")


# -- writing FITS -------------------------------------------------------------------------------


def header(n: int = SIZE, ra: float = 10.0, dec: float = -30.0, ny: int | None = None) -> fits.Header:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(n + 1) / 2, ((ny or n) + 1) / 2]
    w.wcs.cdelt = [-0.01, 0.01]
    return w.to_header()


def image(n: int = SIZE, seed: int = 0, ny: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.normal(0, 0.05, (ny or n, n))
    img[img.shape[0] // 2 - 2 : img.shape[0] // 2 + 2, n // 2 - 2 : n // 2 + 2] += 1.0
    return img.astype(">f4")


def good_bytes(n: int = SIZE, seed: int = 0, ra: float = 10.0, ny: int | None = None) -> bytes:
    buf = io.BytesIO()
    fits.PrimaryHDU(image(n, seed, ny), header(n, ra, ny=ny)).writeto(buf)
    return buf.getvalue()


def _hdu_bytes(data, hdr) -> bytes:
    buf = io.BytesIO()
    fits.PrimaryHDU(data, hdr).writeto(buf)
    return buf.getvalue()


def _cube(shape, extra: list[tuple[str, float, float]]) -> bytes:
    h = header(shape[-1])
    for k, (ctype, crval, cdelt) in enumerate(extra, start=3):
        h[f"CTYPE{k}"], h[f"CRVAL{k}"], h[f"CDELT{k}"], h[f"CRPIX{k}"] = ctype, crval, cdelt, 1.0
    rng = np.random.default_rng(1)
    data = rng.normal(0, 0.05, shape).astype(">f4")
    data[..., shape[-2] // 2, shape[-1] // 2] += 1
    return _hdu_bytes(data, h)


def _huge_header(naxis1: int, naxis2: int) -> bytes:
    """A header claiming naxis1×naxis2 float32 pixels, followed by a little data only."""
    cards = [
        "SIMPLE  =                    T",
        "BITPIX  =                  -32",
        "NAXIS   =                    2",
        f"NAXIS1  = {naxis1:20d}",
        f"NAXIS2  = {naxis2:20d}",
        "CTYPE1  = 'RA---TAN'",
        "CTYPE2  = 'DEC--TAN'",
        "END",
    ]
    head = b"".join(c.ljust(80).encode() for c in cards)
    return head.ljust(2880, b" ") + b"\0" * 2880 * 4


def _flip_mid(raw: bytes, n: int = 64) -> bytes:
    mid = len(raw) // 2
    return raw[:mid] + bytes(b ^ 0xFF for b in raw[mid : mid + n]) + raw[mid + n :]


def _with_values(fill: Callable[[np.ndarray], None]) -> bytes:
    d = image().astype(np.float32)
    fill(d)
    return _hdu_bytes(d, header())


@dataclass
class FitsCase:
    """One malformed (or valid but odd) band file.  ``make(path)`` creates it; ``valid`` says a
    command reading it should succeed; ``inspect_ok``: ``data inspect`` should list it (exit 0)."""

    name: str
    make: Callable[[Path], None]
    valid: bool = False
    inspect_ok: bool = False
    needs_nonroot: bool = False


def _bytes(content: bytes | Callable[[], bytes]):
    def make(p: Path):
        p.write_bytes(content() if callable(content) else content)

    return make


def _gz(content: Callable[[], bytes], corrupt: bool = False):
    def make(p: Path):
        raw = gzip.compress(content())
        p.write_bytes(_flip_mid(raw) if corrupt else raw)

    return make


def _dir(p: Path):
    p.mkdir()
    (p / "inner.txt").write_text("a directory named like a FITS file")


def _loop(p: Path):
    p.symlink_to(p.name)  # points at itself


def _dangling(p: Path):
    p.symlink_to(p.parent / "does-not-exist.fits")


def _fifo(p: Path):
    os.mkfifo(p)


def _unreadable(p: Path):
    p.write_bytes(good_bytes())
    p.chmod(0)


def fits_cases() -> list[FitsCase]:
    good = good_bytes()
    return [
        FitsCase("valid", _bytes(good), valid=True, inspect_ok=True),
        FitsCase("valid_gz", _gz(good_bytes), valid=True, inspect_ok=True),
        FitsCase("truncated_half", _bytes(good[: len(good) // 2])),
        FitsCase("truncated_header", _bytes(good[:1000])),
        FitsCase("truncated_one_block", _bytes(good[:-2880])),
        FitsCase("empty", _bytes(b"")),
        FitsCase("not_fits_text", _bytes(b"this is not a FITS file at all\n" * 50)),
        FitsCase("png_bytes", _bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)),
        FitsCase("simple_then_garbage", _bytes(b"SIMPLE  =" + bytes(range(256)) * 20)),
        FitsCase("gz_corrupt_mid", _gz(good_bytes, corrupt=True)),
        FitsCase("gz_truncated", lambda p: p.write_bytes(gzip.compress(good)[:-40])),
        FitsCase("gz_not_gzip_inside", _gz(lambda: b"plain text, gzipped" * 100)),
        FitsCase("gz_header_1e12", _gz(lambda: _huge_header(1_000_000, 1_000_000))),
        FitsCase("header_1e12", _bytes(_huge_header(1_000_000, 1_000_000))),
        FitsCase("header_bad_naxis", _bytes(_huge_header(64, 64).replace(b"NAXIS1  =", b"NAXIS1  = 'x'", 1))),
        FitsCase("all_nan", _bytes(lambda: _with_values(lambda d: d.fill(np.nan)))),
        FitsCase("all_inf", _bytes(lambda: _with_values(lambda d: d.fill(np.inf)))),
        FitsCase("all_zero", _bytes(lambda: _with_values(lambda d: d.fill(0)))),
        FitsCase(
            "nan_and_inf_only",
            _bytes(lambda: _with_values(lambda d: (d.fill(np.nan), d.__setitem__(0, np.inf)))),
        ),
        FitsCase(
            "some_nan",
            _bytes(lambda: _with_values(lambda d: d.__setitem__(slice(0, 5), np.nan))),
            valid=True,
            inspect_ok=True,
        ),
        FitsCase(
            "some_inf",
            _bytes(lambda: _with_values(lambda d: d.__setitem__((0, slice(0, 5)), np.inf))),
            valid=True,
            inspect_ok=True,
        ),
        FitsCase("band_1x1", _bytes(lambda: _hdu_bytes(np.ones((1, 1), ">f4"), header(1))), inspect_ok=True),
        FitsCase("band_10x10", _bytes(lambda: good_bytes(10)), inspect_ok=True),
        FitsCase("band_72x10", _bytes(lambda: good_bytes(72, ny=10)), inspect_ok=True),
        FitsCase("no_wcs", _bytes(lambda: _hdu_bytes(image(), None))),
        FitsCase("one_d", _bytes(lambda: _hdu_bytes(np.ones(100, ">f4"), None))),
        FitsCase("primary_only", _bytes(lambda: _hdu_bytes(None, None))),
        FitsCase(
            "cube_freq_stokes_2x2",
            _bytes(lambda: _cube((2, 2, SIZE, SIZE), [("FREQ", 88e6, 31e6), ("STOKES", 1, 1)])),
        ),
        FitsCase("cube_stokes_no_I", _bytes(lambda: _cube((2, SIZE, SIZE), [("STOKES", 2, 1)]))),
        FitsCase("cube_velo_axis", _bytes(lambda: _cube((3, SIZE, SIZE), [("VELO-LSR", 0, 1000)]))),
        FitsCase(
            "cube_degenerate_5d",
            _bytes(lambda: _cube((1, 1, 1, SIZE, SIZE), [("FREQ", 88e6, 1e6), ("STOKES", 1, 1), ("", 0, 1)])),
            valid=True,
            inspect_ok=True,
        ),
        FitsCase("directory_named_fits", _dir),
        FitsCase("symlink_loop", _loop),
        FitsCase("dangling_symlink", _dangling),
        FitsCase("fifo", _fifo),
        FitsCase("unreadable_file", _unreadable, needs_nonroot=True),
    ]


# -- masks and cards -----------------------------------------------------------------------------


def _npy(arr) -> Callable[[Path], None]:
    def make(p: Path):
        np.save(p, arr, allow_pickle=True)
        if p.suffix != ".npy":
            p.with_name(p.name + ".npy").rename(p)

    return make


def _npy_header_claim(p: Path):
    """A .npy header claiming a 10⁶×10⁶ float64 array, then a few bytes."""
    head = {"descr": "<f8", "fortran_order": False, "shape": (1_000_000, 1_000_000)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, head)
    p.write_bytes(buf.getvalue() + b"\0" * 64)


@dataclass
class MaskCase:
    name: str
    make: Callable[[Path], None]
    suffix: str = ".npy"
    valid: bool = False


def mask_cases() -> list[MaskCase]:
    ok = np.zeros((64, 64), np.int64)
    ok[20:30, 20:30] = 3

    def fits_mask(arr):
        return _bytes(lambda: _hdu_bytes(np.asarray(arr, ">f4"), header(arr.shape[-1])))

    return [
        MaskCase("valid_npy", _npy(ok), valid=True),
        MaskCase("valid_fits", fits_mask(ok.astype(np.float32)), ".fits", valid=True),
        MaskCase("wrong_shape", _npy(np.zeros((32, 32), np.int64))),
        MaskCase("three_d", _npy(np.zeros((2, 64, 64), np.int64))),
        MaskCase("float_values", _npy(ok + 0.5)),
        MaskCase("class_out_of_range", _npy(ok + 7)),
        MaskCase("negative", _npy(ok - 1)),
        MaskCase("nan", _npy(np.full((64, 64), np.nan))),
        MaskCase("object_pickle", _npy(np.array([{"a": 1}] * 4, dtype=object))),
        MaskCase("strings", _npy(np.full((64, 64), "x"))),
        MaskCase("complex", _npy(np.zeros((64, 64), np.complex64))),
        MaskCase("empty_file", _bytes(b"")),
        MaskCase("truncated_npy", lambda p: (_npy(ok)(p), p.write_bytes(p.read_bytes()[:200]))),
        MaskCase("npy_header_1e12", _npy_header_claim),
        MaskCase("directory", _dir),
        MaskCase("fits_not_fits", _bytes(b"garbage" * 100), ".fits"),
        MaskCase("fits_1e12", _bytes(_huge_header(1_000_000, 1_000_000)), ".fits"),
    ]


@dataclass
class CardCase:
    """A tampered copy of a shipped checkpoint: ``base`` names it, ``edit`` changes its card (dict
    -> dict or raw text) and ``weights`` its state (dict of arrays -> dict)."""

    name: str
    base: str
    edit: Callable | None = None
    weights: Callable | None = None
    valid: bool = False


def _set(path: str, value):
    def edit(card):
        node = card
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        return card

    return edit


def _drop(key: str):
    def edit(card):
        card.pop(key, None)
        return card

    return edit


def _nan_all(state):
    return {k: np.full_like(v, np.nan) if v.dtype.kind == "f" else v for k, v in state.items()}


def _nan_one(state):
    k = next(k for k, v in state.items() if v.dtype.kind == "f" and v.size > 1)
    state = dict(state)
    state[k] = state[k].copy()
    state[k].flat[0] = np.inf
    return state


def _reshape_one(state):
    k = next(k for k, v in state.items() if v.ndim >= 2)
    state = dict(state)
    state[k] = np.ascontiguousarray(state[k].reshape(-1))
    return state


def card_cases() -> list[CardCase]:
    c, g = "classifier_L", "edm_mask_gleam"
    return [
        CardCase("classifier_valid", c, valid=True),
        CardCase("generator_valid", g, valid=True),
        CardCase("kwargs_list", c, _set("kwargs", [1, 2])),
        CardCase("kwargs_string", g, _set("kwargs", "big")),
        CardCase("kind_number", c, _set("kind", 7)),
        CardCase("arch_list", c, _set("arch", ["L"])),
        CardCase("missing_kind", c, _drop("kind")),
        CardCase("missing_kwargs", g, _drop("kwargs")),
        CardCase("missing_preprocessing", c, _drop("preprocessing")),
        CardCase("preprocessing_string", c, _set("preprocessing", "minmax")),
        CardCase("normalization_garbage", c, _set("preprocessing.normalization", {"low": "x"})),
        CardCase("unknown_kind", g, _set("kind", "banana")),
        CardCase("unknown_arch", c, _set("arch", "Z")),
        CardCase("unknown_kwarg", g, _set("kwargs.wings", 2)),
        CardCase("base_4096", g, _set("kwargs.base", 4096)),
        CardCase("base_negative", g, _set("kwargs.base", -3)),
        CardCase("size_1e9", g, _set("kwargs.size", 10**9)),
        CardCase("mults_huge", g, _set("kwargs.mults", [1, 2, 2, 2] * 50)),
        CardCase("labels_number", g, _set("labels", 5)),
        CardCase("card_not_json", c, lambda card: "{not json"),
        CardCase("card_json_list", c, lambda card: [card]),
        CardCase("card_empty", c, lambda card: ""),
        CardCase("weights_all_nan", c, weights=_nan_all),
        CardCase("weights_one_inf", g, weights=_nan_one),
        CardCase("weights_reshaped", c, weights=_reshape_one),
        CardCase("weights_of_other_arch", c, _set("arch", "D")),
        CardCase("weights_truncated", c, weights="truncate"),
        CardCase("weights_not_safetensors", g, weights="garbage"),
    ]


def write_card_case(case: CardCase, folder: Path) -> Path:
    from safetensors.numpy import load_file, save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{case.name}.safetensors"
    card = json.loads((CHECKPOINTS / f"{case.base}.json").read_text())
    if case.weights == "truncate":
        raw = (CHECKPOINTS / f"{case.base}.safetensors").read_bytes()
        weights.write_bytes(raw[: len(raw) // 3])
    elif case.weights == "garbage":
        weights.write_bytes(b"not safetensors at all" * 10)
    elif case.weights is not None:
        save_file(case.weights(load_file(str(CHECKPOINTS / f"{case.base}.safetensors"))), str(weights))
    else:
        shutil.copy(CHECKPOINTS / f"{case.base}.safetensors", weights)
    if case.edit is not None:
        card = case.edit(card)
    weights.with_suffix(".json").write_text(card if isinstance(card, str) else json.dumps(card))
    return weights


# -- layouts -------------------------------------------------------------------------------------


def write_source(folder: Path, name: str, ra: float, seed: int, bad: FitsCase | None = None) -> Path | None:
    """Four band files of one source; with ``bad``, its 72–103 MHz file is that case instead."""
    folder.mkdir(parents=True, exist_ok=True)
    victim = None
    for k, b in enumerate(BANDS):
        p = folder / f"{name}_Gleam{b}_clipped.fits"
        if bad is not None and k == 0:
            if bad.name.endswith("_gz") or bad.name.startswith("gz_"):
                p = p.with_name(p.name + ".gz")
            bad.make(p)
            victim = p
        else:
            p.write_bytes(good_bytes(SIZE, seed * 4 + k, ra))
    return victim


def write_root(root: Path, bad: FitsCase | None) -> Path | None:
    """A published layout: TRAIN_DATA_0 (two sources, one with the bad file) and TRAIN_DATA_1."""
    victim = write_source(root / "TRAIN_DATA_0", "victim", 10.0, 0, bad)
    write_source(root / "TRAIN_DATA_0", "plain0", 25.0, 1)
    write_source(root / "TRAIN_DATA_1", "halo1", 40.0, 2)
    write_source(root / "TRAIN_DATA_1", "halo2", 55.0, 3)
    return victim


# -- values checked where they enter (issue #29, parts 5 and 7) --------------------------------------
#
# Five classes, each run through the command line in-process: band files whose WCS moves positions
# (singular CD/PC matrix, zero CDELT, CRPIX far outside the image, a band pointing elsewhere, Dec
# beyond the pole, galactic bands), the segmenter's (and generators') own card values, position
# tables with bad rows, numeric options out of range or not finite, and non-ASCII names.


def _header_edit(**cards) -> Callable[[fits.Header], None]:
    """An edit setting header cards (``None`` deletes one)."""

    def edit(h: fits.Header):
        for k, v in cards.items():
            if v is None:
                h.remove(k, ignore_missing=True)
            else:
                h[k] = v

    return edit


def _cd(m11, m12, m21, m22) -> Callable[[fits.Header], None]:
    def edit(h: fits.Header):
        for k in ("CDELT1", "CDELT2"):
            h.remove(k, ignore_missing=True)
        h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = m11, m12, m21, m22

    return edit


def _pc(m11, m12, m21, m22) -> Callable[[fits.Header], None]:
    def edit(h: fits.Header):
        h["PC1_1"], h["PC1_2"], h["PC2_1"], h["PC2_2"] = m11, m12, m21, m22

    return edit


def _galactic(h: fits.Header):
    """The same pointing in galactic coordinates (GLON/GLAT, TAN)."""
    from astropy.coordinates import SkyCoord

    g = SkyCoord(h["CRVAL1"], h["CRVAL2"], unit="deg").galactic
    h["CTYPE1"], h["CTYPE2"] = "GLON-TAN", "GLAT-TAN"
    h["CRVAL1"], h["CRVAL2"] = float(g.l.deg), float(g.b.deg)
    h.remove("RADESYS", ignore_missing=True)
    h.remove("EQUINOX", ignore_missing=True)


def write_source_edited(folder: Path, name: str, ra: float, seed: int, edits: dict) -> Path:
    """Four good band files of one source; ``edits`` maps a band index to a header edit."""
    folder.mkdir(parents=True, exist_ok=True)
    first = None
    for k, b in enumerate(BANDS):
        p = folder / f"{name}_Gleam{b}_clipped.fits"
        h = header(SIZE, ra)
        if k in edits:
            edits[k](h)
        fits.PrimaryHDU(image(SIZE, seed * 4 + k), h).writeto(p, overwrite=True)
        first = first or p
    return first


@dataclass
class ProbeCase:
    """One probe run: ``make(corpus, folder)`` writes its inputs under ``folder`` and returns the
    argv; ``valid``: exit 0 is the right outcome; ``check(folder)``, after an exit 0, says what is
    wrong with the result (None when right), which makes the run a wrong success."""

    name: str
    cls: str  # wcs | card | table | option | name
    command: str
    make: Callable
    valid: bool = False
    check: Callable[[Path], str | None] | None = None
    timeout: float | None = None


def _wcs_cases() -> list[ProbeCase]:
    bad = {
        "wcs_singular_cd": {0: _cd(-0.01, 0.01, -0.01, 0.01)},
        "wcs_zero_cd": {0: _cd(0.0, 0.0, 0.0, 0.0)},
        "wcs_zero_cdelt": {0: _header_edit(CDELT1=0.0)},
        "wcs_singular_pc": {0: _pc(1.0, 1.0, 1.0, 1.0)},
        "wcs_crpix_1e8": {0: _header_edit(CRPIX1=1e8)},
        "wcs_crpix_far_all_bands": {k: _header_edit(CRPIX2=-5e4) for k in range(4)},
        "wcs_band_10deg_away": {0: _header_edit(CRVAL1=20.0)},
        "wcs_dec_beyond_pole": {k: _header_edit(CRVAL2=120.0) for k in range(4)},
        "wcs_pixel_45deg": {k: _header_edit(CDELT1=-45.0, CDELT2=45.0) for k in range(4)},
    }
    good = {
        "wcs_galactic_all_bands": {k: _galactic for k in range(4)},
        "wcs_galactic_one_band": {0: _galactic},
        "wcs_cd_rotated": {k: _cd(-0.00866, 0.005, 0.005, 0.00866) for k in range(4)},
    }
    cases = []
    for name, edits in [*bad.items(), *good.items()]:
        valid = name in good

        def root(c, folder, edits=edits):
            write_source_edited(folder / "TRAIN_DATA_0", "victim", 10.0, 0, edits)
            write_source(folder / "TRAIN_DATA_0", "plain0", 25.0, 1)
            write_source(folder / "TRAIN_DATA_1", "halo1", 40.0, 2)
            write_source(folder / "TRAIN_DATA_1", "halo2", 55.0, 3)
            return folder

        def scan(c, folder, root=root):
            r = root(c, folder)
            return ["scan", str(r / "TRAIN_DATA_0"), "--checkpoint", str(c.clf), "--stride", "16"] + [
                "--out",
                str(folder / "out"),
            ]

        def detector_scan(c, folder, root=root):
            r = root(c, folder)
            return ["scan", str(r / "TRAIN_DATA_0"), "--checkpoint", str(c.seg), "--stride", "4"] + [
                "--out",
                str(folder / "out"),
            ]

        def build(c, folder, root=root):
            r = root(c, folder)
            return ["data", "build", "--data", str(r), "--no-augment", "--cache-dir", str(folder / "c")]

        def survey(c, folder, root=root):
            r = root(c, folder)
            return ["survey", str(r / "TRAIN_DATA_0"), "--checkpoint", str(c.clf), "--stride", "16"] + [
                "--out",
                str(folder / "out"),
                "--workers",
                "1",
            ]

        def survey_check(folder, valid=valid):
            t = _results(folder / "out")
            if t is None:
                return "no results.ecsv"
            victim = [r for r in t if r["name"] == "victim"]
            if not victim:
                return "no row for the victim source"
            ok = victim[0]["status"] == "ok"
            return None if ok == valid else f"victim row is {victim[0]['status']} ({victim[0]['reason']})"

        cases += [
            ProbeCase(name, "wcs", "scan", scan, valid),
            ProbeCase(name, "wcs", "data build", build, valid),
        ]
        if name in ("wcs_singular_cd", "wcs_crpix_1e8", "wcs_band_10deg_away", "wcs_galactic_all_bands"):
            cases.append(ProbeCase(name, "wcs", "scan (detector)", detector_scan, valid))
            # a survey goes on past a bad field: exit 0, the bad field's row 'failed' with its reason
            cases.append(ProbeCase(name, "wcs", "survey", survey, True, survey_check))
    return cases


def _results(out: Path):
    from astropy.table import Table

    p = out / "results.ecsv"
    return Table.read(p, format="ascii.ecsv") if p.exists() else None


def _card_cases() -> list[ProbeCase]:
    seg = {
        "seg_pixel_deg_0": _set("grid.pixel_deg", 0),
        "seg_pixel_deg_negative": _set("grid.pixel_deg", -0.015),
        "seg_pixel_deg_string": _set("grid.pixel_deg", "56 arcsec"),
        "seg_grid_nsigma_0": _set("grid.nsigma", 0),
        "seg_grid_list": _set("grid", [1, 2]),
        "seg_default_threshold_5": _set("default_threshold", 5),
        "seg_default_threshold_0": _set("default_threshold", 0),
        "seg_default_threshold_nan": _set("default_threshold", float("nan")),
        "seg_calibration_a_negative": _set("calibration.a", -1.0),
        "seg_calibration_b_string": _set("calibration.b", "x"),
        "seg_calibration_missing_a": lambda card: (card["calibration"].pop("a"), card)[1],
        "seg_calibration_method": _set("calibration.method", "isotonic"),
        "seg_tile_0": _set("tile", 0),
        "seg_tile_huge": _set("tile", 10**6),
        "seg_cluster_radius_negative": _set("cluster_radius_arcmin", -5),
    }
    gen = {
        "gen_flux_std_0": ("edm_gleam", _set("flux.std", 0)),
        "gen_flux_lam_string": ("edm_gleam", _set("flux.lam", "x")),
        "gen_sigma_range_reversed": ("edm_gleam", _set("sigma_range", [80.0, 0.002])),
        "gen_sigma_data_0": ("edm_gleam", _set("precond.sigma_data", 0)),
        "gen_quality_guidance_nan": ("edm_gleam", _set("quality.guidance", float("nan"))),
        "gen_dead_band_negative": ("edm_gleam", _set("dead_band_jy", [-1.0, 0.1, 0.1, 0.1])),
    }
    cases = []
    for name, edit in seg.items():

        def scan(c, folder, edit=edit, name=name):
            ckpt = write_card_case(CardCase(name, "segmenter", edit), folder / "ck")
            write_source(folder / "f", "a", 10.0, 0)
            return ["scan", str(folder / "f"), "--checkpoint", str(ckpt), "--out", str(folder / "out")]

        cases.append(ProbeCase(name, "card", "scan", scan))
        if name in ("seg_pixel_deg_0", "seg_default_threshold_5"):

            def survey(c, folder, edit=edit, name=name):
                ckpt = write_card_case(CardCase(name, "segmenter", edit), folder / "ck")
                write_source(folder / "f", "a", 10.0, 0)
                return [
                    "survey",
                    str(folder / "f"),
                    "--checkpoint",
                    str(ckpt),
                    "--out",
                    str(folder / "out"),
                ] + [
                    "--workers",
                    "1",
                ]

            cases.append(ProbeCase(name, "card", "survey", survey))
    for name, (base, edit) in gen.items():

        def sample(c, folder, edit=edit, name=name, base=base):
            ckpt = write_card_case(CardCase(name, base, edit), folder / "ck")
            return ["sample", "--checkpoint", str(ckpt), "--n", "1", "--steps", "2", "--label", "H"] + [
                "--out",
                str(folder / "s.npz"),
            ]

        cases.append(ProbeCase(name, "card", "sample", sample))
    return cases


def _table_cases() -> list[ProbeCase]:
    """A positions table of three rows, two on local fields and one bad: the survey goes on, the
    bad row is reported (status 'failed', its reason) and the good rows are scored."""
    bad_rows = {
        "table_ra_text": "abc",
        "table_ra_nan": "nan",
        "table_ra_400": "400",
        "table_dec_95": None,  # the Dec is bad instead
        "table_ra_empty": "",
    }
    cases = []
    for name, ra in bad_rows.items():

        def survey(c, folder, ra=ra):
            write_source(folder / "img", "f1", 10.0, 0)
            write_source(folder / "img", "f2", 40.0, 1)
            rows = [
                "name,ra,dec",
                "one,10.0,-30.0",
                f"bad,{'12.0' if ra is None else ra},{95 if ra is None else -30}",
            ]
            rows.append("two,40.0,-30.0")
            (folder / "pos.csv").write_text("\n".join(rows) + "\n")
            return ["survey", str(folder / "pos.csv"), "--images", str(folder / "img")] + [
                "--checkpoint",
                str(c.clf),
                "--stride",
                "16",
                "--cutout",
                "64",
                "--out",
                str(folder / "out"),
                "--workers",
                "1",
            ]

        def check(folder):
            t = _results(folder / "out")
            if t is None:
                return "no results.ecsv"
            st = {str(r["name"]): (str(r["status"]), str(r["reason"])) for r in t}
            if st.get("one", ("",))[0] != "ok" or st.get("two", ("",))[0] != "ok":
                return f"good rows not scored: {st}"
            if st.get("bad", ("",))[0] != "failed" or "row" not in st["bad"][1]:
                return f"bad row not reported as failed with its reason: {st.get('bad')}"
            return None

        cases.append(ProbeCase(name, "table", "survey positions", survey, True, check))

    def scan_catalog(c, folder):
        write_source(folder / "f", "a", 10.0, 0)
        (folder / "cat.csv").write_text("name,ra,dec\nA,10.0,-30.0\nB,abc,-30\nC,370,-30\n")
        return ["scan", str(folder / "f"), "--checkpoint", str(c.clf), "--stride", "16"] + [
            "--catalog",
            str(folder / "cat.csv"),
            "--out",
            str(folder / "out"),
        ]

    cases.append(ProbeCase("table_catalog_bad_rows", "table", "scan --catalog", scan_catalog, True))
    return cases


def _option_cases() -> list[ProbeCase]:
    def sample(*extra):
        def make(c, folder):
            return ["sample", "--checkpoint", str(c.gen), "--n", "1", "--steps", "2", "--label", "H"] + [
                "--mask",
                str(c.good_mask()),
                "--out",
                str(folder / "s.npz"),
                *extra,
            ]

        return make

    def scan(*extra):
        def make(c, folder):
            write_source(folder / "f", "a", 10.0, 0)
            return ["scan", str(folder / "f"), "--checkpoint", str(c.clf), "--out", str(folder / "o"), *extra]

        return make

    def survey(*extra):
        def make(c, folder):
            write_source(folder / "f", "a", 10.0, 0)
            return [
                "survey",
                str(folder / "f"),
                "--checkpoint",
                str(c.clf),
                "--out",
                str(folder / "o"),
                *extra,
            ]

        return make

    def cmd(*argv):
        def make(c, folder):
            root = c.good_root()
            subs = {"{work}": str(folder), "{clf}": str(c.clf), "{root}": str(root)}
            return [subs.get(a, a).replace("{work}", str(folder)) for a in argv]

        return make

    table = [
        ("n_0", "sample", sample("--n", "0")),
        ("n_negative", "sample", sample("--n", "-3")),
        ("n_100000", "sample", sample("--n", "100000")),
        ("guidance_nan", "sample", sample("--guidance", "nan")),
        ("guidance_inf", "sample", sample("--guidance", "inf")),
        ("eta_nan", "sample", sample("--eta", "nan")),
        ("steps_0", "sample", sample("--steps", "0")),
        ("flux_nan", "sample", sample("--flux", "nan")),
        ("seed_negative", "sample", sample("--seed", "-1")),
        ("stride_0", "scan", scan("--stride", "0")),
        ("stride_negative", "scan", scan("--stride", "-4")),
        ("threshold_nan", "scan", scan("--threshold", "nan")),
        ("threshold_1.5", "scan", scan("--threshold", "1.5")),
        ("radius_nan", "scan", scan("--radius", "nan")),
        ("stride_0", "survey", survey("--stride", "0", "--workers", "1")),
        ("threshold_nan", "survey", survey("--threshold", "nan", "--workers", "1")),
        ("threshold_negative", "survey", survey("--threshold", "-0.5", "--workers", "1")),
        ("workers_-1", "survey", survey("--workers", "-1")),
        ("workers_0", "survey", survey("--workers", "0")),
        ("chunk_0", "survey", survey("--chunk", "0", "--workers", "1")),
        ("cutout_0", "survey", survey("--cutout", "0", "--workers", "1")),
        ("radius_negative", "survey", survey("--radius", "-1", "--workers", "1")),
        ("limit_0", "survey", survey("--limit", "0", "--workers", "1")),
        ("simulate_mosaic_negative", "survey", survey("--simulate-mosaic", "-5", "--workers", "1")),
        ("simulate_mosaic_1e6", "survey", survey("--simulate-mosaic", "1000000", "--workers", "1")),
        ("n_0", "simulate", cmd("simulate", "--out", "{work}/sim", "--n", "0")),
        ("n_negative", "simulate", cmd("simulate", "--out", "{work}/sim", "--n", "-2")),
        (
            "size_0",
            "data build",
            cmd("data", "build", "--data", "{root}", "--no-augment", "--cache-dir", "{work}", "--size", "0"),
        ),
        (
            "val_fraction_1.5",
            "data build",
            cmd(
                "data",
                "build",
                "--data",
                "{root}",
                "--no-augment",
                "--cache-dir",
                "{work}",
                "--val-fraction",
                "1.5",
            ),
        ),
        (
            "val_fraction_nan",
            "data build",
            cmd(
                "data",
                "build",
                "--data",
                "{root}",
                "--no-augment",
                "--cache-dir",
                "{work}",
                "--val-fraction",
                "nan",
            ),
        ),
        ("pixels_0", "fetch", cmd("fetch", "abell 2163", "--out", "{work}/f", "--pixels", "0")),
        (
            "redshift_nan",
            "inject",
            cmd(
                "inject",
                "--checkpoint",
                "{clf}",
                "--data",
                "{root}",
                "--out",
                "{work}/i",
                "--redshift",
                "nan",
            ),
        ),
        (
            "epochs_0",
            "train classifier",
            cmd(
                "train",
                "classifier",
                "--data",
                "{root}",
                "--cache-dir",
                "{work}",
                "--out",
                "{work}/m",
                "--epochs",
                "0",
            ),
        ),
        (
            "lr_nan",
            "train classifier",
            cmd(
                "train",
                "classifier",
                "--data",
                "{root}",
                "--cache-dir",
                "{work}",
                "--out",
                "{work}/m",
                "--lr",
                "nan",
            ),
        ),
        (
            "k_1",
            "cv",
            cmd("cv", "--data", "{root}", "--cache-dir", "{work}", "--out", "{work}/cv", "--k", "1"),
        ),
    ]
    cases = [ProbeCase(f"option_{n}", "option", c, m, timeout=60) for n, c, m in table]
    # valid: --chunk (a mosaic's tile side) need not fit --stride when there is no mosaic
    chunk = survey("--chunk", "100", "--stride", "8", "--workers", "1")
    cases.append(ProbeCase("option_chunk_without_mosaic", "option", "survey", chunk, valid=True, timeout=240))
    return cases


def _name_cases() -> list[ProbeCase]:
    def survey(c, folder):
        d = folder / "Ω-fält ñ 東京"
        write_source(d, "Ångström_α", 10.0, 0)
        write_source(d, "plain", 25.0, 1)
        return [
            "survey",
            str(d),
            "--checkpoint",
            str(c.clf),
            "--stride",
            "16",
            "--out",
            str(folder / "out"),
        ] + [
            "--workers",
            "1",
        ]

    def survey_check(folder):
        t = _results(folder / "out")
        if t is None:
            return "no results.ecsv"
        names = sorted(str(n) for n in t["name"])
        if names != ["plain", "Ångström_α"] or any(s != "ok" for s in t["status"]):
            return f"rows: {list(zip(t['name'], t['status'], t['reason'], strict=True))}"
        for m in (folder / "out" / "maps").glob("*.fits"):
            with fits.open(m) as h:
                h[0].header.tostring()  # must be a valid (ASCII) header
        return None

    def survey_out(c, folder):
        write_source(folder / "f", "a", 10.0, 0)
        return ["survey", str(folder / "f"), "--checkpoint", str(c.clf), "--stride", "16"] + [
            "--out",
            str(folder / "résultats ü"),
            "--workers",
            "1",
        ]

    def scan(c, folder):
        d = folder / "Ω-fält ñ"
        write_source(d, "Ångström", 10.0, 0)
        return ["scan", str(d), "--checkpoint", str(c.clf), "--stride", "16", "--out", str(folder / "ø out")]

    def scan_checkpoint(c, folder):
        d = folder / "modèles ü"
        d.mkdir(parents=True)
        for suffix in (".safetensors", ".json"):
            shutil.copy(c.clf.with_suffix(suffix), d / f"clé{suffix}")
        write_source(folder / "f", "a", 10.0, 0)
        ckpt = d / "clé.safetensors"
        return [
            "scan",
            str(folder / "f"),
            "--checkpoint",
            str(ckpt),
            "--stride",
            "16",
            "--out",
            str(folder / "o"),
        ]

    def build(c, folder):
        write_source(folder / "TRAIN_DATA_0", "Ångström", 10.0, 0)
        write_source(folder / "TRAIN_DATA_1", "東京", 40.0, 1)
        return ["data", "build", "--data", str(folder), "--no-augment", "--cache-dir", str(folder / "ç")]

    return [
        ProbeCase("name_non_ascii_folder", "name", "survey", survey, True, survey_check),
        ProbeCase("name_non_ascii_out", "name", "survey", survey_out, True),
        ProbeCase("name_non_ascii_folder", "name", "scan", scan, True),
        ProbeCase("name_non_ascii_checkpoint", "name", "scan", scan_checkpoint, True),
        ProbeCase("name_non_ascii_sources", "name", "data build", build, True),
    ]


def probe_cases(classes: tuple[str, ...] | None = None) -> list[ProbeCase]:
    cases = _wcs_cases() + _card_cases() + _table_cases() + _option_cases() + _name_cases()
    return [c for c in cases if classes is None or c.cls in classes]


# -- running -------------------------------------------------------------------------------------


class _Timeout(BaseException):
    pass


@dataclass
class Run:
    case: str
    command: str
    outcome: str
    rc: int | None
    seconds: float
    line: str = ""


@dataclass
class Tally:
    runs: list[Run] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(r.outcome for r in self.runs)
        return {"cases": len(self.runs), **{k: c.get(k, 0) for k in OUTCOMES}}

    def bad(self) -> list[Run]:
        return [r for r in self.runs if r.outcome not in ("clean", "correct")]

    def summary(self) -> str:
        c = self.counts()
        return (
            f"fuzz corpus: {c['cases']} runs; {c['clean']} clean errors, {c['correct']} correct results, "
            f"{c['traceback']} tracebacks, {c['hang']} hangs, {c['wrong_success']} wrong successes, "
            f"{c['wrong_refusal']} wrong refusals"
        )


def run_main(argv: list[str], timeout: float = 120.0) -> tuple[int | None, str, str, str | None]:
    """``radioviz.cli.main(argv)`` in this process with strict UTF-8 stdout/stderr (like a
    terminal); returns (exit code or None, stdout, stderr, 'traceback'/'hang'/None)."""
    from radioviz.cli import main

    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_b, encoding="utf-8", errors="strict", write_through=True)
    problem, rc = None, None

    def alarm(*_):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
    except _Timeout:
        problem = "hang"
    except BaseException:  # noqa: BLE001 - anything escaping main() is what we count
        problem = "traceback"
        err_b.write(traceback.format_exc().encode("utf-8", "backslashreplace"))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    with contextlib.suppress(Exception):
        out.flush()
        err.flush()
    return (
        rc,
        out_b.getvalue().decode("utf-8", "replace"),
        err_b.getvalue().decode("utf-8", "replace"),
        problem,
    )


def classify(rc, stdout: str, stderr: str, problem: str | None, valid: bool) -> tuple[str, str]:
    text = stdout + stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("radioviz: error: ")]
    line = errors[-1] if errors else (stderr.strip().splitlines() or [""])[-1]
    if problem == "hang":
        return "hang", line
    if problem == "traceback" or "Traceback (most recent call last)" in text:
        return "traceback", line
    if rc == 0:
        return ("correct" if valid else "wrong_success"), line
    if len(errors) == 1 or (rc == 1 and errors):  # data inspect: one error line per unreadable file
        return ("clean" if not valid else "wrong_refusal"), line
    return "traceback", line  # a non-zero exit without its one line is as bad as a traceback


class Corpus:
    """Builds the corpus under ``work`` and runs it; ``log`` gets one line per run."""

    def __init__(self, work: Path, log: Callable[[str], None] | None = None, timeout: float = 120.0):
        self.work = Path(work)
        self.tally = Tally()
        self.log = log or (lambda s: None)
        self.timeout = timeout
        self.clf = CHECKPOINTS / "classifier_L.safetensors"
        self.gen = CHECKPOINTS / "edm_mask_gleam.safetensors"
        self.seg = CHECKPOINTS / "segmenter.safetensors"

    def _run(self, case: str, command: str, argv: list[str], valid: bool, timeout: float | None = None):
        t0 = time.time()
        rc, out, err, problem = run_main(argv, timeout or self.timeout)
        outcome, line = classify(rc, out, err, problem, valid)
        run = Run(case, command, outcome, rc, round(time.time() - t0, 2), line[:300])
        self.tally.runs.append(run)
        self.log(f"{outcome:<14s} {case:<28s} {command:<22s} rc={rc} {run.seconds:6.2f}s  {line[:160]}")
        if outcome == "traceback":
            self.log("    " + "\n    ".join((err.strip().splitlines() or [""])[-6:]))
        return run

    def good_root(self) -> Path:
        """A small valid published layout (four sources)."""
        root = self.work / "good_root"
        if not root.exists():
            write_root(root, None)
        return root

    def good_mask(self) -> Path:
        p = self.work / "good_mask.npy"
        if not p.exists():
            m = np.zeros((64, 64), np.int64)
            m[20:30, 20:30] = 3
            np.save(p, m)
        return p

    def samples(self) -> Path:
        """A small, valid samples .npz ('radioviz sample' format) for compare."""
        p = self.work / "samples.npz"
        if not p.exists():
            rng = np.random.default_rng(0)
            phys = np.abs(rng.normal(0, 0.05, (4, 4, 64, 64))).astype(np.float32)
            meta = {"checkpoint": "edm_gleam.safetensors", "label": "non-halo", "kind": "edm"}
            np.savez(p, images=phys, physical=phys, meta=json.dumps(meta))
        return p

    def run_fits(self, cases: list[FitsCase] | None = None, commands: tuple[str, ...] | None = None):
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        for case in cases or fits_cases():
            if case.needs_nonroot and is_root:
                continue
            root = self.work / "fits" / case.name
            victim = write_root(root, case)
            tmp = self.work / "out" / case.name
            valid = case.valid
            plan = {
                "data inspect FILE": (["data", "inspect", str(victim)], case.inspect_ok or valid),
                "data inspect ROOT": (["data", "inspect", str(root)], case.inspect_ok or valid),
                "data build": (
                    ["data", "build", "--data", str(root), "--no-augment", "--cache-dir", str(tmp / "c")],
                    valid,
                ),
                "scan": (
                    ["scan", str(root / "TRAIN_DATA_0"), "--checkpoint", str(self.clf), "--stride", "16"]
                    + ["--out", str(tmp / "scan")],
                    valid,
                ),
                "evaluate-classifier": (
                    ["evaluate-classifier", "--checkpoint", str(self.clf), "--data", str(root)]
                    + ["--split", "TRAIN", "--json", "--cache-dir", str(tmp / "c")],
                    valid,
                ),
                "inject": (
                    ["inject", "--checkpoint", str(self.clf), "--data", str(root), "--out", str(tmp / "inj")],
                    valid,
                ),
                "sample --background": (
                    ["sample", "--checkpoint", str(self.gen), "--n", "1", "--steps", "2", "--label", "H"]
                    + [
                        "--mask",
                        str(self.good_mask()),
                        "--background",
                        str(victim),
                        "--out",
                        str(tmp / "s.npz"),
                    ],
                    valid,
                ),
                "compose": (
                    ["compose", "--masks", str(self.good_mask()), "--background", str(victim)]
                    + ["--checkpoint", str(self.gen), "--out", str(tmp / "composed.fits")],
                    valid,
                ),
                "compare": (
                    ["compare", "--real", str(root), "--generated", str(self.samples())]
                    + ["--classifier", str(self.clf), "--json", "--cache-dir", str(tmp / "c")],
                    valid,
                ),
            }
            for command, (argv, ok) in plan.items():
                if valid and case.name != "valid" and command in ("inject", "compose"):
                    continue  # the slow successes: once, on the plain valid case, is enough
                if commands is None or command in commands:
                    self._run(case.name, command, argv, ok)

    def run_non_utf8(self):
        """A valid source whose file names are not UTF-8 (Latin-1 'é')."""
        d = self.work / "nonutf8"
        d.mkdir(parents=True, exist_ok=True)
        for k, b in enumerate(BANDS):
            name = os.fsencode(str(d)) + b"/caf\xe9_Gleam" + b.encode() + b"_clipped.fits"
            with open(name, "wb") as fh:
                fh.write(good_bytes(SIZE, k))
        any_band = os.fsdecode(os.fsencode(str(d)) + b"/caf\xe9_Gleam72-103_clipped.fits")
        tmp = self.work / "out" / "nonutf8"
        self._run("non_utf8_names", "data inspect ROOT", ["data", "inspect", str(d)], True)
        self._run("non_utf8_names", "data inspect FILE", ["data", "inspect", any_band], True)
        self._run(
            "non_utf8_names",
            "scan",
            ["scan", str(d), "--checkpoint", str(self.clf), "--stride", "16", "--out", str(tmp / "scan")],
            True,
        )
        self._run(
            "non_utf8_names",
            "compose",
            ["compose", "--masks", str(self.good_mask()), "--background", any_band]
            + ["--checkpoint", str(self.gen), "--out", str(tmp / "composed.fits")],
            True,
        )

    def run_masks(self, cases: list[MaskCase] | None = None):
        bg_dir = self.work / "mask_bg"
        if not bg_dir.exists():
            write_source(bg_dir, "bg", 10.0, 0)
        bg = bg_dir / f"bg_Gleam{BANDS[0]}_clipped.fits"
        for case in cases or mask_cases():
            p = self.work / "masks" / f"{case.name}{case.suffix}"
            p.parent.mkdir(parents=True, exist_ok=True)
            case.make(p)
            tmp = self.work / "out" / "masks" / case.name
            self._run(
                f"mask:{case.name}",
                "sample --mask",
                ["sample", "--checkpoint", str(self.gen), "--n", "1", "--steps", "2", "--label", "H"]
                + ["--mask", str(p), "--background", str(bg), "--out", str(tmp / "s.npz")],
                case.valid,
            )
            if case.valid and case.name != "valid_npy":
                continue  # a successful compose (a generator run) once is enough
            self._run(
                f"mask:{case.name}",
                "compose --masks",
                ["compose", "--masks", str(p), "--background", str(bg), "--checkpoint", str(self.gen)]
                + ["--out", str(tmp / "c.fits")],
                case.valid,
            )

    def run_cards(self, cases: list[CardCase] | None = None):
        root = self.work / "cards_root"
        if not root.exists():
            write_root(root, None)
        bg = root / "TRAIN_DATA_0" / f"victim_Gleam{BANDS[0]}_clipped.fits"
        for case in cases or card_cases():
            ckpt = write_card_case(case, self.work / "cards")
            tmp = self.work / "out" / "cards" / case.name
            if case.base.startswith("classifier"):
                runs = {
                    "evaluate-classifier": [
                        "evaluate-classifier",
                        "--checkpoint",
                        str(ckpt),
                        "--data",
                        str(root),
                    ]
                    + ["--split", "TRAIN", "--json", "--cache-dir", str(tmp / "c")],
                    "scan": ["scan", str(root / "TRAIN_DATA_1"), "--checkpoint", str(ckpt), "--stride", "16"]
                    + ["--out", str(tmp / "scan")],
                    "compare --classifier": [
                        "compare",
                        "--real",
                        str(root),
                        "--generated",
                        str(self.samples()),
                    ]
                    + ["--classifier", str(ckpt), "--json", "--cache-dir", str(tmp / "c")],
                }
            else:
                runs = {
                    "sample": [
                        "sample",
                        "--checkpoint",
                        str(ckpt),
                        "--n",
                        "1",
                        "--steps",
                        "2",
                        "--label",
                        "H",
                    ]
                    + ["--mask", str(self.good_mask()), "--background", str(bg), "--out", str(tmp / "s.npz")],
                    "compose": ["compose", "--masks", str(self.good_mask()), "--background", str(bg)]
                    + ["--checkpoint", str(ckpt), "--out", str(tmp / "c.fits")],
                }
            for command, argv in runs.items():
                self._run(f"card:{case.name}", command, argv, case.valid, timeout=min(self.timeout, 60))

    def _app_run(self, case: str, command: str, call: Callable[[], tuple[bool, str]], valid: bool):
        """One app loader call: it must return (accepted, message) without raising."""
        t0 = time.time()
        try:
            ok, message = call()
            outcome = (
                ("correct" if valid else "wrong_success") if ok else ("wrong_refusal" if valid else "clean")
            )
            if not ok and (not message or "\n" in message.strip()):
                outcome = "traceback"  # refused without one line to show
        except BaseException as exc:  # noqa: BLE001 - an exception escaping a loader is what we count
            outcome, message = "traceback", f"{type(exc).__name__}: {exc}"
        run = Run(case, command, outcome, None, round(time.time() - t0, 2), message[:300])
        self.tally.runs.append(run)
        self.log(f"{outcome:<14s} {case:<28s} {command:<22s} {run.seconds:6.2f}s  {message[:160]}")

    def run_app_loaders(self):
        """The app's loaders: a Fields upload of each malformed band file (with three good bands)
        and a Generate mask upload of each mask file."""
        from radioviz.app.fields import FieldsView
        from radioviz.app.generate_view import GenerateView

        view = FieldsView(labels_path=self.work / "labels.ecsv")
        for case in fits_cases():
            folder = self.work / "upload" / case.name
            victim = write_source(folder, "up", 10.0, 0, case)
            if not victim.is_file() or (case.needs_nonroot and os.geteuid() == 0):
                continue  # only regular files can be uploaded
            files = sorted(p for p in folder.iterdir() if p.is_file())
            try:
                blobs = [p.read_bytes() for p in files]
            except OSError:
                continue

            def upload(files=files, blobs=blobs):
                return view.upload([p.name for p in files], blobs), view.message

            self._app_run(case.name, "app: Fields upload", upload, case.valid)
        gen = GenerateView()
        for case in mask_cases():
            p = self.work / "masks_app" / f"{case.name}{case.suffix}"
            p.parent.mkdir(parents=True, exist_ok=True)
            case.make(p)
            if not p.is_file():
                continue

            def load(p=p):
                ok = gen.load_mask_file(p.name, p.read_bytes())
                return ok, ("" if ok else gen.alert.object)

            self._app_run(f"mask:{case.name}", "app: mask upload", load, case.valid)

    def run_probe(self, cases: list[ProbeCase] | None = None) -> Tally:
        """The probe classes (values checked where they enter): WCS, cards, tables, options, names."""
        for k, case in enumerate(cases or probe_cases()):
            folder = self.work / "probe" / f"{k:03d}_{case.name}"
            folder.mkdir(parents=True, exist_ok=True)
            argv = case.make(self, folder)
            run = self._run(f"{case.cls}:{case.name}", case.command, argv, case.valid, case.timeout)
            if run.outcome == "correct" and case.check is not None:
                try:
                    problem = case.check(folder)
                except Exception as exc:  # noqa: BLE001 - an unreadable result is a wrong one
                    problem = f"{type(exc).__name__}: {exc}"
                if problem:
                    run.outcome, run.line = "wrong_success", f"exit 0 but {problem}"[:300]
                    self.log(f"    -> wrong_success: {problem[:200]}")
        return self.tally

    def run_all(self) -> Tally:
        self.run_fits()
        self.run_non_utf8()
        self.run_masks()
        self.run_cards()
        self.run_app_loaders()
        return self.tally


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True, help="empty folder for the corpus")
    p.add_argument("--json", type=Path, help="write every run here")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument(
        "--probe",
        nargs="*",
        metavar="CLASS",
        help="run only the probe classes (wcs card table option name; none named: all of them)",
    )
    p.add_argument(
        "--skip",
        nargs="+",
        default=[],
        metavar="CASE",
        help="probe cases to leave out (e.g. option_n_100000 on code that does not refuse it: it "
        "allocates until the machine runs out of memory)",
    )
    a = p.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    a.work.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(a.work, log=lambda s: print(s, flush=True), timeout=a.timeout)
    t0 = time.time()
    if a.probe is not None:
        tally = corpus.run_probe([c for c in probe_cases(tuple(a.probe) or None) if c.name not in a.skip])
    else:
        tally = corpus.run_all()
    print(tally.summary() + f" ({time.time() - t0:.0f} s)")
    if a.json:
        a.json.write_text(
            json.dumps({"counts": tally.counts(), "runs": [r.__dict__ for r in tally.runs]}, indent=1)
        )
    return 0 if not tally.bad() else 1


if __name__ == "__main__":
    sys.exit(main())
