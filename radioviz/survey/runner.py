"""Run a survey as Dask tasks: plan, skip what is done, submit the rest, record as they finish.

By default an embedded ``dask.distributed.LocalCluster`` sized to the machine (one thread per
worker process: the models run single-threaded); ``scheduler="tcp://host:8786"`` runs the same
tasks on an existing cluster (the workers must be able to read the input files; only this
process writes).  A worker that dies has its tasks rerun by the scheduler; results are recorded
here, keyed by task, as they complete (``as_completed``), so nothing is written twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from .. import validate as V
from ..errors import InputError
from ..io.bands import GLEAM_BANDS
from ..io.catalogs import MATCH_RADIUS_ARCMIN, builtin_clusters, crossmatch, matched_names, read_catalog
from ..io.layout import SourceFiles, discover
from ..scan.scoremap import ScoreMap, find_candidates, map_wcs
from ..scan.scorer import load_scorer
from ..validate import check_number, fits_text
from .mosaic import Mosaic, is_mosaic, mosaic_scores, open_mosaic
from .store import ResultStore, safe_name
from .tasks import TaskConfig, field_tasks, position_tasks, run_task

TABLE_SUFFIXES = (".ecsv", ".csv", ".xml", ".vot", ".votable", ".dat", ".txt")


@dataclass
class SurveySummary:
    out: str
    total: int = 0
    skipped: int = 0  # already done by an earlier run
    ok: int = 0
    failed: int = 0
    errors: int = 0
    results: str = ""
    candidates: str = ""
    dashboard: str = ""
    seconds: float = 0.0
    threshold: float = float("nan")  # the candidate threshold used (the model's own unless given)


def read_targets(target: str | Path) -> Table | None:
    """A positions table if ``target`` names one ('builtin', a catalogue file), else None."""
    if str(target) == "builtin":
        return builtin_clusters()
    path = Path(target)
    if path.is_file() and (path.suffix.lower() in TABLE_SUFFIXES or _is_fits_table(path)):
        return read_catalog(path)
    return None


def _is_fits_table(path: Path) -> bool:
    if path.suffix.lower() != ".fits":
        return False
    try:
        with fits.open(path, memmap=True) as hdul:
            return not any(h.is_image and h.header.get("NAXIS", 0) >= 2 for h in hdul)
    except OSError:
        return False


def quiet_cluster_logs() -> None:
    """Keep the embedded cluster's lifecycle chatter (workers registered, retired, and a closing
    stream reported with a traceback at INFO when the cluster shuts down) out of the server's log,
    where an operator would read it as a failure; warnings and errors still show."""
    log = logging.getLogger("distributed")
    if log.getEffectiveLevel() < logging.WARNING:
        log.setLevel(logging.WARNING)


def start_client(scheduler: str | None = None, n_workers: int | None = None):
    """(client, cluster or None): a client on ``scheduler``, or on a new LocalCluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as exc:
            raise InputError(None, f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    quiet_cluster_logs()
    cluster = LocalCluster(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=40,
    )
    return Client(cluster), cluster


def dashboard_link(client) -> str:
    """The Dask dashboard's address, or a line saying why there is none."""
    try:
        import bokeh  # noqa: F401
        import distributed.dashboard  # noqa: F401
    except ImportError:
        return "(no Dask dashboard: it needs bokeh >= 3.1; pip install bokeh)"
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - a remote scheduler without a dashboard
        return "(the scheduler reports no dashboard)"


def run_survey(
    target: str | Path,
    checkpoint: str | Path,
    out: str | Path,
    *,
    images: list[str | Path] | None = None,
    stride: int = 4,
    threshold: float | None = None,
    chunk: int = 1024,
    cutout: int = 128,
    radius_arcmin: float = 5.0,
    skyview: bool = False,
    match_catalog: Table | None = None,
    match_radius_arcmin: float = MATCH_RADIUS_ARCMIN,
    limit: int | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    client=None,
    progress: Callable[[int, int, dict], None] | None = None,
    on_start: Callable[[SurveySummary], None] | None = None,
    device: str = "cpu",
) -> SurveySummary:
    """Survey ``target`` (a folder of fields, mosaics, a cube, or a positions table) into ``out``.

    ``threshold`` defaults to the model's own (:attr:`Scorer.threshold`: a detector's calibrated
    ``default_threshold``, else 0.95).  Every setting is checked first (the command line's rules,
    :mod:`radioviz.validate`).  A positions table's bad rows (RA/Dec not numbers in range) become
    ``failed`` rows naming the row; the good rows are surveyed.

    ``progress(done, total, row)`` is called in this process after each finished task or mosaic
    tile (``total`` grows when a mosaic's tiles are planned); raising
    from it (or Ctrl-C) stops the run with everything finished so far saved.  Each task and each
    mosaic tile is committed (file, then marker, by rename) as it finishes, so a run killed at any
    moment loses only the tasks and tiles in flight; the same call resumes it.

    ``device`` (auto, cpu or cuda) is where every worker runs the model; it is not part of the
    survey's settings, so a run started on one device resumes on another.
    """
    t_start = time.perf_counter()
    out = Path(out)
    _check_settings(stride, threshold, chunk, cutout, radius_arcmin, limit, n_workers)
    scorer = load_scorer(checkpoint, device)  # a bad checkpoint (or device) fails here, before any cluster
    threshold = float(scorer.threshold if threshold is None else threshold)
    checkpoint = str(Path(checkpoint).resolve())
    table = read_targets(target)
    summary = SurveySummary(str(out), threshold=threshold)
    bad_rows: list[dict] = []
    if table is not None:
        bad_rows = list(table.meta.get("skipped") or [])
        if limit:
            if "row" in table.colnames:  # the first N rows of the file, bad ones included
                table = table[np.asarray(table["row"]) < limit]
                bad_rows = [b for b in bad_rows if b["row"] < limit]
            else:
                table = table[:limit]
        local = [s for p in images or [] for s in discover(p)]
        mosaic_names = {s.name for s in local if is_mosaic(s)}
        tasks, mosaics = position_tasks(table, local, mosaic_names), []
        match_catalog = table if match_catalog is None else match_catalog
    else:
        sources = discover(target)
        if not sources:
            raise InputError(target, "no FITS fields, mosaics or cubes found here")
        mosaics = [s for s in sources if is_mosaic(s)]
        names = {s.name for s in mosaics}
        tasks = field_tasks([s for s in sources if s.name not in names][:limit])
    cfg = TaskConfig(
        checkpoint,
        stride,
        threshold,
        cutout,
        radius_arcmin,
        str(out / "skyview_cache") if skyview else None,
        device,
    )
    store = ResultStore(out)
    store.check_config(
        {
            "target": str(target),
            "checkpoint": checkpoint,
            "kind": scorer.kind,
            "stride": stride,
            "threshold": threshold,
            "chunk": chunk,
            "cutout": cutout,
            "images": [str(p) for p in images or []],
        }
    )
    reported = []  # a table's bad rows: reported (failed, with the row's problem), not scored
    for b in bad_rows:
        key = f"position:{b['row']}:{b['name']}"
        if not store.done(key):
            row = {"kind": "position", "name": b["name"], "status": "failed", "reason": b["problem"]}
            store.record(key, row)
            reported.append(row)
    summary.failed += len(reported)
    pending = [t for t in tasks if not store.done(t.key)]
    mosaic_keys = [f"mosaic:{m.name}" for m in mosaics]
    summary.total = len(tasks) + len(mosaics) + len(bad_rows)
    summary.skipped = (
        summary.total - len(pending) - sum(not store.done(k) for k in mosaic_keys) - len(reported)
    )

    own = None  # (client, cluster or None) when this run made them
    if client is None and (pending or any(not store.done(k) for k in mosaic_keys)):
        client, cluster = start_client(scheduler, n_workers)
        own = (client, cluster)
    if client is not None:
        summary.dashboard = dashboard_link(client)
    if on_start:
        on_start(summary)
    units = {"done": summary.skipped, "total": summary.total}

    def tick(row: dict) -> None:
        units["done"] += 1
        if progress:
            progress(units["done"], units["total"], row)

    def finished(key: str, result: dict):
        row = result["row"]
        if result.get("map") is not None:
            scores, header = result["map"]
            row["scoremap"] = str(_write_map(store, key, scores, WCS(fits.Header.fromstring(header)), stride))
        cands = _matched(result["candidates"], match_catalog, match_radius_arcmin)
        store.record(key, row, cands)
        setattr(summary, _bucket(row["status"]), getattr(summary, _bucket(row["status"])) + 1)
        tick(row)

    try:
        for row in reported:
            tick(row)
        if client is not None:
            _run(
                client,
                pending,
                cfg,
                mosaics,
                store,
                stride,
                threshold,
                chunk,
                checkpoint,
                scorer,
                finished,
                units,
                tick,
            )
    finally:
        summary.results, summary.candidates = map(str, store.write_catalogues())
        summary.seconds = time.perf_counter() - t_start
        if own is not None:
            own[0].close()
            if own[1] is not None:
                own[1].close()
    return summary


def _check_settings(stride, threshold, chunk, cutout, radius_arcmin, limit, n_workers) -> None:
    """The survey's settings, by the command line's rules (one place: :mod:`radioviz.validate`)."""
    check_number(None, "--stride", stride, 1, V.MAX_STRIDE, integer=True)
    if threshold is not None:
        check_number(None, "--threshold", threshold, 0.0, 1.0)
    check_number(None, "--chunk", chunk, *V.CHUNK_RANGE, integer=True)  # how it fits a mosaic: _run
    check_number(None, "--cutout", cutout, *V.SIDE_RANGE, integer=True)
    check_number(None, "--radius", radius_arcmin, 0.0, V.MAX_RADIUS_ARCMIN, lo_open=True)
    if limit is not None:
        check_number(None, "--limit", limit, 1, None, integer=True)
    if n_workers is not None:
        check_number(None, "--workers", n_workers, 1, V.max_workers(), integer=True)


def _bucket(status: str) -> str:
    return {"ok": "ok", "failed": "failed"}.get(status, "errors")


def _run(
    client, pending, cfg, mosaics, store, stride, threshold, chunk, checkpoint, scorer, finished, units, tick
):
    from dask.distributed import as_completed

    token = f"{os.getpid()}-{time.time_ns()}"
    what: dict = {}
    futures = []
    for t in pending:
        fut = client.submit(run_task, t, cfg, key=f"{safe_name(t.key)}-{token}", retries=2)
        what[fut.key] = ("task", t.key)
        futures.append(fut)
    opened: dict[str, tuple[Mosaic, dict]] = {}
    for src in mosaics:
        key = f"mosaic:{src.name}"
        if store.done(key):
            continue
        try:
            m = open_mosaic(src, scorer.nsigma)
        except InputError as exc:
            finished(key, {"row": _mosaic_row(src, "failed", str(exc).splitlines()[0]), "candidates": []})
            continue
        try:
            scores = mosaic_scores(
                m.array(chunk), checkpoint, stride, m.thresholds, chunk, m.pixel_deg, cfg.device
            )
        except ValueError as exc:  # --chunk does not fit this model's tiles (its pooling grid, overlap)
            raise InputError(src.files.get(GLEAM_BANDS[-1]), f"--chunk {chunk} does not fit: {exc}") from None
        tiles = {f"tile:{m.name}:{i}_{j}": scores.blocks[i, j] for i, j in np.ndindex(scores.numblocks)}
        opened[key] = (m, {"tiles": tiles, "grid": scores.numblocks, "src": src})
        todo = [(k, b) for k, b in tiles.items() if not store.done(k)]
        units["total"] += len(todo)
        for (k, _), fut in zip(todo, client.compute([b for _, b in todo], retries=2), strict=False):
            what[fut.key] = ("tile", k, key)
            futures.append(fut)
        if not todo:
            _stitch(store, key, opened[key], stride, threshold, finished)
    closed: set[str] = set()

    def handle(fut) -> None:
        kind = what[fut.key]
        try:
            result = fut.result()
            err = None
        except Exception as exc:  # noqa: BLE001 - a lost task is recorded, the run goes on
            result, err = None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if kind[0] == "task":
            if err:
                result = {
                    "row": {"kind": "?", "name": kind[1], "status": "error", "reason": err},
                    "candidates": [],
                }
            finished(kind[1], result)
            return
        _, tile_key, mkey = kind
        if err is None:
            store.save_tile(tile_key, result)
        tick(
            {
                "kind": "tile",
                "name": tile_key,
                "status": "ok" if err is None else "error",
                "reason": err or "",
            }
        )
        m, info = opened[mkey]
        if mkey in closed:
            return
        if all(store.done(k) for k in info["tiles"]):
            closed.add(mkey)
            _stitch(store, mkey, opened[mkey], stride, threshold, finished)
        elif err is not None:  # the mosaic stays unfinished: its lost tiles are retried on resume
            closed.add(mkey)
            finished(
                mkey, {"row": _mosaic_row(info["src"], "error", f"tile {tile_key}: {err}"), "candidates": []}
            )

    try:
        for fut in as_completed(futures):
            handle(fut)
    except BaseException:  # interrupted: stop the rest, keep what finished
        client.cancel(futures)
        raise


def _mosaic_row(src: SourceFiles, status: str, reason: str) -> dict:
    return {"kind": "mosaic", "name": src.name, "status": status, "reason": reason, "source": src.name}


def _stitch(store: ResultStore, key: str, opened, stride: int, threshold: float, finished) -> None:
    """All tiles of a mosaic are saved: one score map, its candidates, the mosaic's row."""
    m, info = opened
    ni, nj = info["grid"]
    full = np.block([[store.load_tile(f"tile:{m.name}:{i}_{j}") for j in range(nj)] for i in range(ni)])
    smap = ScoreMap(full, map_wcs(m.wcs, stride), stride, m.shape)
    cands = find_candidates(smap, threshold)
    centre = m.wcs.pixel_to_world((m.shape[1] - 1) / 2, (m.shape[0] - 1) / 2)
    row = {
        **_mosaic_row(info["src"], "ok", ""),
        "ra": float(centre.ra.deg),
        "dec": float(centre.dec.deg),
        "n_candidates": len(cands),
        "max_score": float(np.nanmax(full)),
        "folder": str(Path(m.planes[-1].path).parent),
    }
    finished(
        key,
        {
            "row": row,
            "candidates": [{**c, "name": m.name, "n_map_pixels": c.pop("n_pixels")} for c in cands],
            "map": (full, smap.wcs.to_header_string()),
        },
    )


def _write_map(store: ResultStore, key: str, scores: np.ndarray, wcs: WCS, stride: int) -> Path:
    path = store.maps_dir / f"{safe_name(key)}_scoremap.fits"
    header = wcs.to_header()
    header["BUNIT"] = "halo score"
    header["STRIDE"] = (stride, "reference-band pixels between window centres")
    header["RVTASK"] = fits_text(key)  # FITS holds ASCII: escaped here, UTF-8 in the task's marker
    tmp = path.with_name(f".{path.name}.tmp")
    fits.PrimaryHDU(np.asarray(scores, np.float32), header).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    return path


def _matched(cands: list[dict], catalog: Table | None, radius: float) -> list[dict]:
    if not cands or catalog is None or len(catalog) == 0:
        return cands
    m = crossmatch(np.array([c["ra"] for c in cands]), np.array([c["dec"] for c in cands]), catalog, radius)
    return [
        {**c, "nearest_cluster": str(n), "separation_arcmin": float(s)}
        for c, n, s in zip(cands, matched_names(m), m["separation_arcmin"], strict=False)
    ]


def summary_dict(s: SurveySummary) -> dict:
    return asdict(s)
