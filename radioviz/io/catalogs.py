"""Cluster catalogues and cross-matching candidates against them.

* PSZ2 (Planck 2015) from its CDS fixed-width file and ReadMe (``read_psz2``);
* any VOTable / ECSV / CSV / FITS table with RA/Dec columns (``read_catalog``);
* the clusters named in Mishra et al. Tables 1, 6, 7 and 8 (``builtin_clusters``);
* optionally PSZ2 from VizieR through astroquery, for users with a network (``fetch_psz2``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..errors import InputError
from ..validate import position_problem

# (name, RA deg, Dec deg, type, source table) — positions as published in Mishra et al.
_MISHRA_CLUSTERS = [
    ("Abell 0141", 16.405, -24.681, "H", "T1"),
    ("Abell 3404", 101.373, -54.227, "H", "T1"),
    ("Abell S1121", 351.299, -41.204, "H", "T1"),
    ("Abell S1063", 342.189, -44.528, "H", "T1"),
    ("MACS J2243.3-0935", 340.838, -9.595, "H", "T1"),
    ("Abell 2163", 243.942, -6.147, "H", "T1"),
    ("Abell 2254", 259.441, 19.673, "H", "T1"),
    ("Abell 2744", 3.584, -30.388, "H", "T1"),
    ("PLCK G287.0+32.9", 177.705, -28.077, "H", "T1"),
    ("RXC J1314.4-2515", 198.606, -25.262, "H", "T1"),
    ("Abell 2680", 359.117, -21.038, "cH", "T1"),
    ("Abell 2693", 0.537, -19.555, "cH", "T1"),
    ("Abell 2811", 10.537, -28.536, "cH", "T1"),
    ("Abell 3186", 58.086, -74.003, "cH", "T1"),
    ("Abell 3399", 99.326, -48.484, "cH", "T1"),
    ("PSZ1 G287.95-32.98", 74.849, -75.802, "cH", "T1"),
    ("Abell 2496", 342.741, -16.401, "cH", "T1"),
    ("Abell 2721", 1.509, -34.725, "cH", "T1"),
    ("Abell S0084", 12.347, -29.526, "cH", "T1"),
    ("GMBCG J357.91841-08.979", 357.918, -8.979, "cH", "T1"),
    ("Abell 0122", 14.354, -26.279, "cmH", "T1"),
    ("MCXC J0145.2-6033", 26.299, -60.563, "cmH", "T1"),
    ("RXC J0137.2-0912", 24.306, -9.187, "mH", "T1"),
    ("Abell 0370", 39.960, -1.586, "H", "T6"),
    ("Abell 2667", 357.920, -26.084, "H", "T6"),
    ("Abell 0209", 22.990, -13.576, "H", "T6"),
    ("Abell 0521", 73.536, -10.244, "H", "T6"),
    ("Abell 0545", 83.102, -11.543, "H", "T6"),
    ("Abell 3558", 201.978, -31.492, "H", "T6"),
    ("Abell 3562", 202.783, -31.673, "H", "T6"),
    ("J0516.6-5430", 79.158, -54.514, "H", "T6"),
    ("J0638.7-5358", 99.694, -53.972, "H", "T6"),
    ("PSZ2 G141.05-32.61", 30.071, 27.806, "H", "T7"),
    ("PSZ2 G031.93+78.71", 205.461, 26.353, "H", "T7"),
    ("PSZ2 G077.90-26.63", 330.220, 20.974, "H", "T7"),
    ("PSZ2 G116.50-44.47", 8.034, 18.107, "H", "T7"),
    ("PSZ2 G123.00-35.52", 12.911, 27.333, "H", "T7"),
    ("CXOC J100042.3+014534", 150.177, 1.760, "candidate", "T8"),
    ("CXOC J100030.4+023735", 150.127, 2.627, "candidate", "T8"),
    ("CXOC J100024.9+023956", 150.104, 2.666, "candidate", "T8"),
    ("CXOC J100022.7+023801", 150.095, 2.634, "candidate", "T8"),
    ("CXOC J100024.6+023748", 150.103, 2.630, "candidate", "T8"),
    ("CXOC J100043.1+014608", 150.180, 1.769, "candidate", "T8"),
    ("CXOC J100031.1+023729", 150.130, 2.625, "candidate", "T8"),
    ("CXOC J100045.5+014627", 150.190, 1.774, "candidate", "T8"),
    ("CXOC J095800.9+015757", 149.504, 1.966, "candidate", "T8"),
    ("CXOC J100045.9+014819", 150.191, 1.805, "candidate", "T8"),
    ("CXOC J100031.2+023642", 150.130, 2.612, "candidate", "T8"),
]

_RA_NAMES = ("ra", "raj2000", "radeg", "ra_deg", "_raj2000", "ra_icrs")
_DEC_NAMES = ("dec", "dej2000", "decj2000", "dedeg", "dec_deg", "_dej2000", "de_icrs", "dec_icrs")
_NAME_NAMES = ("name", "cluster", "id", "source", "object")


def builtin_clusters() -> Table:
    """Clusters of Mishra et al. Tables 1 (training/test halos), 6 (MGCLS), 7 (PSZ2), 8 (XMM-Chandra)."""
    names, ra, dec, kind, table = zip(*_MISHRA_CLUSTERS, strict=True)
    return Table(
        {
            "name": names,
            "ra": np.array(ra) * u.deg,
            "dec": np.array(dec) * u.deg,
            "type": kind,
            "table": table,
        },
        meta={"catalog": "Mishra et al. 2024, Tables 1, 6, 7, 8"},
    )


def read_psz2(path: str | Path, readme: str | Path | None = None) -> Table:
    """PSZ2 from the CDS file (any file name) and its ReadMe; columns ``name``, ``ra``, ``dec``, ``z``."""
    from astropy.io.ascii import cds

    path = Path(path)
    readme = Path(readme) if readme else path.with_name("ReadMe.txt")
    if not path.exists() or not readme.exists():
        raise InputError(
            path if not path.exists() else readme, "PSZ2 catalogue file or its CDS ReadMe is missing"
        )
    reader = cds.Cds(readme=str(readme))
    reader.data.table_name = "psz2.dat"  # the ReadMe describes psz2.dat; the file may be renamed
    try:
        t = reader.read(path.read_text().splitlines())
    except Exception as exc:  # astropy raises several types for a malformed CDS table
        raise InputError(path, f"cannot read as the CDS PSZ2 table ({str(exc).splitlines()[0]})") from None
    out = Table(
        {"name": t["Name"], "ra": t["RAdeg"], "dec": t["DEdeg"], "z": t["z"], "snr": t["SNR"]},
        meta={"catalog": "PSZ2 (Planck 2015)"},
    )
    out["ra"].unit = out["dec"].unit = u.deg
    return out


def _find(colnames: list[str], options: tuple[str, ...]) -> str | None:
    low = {c.lower(): c for c in colnames}
    return next((low[o] for o in options if o in low), None)


def read_catalog(path: str | Path) -> Table:
    """Any table astropy reads (VOTable, ECSV, CSV, FITS) with RA/Dec columns, or the PSZ2 CDS file.

    Columns ``name``, ``ra``, ``dec`` (degrees) and ``row`` (the row's index in the file).  A row
    whose RA or Dec is not a number in range (:func:`radioviz.validate.position_problem`) is left
    out and listed in ``meta["skipped"]`` (``row``, ``name``, ``problem``): one bad row never
    costs the rest of the table."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "catalogue file does not exist")
    if path.name.startswith("psz2") and path.suffix in (".txt", ".dat"):
        return read_psz2(path)
    fmt = {
        ".csv": "ascii.csv",
        ".ecsv": "ascii.ecsv",
        ".xml": "votable",
        ".vot": "votable",
        ".fits": "fits",
    }.get(path.suffix.lower())
    try:
        t = Table.read(path, format=fmt) if fmt else Table.read(path)
    except Exception as exc:
        raise InputError(path, f"cannot read as a table ({str(exc).splitlines()[0]})") from None
    ra, dec = _find(t.colnames, _RA_NAMES), _find(t.colnames, _DEC_NAMES)
    if ra is None or dec is None:
        raise InputError(path, f"no RA/Dec columns (have: {', '.join(t.colnames[:12])})")
    name = _find(t.colnames, _NAME_NAMES)
    names = [str(x) for x in t[name]] if name else [f"{path.stem}_{i}" for i in range(len(t))]
    rows, ras, decs, skipped = [], [], [], []
    for i in range(len(t)):
        r, d, problem = position_problem(t[ra][i], t[dec][i])
        if problem:  # a bad row is reported and left out; the rest of the table is used
            skipped.append({"row": i, "name": names[i], "problem": f"row {i + 1}: {problem}"})
            continue
        rows.append(i)
        ras.append(r)
        decs.append(d)
    out = Table(
        {
            "name": np.array([names[i] for i in rows], dtype=str),
            "ra": np.asarray(ras, float) * u.deg,
            "dec": np.asarray(decs, float) * u.deg,
            "row": np.asarray(rows, int),
        },
        meta={"catalog": path.name, "skipped": skipped},
    )
    return out


def fetch_psz2(timeout: float = 30.0) -> Table:
    """PSZ2 through astroquery VizieR (J/A+A/594/A27); a one-line error when offline or not installed."""
    try:
        from astroquery.vizier import Vizier
    except ImportError:
        raise InputError(
            None,
            "fetching PSZ2 needs astroquery (pip install astroquery); or give the CDS file with --catalog",
        ) from None
    try:
        v = Vizier(columns=["Name", "RAdeg", "DEdeg", "z", "SNR"], row_limit=-1, timeout=timeout)
        t = v.get_catalogs("J/A+A/594/A27/psz2")[0]
    except Exception as exc:
        raise InputError(
            None,
            "cannot reach VizieR for PSZ2 (offline?): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
        ) from None
    return Table(
        {
            "name": t["Name"],
            "ra": np.asarray(t["RAdeg"]) * u.deg,
            "dec": np.asarray(t["DEdeg"]) * u.deg,
            "z": t["z"],
            "snr": t["SNR"],
        },
        meta={"catalog": "PSZ2 via VizieR"},
    )


#: A candidate is named after a catalogue cluster only within this separation (arcmin): the
#: CV's "halo at its field's peak" radius; a halo's extent at GLEAM's 2–5′ beam.
MATCH_RADIUS_ARCMIN = 10.0


def crossmatch(
    ra: np.ndarray, dec: np.ndarray, catalog: Table, radius_arcmin: float = MATCH_RADIUS_ARCMIN
) -> Table:
    """Nearest catalogue entry for each position (``nearest``, however far), its separation, and
    whether it lies within the radius (``matched``); :func:`matched_names` blanks the far ones."""
    ra, dec = np.atleast_1d(ra), np.atleast_1d(dec)
    out = Table(
        {
            "nearest": np.full(len(ra), "", dtype=object),
            "separation_arcmin": np.full(len(ra), np.nan),
            "matched": np.zeros(len(ra), bool),
        }
    )
    if len(ra) == 0 or len(catalog) == 0:
        return out
    pos = SkyCoord(ra * u.deg, dec * u.deg)
    cat = SkyCoord(np.asarray(catalog["ra"], float) * u.deg, np.asarray(catalog["dec"], float) * u.deg)
    idx, sep, _ = pos.match_to_catalog_sky(cat)
    out["nearest"] = [str(catalog["name"][i]) for i in idx]
    out["separation_arcmin"] = sep.arcmin
    out["matched"] = sep.arcmin <= radius_arcmin
    out["nearest"] = out["nearest"].astype(str)
    return out


def matched_names(m: Table) -> np.ndarray:
    """The ``nearest`` names of a :func:`crossmatch` where ``matched``, "" elsewhere (what a
    candidate list shows: a cluster 50′ away is not this candidate's cluster)."""
    return np.array([n if ok else "" for n, ok in zip(m["nearest"], m["matched"], strict=True)], dtype=str)
