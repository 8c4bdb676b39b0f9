"""What a survey is cut into, and the functions the workers run.

* a **field** (a small 4-band source): its score map and candidates;
* a **position** from a catalogue: a cut-out around it from a local field or mosaic (or from
  SkyView, cached on disk), its score map, the cluster's score and candidates;
* a **mosaic** is cut into tiles by :mod:`.mosaic` (one task per tile), stitched by the driver.

Task functions return plain data (rows, candidate dicts, the score map array and its WCS
header) and never write: the driver records finished tasks (:mod:`.store`), so a task rerun
after a worker died cannot write twice.  Bad input becomes a ``failed`` row with its one-line
reason; the run goes on.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..errors import InputError
from ..io.bands import GLEAM_BANDS
from ..io.layout import SourceFiles, SourceStack, read_stack
from ..scan.scoremap import ScoreMap, find_candidates
from ..scan.scorer import load_scorer


@dataclass
class Task:
    key: str
    kind: str  # "field" | "position"
    name: str
    source: SourceFiles | None = None  # field: the source; position: the local image covering it
    ra: float = float("nan")
    dec: float = float("nan")
    mosaic: bool = False  # position: the covering source is a mosaic (cut out lazily)
    extra: dict = field(default_factory=dict)


@dataclass
class TaskConfig:
    """Settings every task shares (small, pickled once per task)."""

    checkpoint: str
    stride: int = 4
    threshold: float = 0.95
    cutout: int = 128  # position mode: cut-out side in each band's own pixels
    radius_arcmin: float = 5.0  # position mode: the cluster score is the peak within this radius
    skyview_cache: str | None = None  # position mode: fetch uncovered positions from SkyView into here
    device: str = "cpu"  # where each worker runs the model (auto, cpu or cuda)


def run_task(task: Task, cfg: TaskConfig) -> dict:
    """Score one field or position; always returns a row (``failed`` with the reason on bad input)."""
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    row = {"kind": task.kind, "name": task.name, "ra": task.ra, "dec": task.dec, "status": "ok", "reason": ""}
    try:
        scorer = load_scorer(cfg.checkpoint, cfg.device)
        stack, where = _stack_for(task, cfg)
        row["source"] = where
        smap = scorer.field_map(stack, cfg.stride)
    except InputError as exc:
        row.update(status="failed", reason=str(exc).splitlines()[0], seconds=time.perf_counter() - t0)
        return {"row": row, "candidates": [], "map": None}
    cands = find_candidates(smap, cfg.threshold)
    row["n_candidates"] = len(cands)
    row["max_score"] = float(np.nanmax(smap.scores))
    if task.kind == "field":
        centre = stack.centre()
        row["ra"], row["dec"] = float(centre.ra.deg), float(centre.dec.deg)
        row["folder"] = str(stack.images[-1].path.parent) if stack.images[-1].path else ""
        # a field is a cut-out centred on its cluster: its score there (walk 16: the column was empty)
        row["cluster_score"], row["centre_score"] = _scores_near(
            smap, row["ra"], row["dec"], cfg.radius_arcmin
        )
    else:
        row["cluster_score"], row["centre_score"] = _scores_near(smap, task.ra, task.dec, cfg.radius_arcmin)
    row["seconds"] = time.perf_counter() - t0
    return {
        "row": row,
        "candidates": [{**c, "name": task.name, "n_map_pixels": c.pop("n_pixels")} for c in cands],
        "map": (smap.scores, smap.wcs.to_header_string()),
    }


def _stack_for(task: Task, cfg: TaskConfig) -> tuple[SourceStack, str]:
    if task.kind == "field":
        return read_stack(task.source), task.source.name
    pos = SkyCoord(task.ra * u.deg, task.dec * u.deg)
    if task.source is not None:
        stack = mosaic_cutout(task.source, pos, cfg.cutout) if task.mosaic else _field_cutout(task, pos, cfg)
        return stack, task.source.name
    if cfg.skyview_cache:
        return _skyview_stack(task, pos, cfg), "SkyView"
    raise InputError(
        None,
        f"{task.name}: no local field or mosaic covers RA {task.ra:.4f}, Dec {task.dec:+.4f} "
        "(give --images, or --skyview when online)",
    )


def _field_cutout(task: Task, pos: SkyCoord, cfg: TaskConfig) -> SourceStack:
    from ..data.preprocess import cutout

    stack = read_stack(task.source)
    return SourceStack(task.name, [cutout(im, cfg.cutout, pos) for im in stack.images])


def mosaic_cutout(source: SourceFiles, pos: SkyCoord, size: int) -> SourceStack:
    """A size×size cut-out of each band of a mosaic, read through a memory map (only that part)."""
    from astropy.io import fits
    from astropy.nddata import Cutout2D
    from astropy.wcs import WCS

    from ..io.fits import BandImage

    images = []
    for band in GLEAM_BANDS:
        path = source.files.get(band)
        if path is None:
            raise InputError(
                source.unbanded[0] if source.unbanded else None, f"mosaic lacks band {band.name}"
            )
        with fits.open(path, memmap=True) as hdul:
            hdu = next(h for h in hdul if h.is_image and h.header.get("NAXIS", 0) >= 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wcs = WCS(hdu.header).celestial
            cut = Cutout2D(hdu.data, pos, (size, size), wcs=wcs, mode="partial", fill_value=0.0)
            images.append(BandImage(np.asarray(cut.data, np.float32), cut.wcs, band, Path(path)))
    return SourceStack(source.name, images)


def _skyview_stack(task: Task, pos: SkyCoord, cfg: TaskConfig) -> SourceStack:
    """GLEAM from SkyView, cached: a position fetched once is read from disk afterwards."""
    from ..io.layout import discover
    from ..io.skyview import fetch_gleam_field, resolve_target

    target = f"{task.ra:.5f}, {task.dec:.5f}"
    name, _ = resolve_target(target)
    cached = Path(cfg.skyview_cache) / name
    if not (cached.is_dir() and len(list(cached.glob("*.fits"))) >= 4):
        fetch_gleam_field(target, cfg.skyview_cache)
    stack = read_stack(discover(cached)[0])
    return SourceStack(task.name, stack.images)


def _scores_near(smap: ScoreMap, ra: float, dec: float, radius_arcmin: float) -> tuple[float, float]:
    """(peak score within the radius, score of the map pixel nearest the position)."""
    ny, nx = smap.scores.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    sky = smap.wcs.pixel_to_world(xx.ravel(), yy.ravel())
    sep = sky.separation(SkyCoord(ra * u.deg, dec * u.deg)).arcmin.reshape(ny, nx)
    near = sep <= radius_arcmin
    peak = float(np.nanmax(np.where(near, smap.scores, np.nan))) if near.any() else float("nan")
    j, i = np.unravel_index(np.argmin(sep), sep.shape)
    return peak, float(smap.scores[j, i])


# -- planning -----------------------------------------------------------------------------------


def field_tasks(sources: list[SourceFiles]) -> list[Task]:
    return [Task(f"field:{s.split or ''}/{s.name}", "field", s.name, s) for s in sources]


def position_tasks(table: Table, images: list[SourceFiles], mosaics: set[str]) -> list[Task]:
    """One task per row; each names the first local image whose reference band covers it.  A
    table from :func:`radioviz.io.catalogs.read_catalog` numbers its rows as in the file (its bad
    rows left out), so a task's key stays the same whichever rows are bad."""
    footprints = [(s, _footprint(s)) for s in images]
    tasks = []
    for k, row in enumerate(table):
        i = int(row["row"]) if "row" in table.colnames else k
        ra, dec = float(row["ra"]), float(row["dec"])
        name = str(row["name"]) if "name" in table.colnames else f"position_{i}"
        cover = next((s for s, fp in footprints if fp is not None and fp(ra, dec)), None)
        tasks.append(
            Task(
                f"position:{i}:{name}",
                "position",
                name,
                cover,
                ra,
                dec,
                bool(cover and cover.name in mosaics),
            )
        )
    return tasks


def _footprint(source: SourceFiles):
    """A test "is (ra, dec) inside this source's reference band", from its header only."""
    from .mosaic import read_header_plane, ref_shape

    path = source.files.get(GLEAM_BANDS[-1]) or next(iter(source.files.values()), None)
    if path is None:
        return None
    try:
        wcs, (ny, nx) = read_header_plane(path), ref_shape(source)
    except (OSError, InputError, ValueError):
        return None

    def inside(ra: float, dec: float) -> bool:
        x, y = wcs.world_to_pixel(SkyCoord(ra * u.deg, dec * u.deg))
        return bool(np.isfinite(x) and 0 <= x <= nx - 1 and 0 <= y <= ny - 1)

    return inside
