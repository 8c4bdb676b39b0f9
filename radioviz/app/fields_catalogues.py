"""The catalogues the Fields tab overlays (built-in clusters, PSZ2 from the shared catalogs or
VizieR, an uploaded table), read once per process (an upload's with its upload), and the nearest
built-in cluster of each candidate."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.catalogs import builtin_clusters, crossmatch, read_catalog, read_psz2
from . import resources
from .session_memory import owned_cache

CATALOGUES = ["none", "built-in clusters", "PSZ2 (shared catalogs)", "PSZ2 (VizieR, online)", "uploaded file"]
SHARED_CATALOGS = resources.REPO.parent / "shared" / "data" / "catalogs"
NEAREST_CLUSTER_ARCMIN = 30.0  # list a catalogue cluster beside a candidate only within this


def _catalogue(choice: str, path: str = "") -> object:
    """The chosen catalogue: an uploaded file's is cached with its upload (freed with it), the
    others once per process."""
    if choice == "uploaded file":
        owned = owned_cache(Path(path).parent)
        return owned.get(("catalogue", path), lambda: read_catalog(path)) if owned else read_catalog(path)
    return _shared_catalogue(choice)


@functools.lru_cache(maxsize=8)
def _shared_catalogue(choice: str) -> object:
    if choice == "built-in clusters":
        return builtin_clusters()
    if choice == "PSZ2 (shared catalogs)":
        root = Path(os.environ.get("RADIOVIZ_CATALOGS", SHARED_CATALOGS))
        return read_psz2(root / "psz2.dat.txt", root / "ReadMe.txt")
    if choice == "PSZ2 (VizieR, online)":
        return _vizier_psz2()
    return None


#: Offline, every field change would wait for VizieR's 30 s timeout again: a failure is
#: remembered this long (seconds) and its message repeated at once.
VIZIER_RETRY_S = 300.0
_vizier_failure: dict = {}


def _vizier_psz2():
    from ..io.catalogs import fetch_psz2

    at = _vizier_failure.get("at")
    if at is not None and time.monotonic() - at < VIZIER_RETRY_S:
        raise _vizier_failure["error"]
    try:
        return fetch_psz2()
    except InputError as exc:
        _vizier_failure.update(at=time.monotonic(), error=exc)
        raise


NO_CATALOGUE_FILE = (
    "No catalogue file uploaded yet: drop an ECSV, CSV, VOTable or FITS table in the catalogue box "
    "below, or pick another catalogue."
)


def _catalogue_message(choice: str, exc: InputError, path: str) -> str:
    """A catalogue that cannot be read, in the app's terms: no CLI flag, no temporary path."""
    if choice == "PSZ2 (VizieR, online)":
        reason = str(exc).split(";")[0].strip()
        return (
            f"PSZ2 from VizieR is unavailable here ({reason}). Pick “PSZ2 (shared catalogs)” or "
            "“built-in clusters” in the catalogue list, or upload a catalogue file below."
        )
    if choice == "uploaded file" and path:
        return "Catalogue rejected — " + resources.public_message(str(exc), {str(Path(path).parent): ""})
    return str(exc)


def _with_matches(cands: list[dict]) -> list[dict]:
    """Each candidate with its nearest built-in cluster (within NEAREST_CLUSTER_ARCMIN) or none."""
    if not cands:
        return cands
    m = crossmatch(
        np.array([c["ra"] for c in cands]), np.array([c["dec"] for c in cands]), builtin_clusters(), 10.0
    )
    for c, name, sep in zip(cands, m["nearest"], m["separation_arcmin"], strict=True):
        near = bool(np.isfinite(sep)) and sep <= NEAREST_CLUSTER_ARCMIN
        c["nearest_cluster"], c["separation_arcmin"] = (str(name), float(sep)) if near else ("", float("nan"))
    return cands
