"""The model card: what a checkpoint is, read and validated once, before any network is built.

A card is the JSON file beside a checkpoint's weights.  :class:`ModelCard` gives it typed fields
— architecture (``kind``, ``arch``, ``kwargs``), preprocessing, conditioning (``labels``,
``conditions``, ``mask_classes``, ``flux``), training and metrics — and one shape for classifier
and generator cards.  Keys it does not model (``dead_band_jy_note``, a kind's own
entries …) travel verbatim in ``extra``, so ``ModelCard.from_dict(d).to_dict() == d`` for every
card on disk and old files keep their keys.

Validation bounds every number a network is built from (widths, channels, depth, image size):
a card claiming ``base: 4096`` is refused in microseconds instead of allocating gigabytes.  A
refusal is a :class:`ModelCardError` naming the file and the field.

The kinds and architectures a card may name are :mod:`radioviz.models.registry`'s; if a new
architecture's constructor takes new size-like arguments, bound them in :data:`INT_BOUNDS` /
:data:`LIST_BOUNDS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.fieldgrid import INPUT_GROUPS
from ..data.preprocess import Normalization, Preprocessing
from ..errors import InputError
from ..validate import GUIDANCE_RANGE, MAX_RADIUS_ARCMIN, number_problem
from . import registry
from .segmenter_spec import CLASSES, NORMS, tile_overlap

#: The checkpoints that ship with the repository (the app, the CLI and a survey made elsewhere look here).
BUNDLED = Path(__file__).resolve().parents[2] / "checkpoints"

CARD_VERSION = 1

GENERATOR_KINDS = registry.generator_kinds()
CONDITIONS = ("label", "flux", "mask", "background")

#: Inclusive bounds of integer constructor arguments (far above anything trained here, far
#: below what would exhaust memory).
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "base": (1, 256),
    "in_channels": (1, 64),
    "channels": (1, 64),
    "num_classes": (0, 1024),
    "num_res": (1, 8),
    "size": (8, 1024),
    "mask_classes": (0, 64),
    "width": (1, 1024),
    "latent_dim": (1, 4096),
    "head": (0, 1024),
    "depth": (1, 8),
    "out_channels": (1, 64),
}
#: (element bounds, length bounds) of list arguments.
LIST_BOUNDS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "mults": ((1, 16), (1, 8)),
    "attn_resolutions": ((1, 1024), (0, 8)),
}
BOOL_KWARGS = ("flux_cond", "background")
#: choice-valued constructor arguments → their allowed values (the segmenter's normalisation layer:
#: "group" is the first shipped detector's, not tile-local; "batch" and "none" are).
CHOICE_KWARGS: dict[str, tuple[str, ...]] = {"norm": NORMS}
#: U-Net: widest layer (base × largest multiplier); a 3×3 conv at 1024 channels is 38 MB.
MAX_UNET_WIDTH = 1024
#: A card's own parameter count above this is refused before building.
MAX_PARAMETERS = 100_000_000
MAX_BANDS = 64
#: A detector card's ``grid.pixel_deg`` (degrees) at most; ``tile`` (pixels) bounds.
MAX_GRID_PIXEL_DEG = 1.0
TILE_BOUNDS = (16, 4096)
#: When a card gives no ``default_threshold``: the paper's candidate threshold.
PAPER_THRESHOLD = 0.95


class CheckpointError(InputError):
    """A checkpoint or its card is missing, unreadable, or does not match its architecture."""


class ModelCardError(CheckpointError):
    """A card field is missing, of the wrong type or out of bounds; ``field`` names it."""

    def __init__(self, path, field: str, problem: str):
        self.field = field
        super().__init__(path, f"model card field '{field}': {problem}")


def card_path(weights: str | Path) -> Path:
    """The card of a checkpoint: its weights' path with ``.json``."""
    return Path(weights).with_suffix(".json")


@dataclass
class Training:
    """How a model was trained: the card's ``training`` entry, kept verbatim in ``record``.

    Classifier and generator trainers record different keys (``epochs_run``/``history`` vs
    ``iterations``/``loss_curve``); the properties give both one shape.
    """

    record: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str | None:
        return self.record.get("command")

    @property
    def steps(self) -> int | None:
        """Generator iterations or classifier epochs run (see :attr:`step_unit`)."""
        r = self.record
        v = r.get("iterations", r.get("epochs_run", r.get("steps") if self.step_unit == "step" else None))
        return None if v is None else int(v)

    @property
    def step_unit(self) -> str:
        """ "iteration" (generators), "epoch" (window classifiers) or "step" (the segmenter, whose
        record holds only ``steps``: optimiser steps run)."""
        if "iterations" in self.record:
            return "iteration"
        if "epochs_run" not in self.record and "steps" in self.record:
            return "step"
        return "epoch"

    @property
    def wall_seconds(self) -> float | None:
        return self.record.get("wall_seconds", self.record.get("wall_seconds_this_run"))

    @property
    def torch_threads(self) -> int | None:
        return self.record.get("torch_threads")

    @property
    def cpu_hours(self) -> float | None:
        """Recorded CPU hours, else wall time × threads (an upper bound)."""
        if self.record.get("cpu_hours") is not None:
            return float(self.record["cpu_hours"])
        if self.wall_seconds is None:
            return None
        return round(self.wall_seconds * (self.torch_threads or 1) / 3600, 3)

    @property
    def learning_curve(self) -> list[dict]:
        """Points ``{"step": …, "loss": …, …}``, from whichever curve the trainer recorded."""
        r = self.record
        if r.get("learning_curve"):
            return [dict(p) for p in r["learning_curve"]]
        if r.get("loss_curve"):  # generators: mean loss over each block of 100 iterations
            return [{"step": 100 * (i + 1), "loss": v} for i, v in enumerate(r["loss_curve"])]
        return [
            {"step": int(h.get("epoch", i)) + 1, **{k: v for k, v in h.items() if k != "epoch"}}
            for i, h in enumerate(r.get("history") or [])
        ]


@dataclass
class ModelCard:
    """A checkpoint's card; build with :meth:`from_dict` or :meth:`read` (both validate)."""

    kind: str
    arch: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    preprocessing: Preprocessing | None = None
    labels: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    mask_classes: list[str] = field(default_factory=list)
    flux: dict[str, Any] | None = None
    training: Training = field(default_factory=Training)
    metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # the training set: hash, config, counts
    schedule: dict[str, Any] | None = None
    precond: dict[str, Any] | None = None
    sigma_range: list[float] | None = None
    dead_band_jy: list[float] | None = None
    parameters: int | None = None
    card_version: int = CARD_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False, repr=False)
    #: the keys the card was read with: an empty entry read from a file is written back
    keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    # -- reading and writing ---------------------------------------------------------------------

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        """The card of the checkpoint ``path`` (weights or card path)."""
        path = Path(path)
        cp = card_path(path)
        if not cp.exists():
            raise CheckpointError(path, f"model card {cp.name} is missing")
        try:
            d = json.loads(cp.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(cp, f"model card is not valid JSON ({exc})") from None
        return cls.from_dict(d, cp)

    @classmethod
    def from_dict(cls, d: Any, path: str | Path | None = None) -> ModelCard:
        """Validate a card mapping (as JSON-decoded) and type it; ``path`` names it in errors."""
        v = _Validator(path)
        if not isinstance(d, dict):
            raise CheckpointError(path, f"model card is a JSON {type(d).__name__}, not an object")
        d, keys = dict(d), frozenset(d)
        kinds = registry.kinds()
        kind = v.choice(d, "kind", tuple(kinds))
        arch = v.choice(d, "arch", tuple(sorted(kinds[kind])))
        kwargs = v.kwargs(d.pop("kwargs", None))
        params = d.pop("parameters", None)
        count = d.pop("parameter_count", None)
        n_params = v.int_in("parameters", params if params is not None else count, 0, MAX_PARAMETERS, True)
        pre = v.preprocessing(d.pop("preprocessing", None))
        if kind in GENERATOR_KINDS and (pre is None or pre.normalization is None):
            v.fail("preprocessing.normalization", f"missing (a {kind} generator's images need it)")
        v.detector(d, kwargs)  # fields any card may carry; the segmenter's, above all
        v.generator(d)
        sigma_range = v.numbers("sigma_range", d.pop("sigma_range", None), 2, positive=True)
        if sigma_range is not None and (len(sigma_range) != 2 or sigma_range[0] >= sigma_range[1]):
            v.fail("sigma_range", f"{sigma_range} is not [σ_min, σ_max] with σ_min < σ_max")
        dead_band = v.numbers("dead_band_jy", d.pop("dead_band_jy", None), MAX_BANDS)
        if dead_band is not None and min(dead_band) < 0:
            v.fail("dead_band_jy", f"{min(dead_band)} is negative (clip levels are ≥ 0 Jy/beam)")
        return cls(
            kind=kind,
            arch=arch,
            kwargs=kwargs,
            preprocessing=pre,
            labels=v.strings("labels", d.pop("labels", None), 1024),
            conditions=v.strings("conditions", d.pop("conditions", None), len(CONDITIONS), CONDITIONS),
            mask_classes=v.strings("mask_classes", d.pop("mask_classes", None), 64),
            flux=v.mapping("flux", d.pop("flux", None)),
            training=Training(v.mapping("training", d.pop("training", None)) or {}),
            metrics=v.mapping("metrics", d.pop("metrics", None)) or {},
            data=v.mapping("data", d.pop("data", None)) or {},
            schedule=v.schedule(d.pop("schedule", None)),
            precond=v.precond(d.pop("precond", None)),
            sigma_range=sigma_range,
            dead_band_jy=dead_band,
            parameters=n_params,
            card_version=v.int_in("card_version", d.pop("card_version", CARD_VERSION), 1, CARD_VERSION),
            extra=d,
            path=None if path is None else Path(path),
            keys=keys,
        )

    @classmethod
    def coerce(cls, card: ModelCard | dict, path: str | Path | None = None) -> ModelCard:
        """A card as given, or validated from a mapping."""
        return card if isinstance(card, ModelCard) else cls.from_dict(card, path)

    def to_dict(self) -> dict[str, Any]:
        """The JSON mapping, with the keys the card was read with (round-trips :meth:`from_dict`)."""
        d: dict[str, Any] = {**self.extra, "kind": self.kind, "arch": self.arch, "kwargs": dict(self.kwargs)}
        d["card_version"] = self.card_version
        if self.preprocessing is not None:
            d["preprocessing"] = self.preprocessing.to_dict()
        optional = {
            "labels": self.labels,
            "conditions": self.conditions,
            "mask_classes": self.mask_classes,
            "flux": self.flux,
            "training": self.training.record,
            "metrics": self.metrics,
            "data": self.data,
            "schedule": self.schedule,
            "precond": self.precond,
            "sigma_range": self.sigma_range,
            "dead_band_jy": self.dead_band_jy,
        }
        for k, val in optional.items():
            if val is not None and (val not in ([], {}) or k in self.keys):
                d[k] = val
        if self.parameters is not None:  # trainers wrote parameter_count, save_checkpoint parameters
            d["parameters"] = d["parameter_count"] = self.parameters
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    def write(self, path: str | Path) -> Path:
        """Write the card beside the checkpoint ``path``."""
        cp = card_path(path)
        cp.write_text(self.to_json())
        return cp

    # -- what the rest of the library asks -------------------------------------------------------

    @property
    def is_generator(self) -> bool:
        return self.kind in GENERATOR_KINDS

    @property
    def size(self) -> int:
        """Image side in pixels."""
        if "size" in self.kwargs:
            return int(self.kwargs["size"])
        return self.preprocessing.cutout_size if self.preprocessing else 64

    @property
    def channels(self) -> int:
        """Input (classifier) or output (generator) channels: one per band."""
        for k in ("in_channels", "channels"):
            if k in self.kwargs:
                return int(self.kwargs[k])
        return len(self.bands)

    @property
    def bands(self) -> list[str]:
        """Band names of the model's images (one name for single-frequency models)."""
        return list(self.preprocessing.bands) if self.preprocessing else list(Preprocessing().bands)

    @property
    def takes_flux(self) -> bool:
        return bool(self.kwargs.get("flux_cond"))

    @property
    def takes_background(self) -> bool:
        return bool(self.kwargs.get("background"))

    @property
    def default_threshold(self) -> float:
        """The model's own candidate threshold: the card's calibrated ``default_threshold`` (a
        detector's), else :data:`PAPER_THRESHOLD` (the window classifiers', Mishra et al.)."""
        thr = self.extra.get("default_threshold")
        return float(thr) if thr is not None else PAPER_THRESHOLD

    def metric(self, name: str) -> dict:
        """One metrics entry (``validation_per_image``, ``cv``, ``generation`` …), ``{}`` if absent."""
        return self.metrics.get(name) or {}


def cards_in(directory: str | Path) -> dict[str, ModelCard]:
    """``{file name: card}`` of every checkpoint in ``directory`` with a valid card (cards are
    small: read each call); a card that does not validate is left out, as its model could not
    be loaded, and training-state files are not checkpoints."""
    out = {}
    for card in sorted(Path(directory).glob("*.json")):
        weights = card.with_suffix(".safetensors")
        if weights.exists() and ".train-state" not in card.name:
            try:
                out[weights.name] = ModelCard.read(weights)
            except CheckpointError:
                continue
    return out


class _Validator:
    """Field checks that raise :class:`ModelCardError` naming ``path`` and the field."""

    def __init__(self, path):
        self.path = path

    def fail(self, name: str, problem: str):
        raise ModelCardError(self.path, name, problem)

    def choice(self, d: dict, name: str, allowed: tuple[str, ...]) -> str:
        if name not in d:
            self.fail(name, "missing")
        val = d.pop(name)
        if val not in allowed:
            self.fail(name, f"{val!r} is not one of {', '.join(allowed)}")
        return val

    def int_in(self, name: str, val, lo: int, hi: int, optional: bool = False) -> int | None:
        if val is None and optional:
            return None
        if isinstance(val, bool) or not isinstance(val, int):
            self.fail(name, f"{val!r} is not an integer")
        if not lo <= val <= hi:
            self.fail(name, f"{val} is outside {lo}..{hi}")
        return val

    def number(self, name: str, val, positive: bool = False) -> float:
        return self.number_in(name, val, 0 if positive else None, lo_open=positive)

    def number_in(
        self, name: str, val, lo=None, hi=None, lo_open: bool = False, hi_open: bool = False
    ) -> float:
        """A finite number in the range, in the words every entry point uses (radioviz.validate)."""
        problem = number_problem(val, lo, hi, lo_open=lo_open, hi_open=hi_open)
        if problem:
            self.fail(name, problem)
        return val

    def optional_mapping(self, d: dict, name: str) -> dict:
        val = d.get(name)
        if val is None:
            return {}
        self.mapping(name, val)
        return val

    # -- the fields a kind of model reads from its card besides its architecture ----------------

    def detector(self, d: dict, kwargs: dict) -> None:
        """The segmenter's grid, calibration, threshold, tile and cluster radius (kept in ``extra``)."""
        if "default_threshold" in d:
            self.number_in("default_threshold", d["default_threshold"], 0, 1, lo_open=True, hi_open=True)
        cal = self.optional_mapping(d, "calibration")
        if cal:
            for k in ("a", "b"):
                if k not in cal:
                    self.fail(f"calibration.{k}", "missing")
            self.number_in("calibration.a", cal["a"], 0, None, lo_open=True)  # a monotone map
            self.number_in("calibration.b", cal["b"], -1e3, 1e3)
            if cal.get("method", "platt") != "platt":
                self.fail("calibration.method", f"{cal['method']!r} is not one of platt")
        grid = self.optional_mapping(d, "grid")
        if "pixel_deg" in grid:
            self.number_in("grid.pixel_deg", grid["pixel_deg"], 0, MAX_GRID_PIXEL_DEG, lo_open=True)
        if "nsigma" in grid:
            self.number_in("grid.nsigma", grid["nsigma"], 0, 100, lo_open=True)
        if "rule" in grid and not isinstance(grid["rule"], str):
            self.fail("grid.rule", f"{grid['rule']!r} is not text")
        if "cluster_radius_arcmin" in d:
            self.number_in(
                "cluster_radius_arcmin", d["cluster_radius_arcmin"], 0, MAX_RADIUS_ARCMIN, lo_open=True
            )
        if "tile" in d:
            self.int_in("tile", d["tile"], *TILE_BOUNDS)
            depth = kwargs.get("depth", 3)
            m, overlap = 2**depth, tile_overlap(depth)
            if (d["tile"] - 2 * overlap) // m * m < m:
                self.fail("tile", f"{d['tile']} leaves no interior with {overlap} px of overlap per side")
        if "classes" in d:
            classes = d["classes"]
            if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
                self.fail("classes", f"{classes!r} is not a list of class names")
            if classes and (
                classes[0] != "background" or "halo" not in classes or set(classes) - set(CLASSES)
            ):
                self.fail("classes", f"{classes!r}: background first, halo among them, each one of {CLASSES}")
            if len(classes) != int(kwargs.get("out_channels", 1)):
                self.fail(
                    "classes", f"{len(classes)} names for {kwargs.get('out_channels', 1)} output channels"
                )

    def generator(self, d: dict) -> None:
        """Flux transform, clip levels and the measured guidance (generators' cards)."""
        flux = self.optional_mapping(d, "flux")
        for k in ("lam", "mean", "std"):
            if flux and k not in flux:
                self.fail(f"flux.{k}", "missing")
        if flux:
            self.number_in("flux.lam", flux["lam"], -10, 10)
            self.number_in("flux.mean", flux["mean"], -1e6, 1e6)
            self.number_in("flux.std", flux["std"], 0, 1e6, lo_open=True)
            if "floor" in flux:
                self.number_in("flux.floor", flux["floor"], 0, None, lo_open=True)
        src = d.get("dead_band_sources")
        if src is not None:
            if not isinstance(src, list) or len(src) > 100_000 or not all(isinstance(r, list) for r in src):
                self.fail("dead_band_sources", "must be a list of per-band lists of clip levels")
            for i, row in enumerate(src):
                if len(row) > MAX_BANDS:
                    self.fail(f"dead_band_sources[{i}]", f"has {len(row)} bands (at most {MAX_BANDS})")
                for j, x in enumerate(row):
                    self.number_in(f"dead_band_sources[{i}][{j}]", x, 0)
        halo = d.get("dead_band_source_halo")
        if halo is not None and (not isinstance(halo, list) or not all(isinstance(h, bool) for h in halo)):
            self.fail("dead_band_source_halo", "must be a list of true/false")
        quality = self.optional_mapping(d, "quality")
        if quality.get("guidance") is not None:
            self.number_in("quality.guidance", quality["guidance"], *GUIDANCE_RANGE)

    def numbers(self, name: str, val, max_len: int, positive: bool = False) -> list[float] | None:
        if val is None:
            return None
        if not isinstance(val, list) or not 1 <= len(val) <= max_len:
            self.fail(name, f"must be a list of 1..{max_len} numbers")
        return [self.number(f"{name}[{i}]", x, positive) for i, x in enumerate(val)]

    def strings(self, name: str, val, max_len: int, allowed: tuple[str, ...] | None = None) -> list[str]:
        if val is None:
            return []
        if not isinstance(val, list) or len(val) > max_len or not all(isinstance(s, str) for s in val):
            self.fail(name, f"must be a list of at most {max_len} strings")
        bad = [s for s in val if allowed is not None and s not in allowed]
        if bad:
            self.fail(name, f"{bad[0]!r} is not one of {', '.join(allowed)}")
        return list(val)

    def mapping(self, name: str, val) -> dict | None:
        if val is not None and not isinstance(val, dict):
            self.fail(name, f"must be an object, not {type(val).__name__}")
        return val

    def kwargs(self, val) -> dict:
        if val is None:
            self.fail("kwargs", "missing")
        self.mapping("kwargs", val)
        for k, x in val.items():
            name = f"kwargs.{k}"
            if k in INT_BOUNDS:
                self.int_in(name, x, *INT_BOUNDS[k])
            elif k in LIST_BOUNDS:
                (lo, hi), (nlo, nhi) = LIST_BOUNDS[k]
                if not isinstance(x, list) or not nlo <= len(x) <= nhi:
                    self.fail(name, f"must be a list of {nlo}..{nhi} integers")
                for i, e in enumerate(x):
                    self.int_in(f"{name}[{i}]", e, lo, hi)
            elif k in BOOL_KWARGS:
                if not isinstance(x, bool):
                    self.fail(name, f"{x!r} is not true or false")
            elif k in CHOICE_KWARGS:
                if x not in CHOICE_KWARGS[k]:
                    self.fail(name, f"{x!r} is not one of {', '.join(CHOICE_KWARGS[k])}")
            elif k == "inputs":  # a detector's input groups (data.fieldgrid.INPUT_GROUPS), in order
                if not isinstance(x, list) or not 1 <= len(x) <= len(INPUT_GROUPS) or len(set(x)) != len(x):
                    self.fail(name, f"must be a list of distinct input groups ({', '.join(INPUT_GROUPS)})")
                for i, e in enumerate(x):
                    if e not in INPUT_GROUPS:
                        self.fail(f"{name}[{i}]", f"{e!r} is not one of {', '.join(INPUT_GROUPS)}")
            elif k == "dropout":
                if not 0 <= self.number(name, x) < 1:
                    self.fail(name, f"{x} is outside [0, 1)")
            elif not isinstance(x, (str, bool, int, float, type(None))):
                self.fail(name, f"unexpected {type(x).__name__} value")
        width = val.get("base", 1) * max(val.get("mults") or [1])
        if width > MAX_UNET_WIDTH:
            self.fail("kwargs.base", f"base × largest multiplier = {width} channels exceeds {MAX_UNET_WIDTH}")
        return dict(val)

    def preprocessing(self, val) -> Preprocessing | None:
        if val is None:
            return None
        self.mapping("preprocessing", val)
        val = dict(val)
        if "cutout_size" in val:
            self.int_in("preprocessing.cutout_size", val["cutout_size"], *INT_BOUNDS["size"])
        if "nsigma" in val:
            self.number("preprocessing.nsigma", val["nsigma"], positive=True)
        if "bands" in val:
            val["bands"] = self.strings("preprocessing.bands", val["bands"], MAX_BANDS)
            if not val["bands"]:
                self.fail("preprocessing.bands", "is empty")
        norm = val.pop("normalization", None)
        if norm is not None:
            self.mapping("preprocessing.normalization", norm)
            for k in ("lo", "hi"):
                if k not in norm:
                    self.fail(f"preprocessing.normalization.{k}", "missing")
                self.number(f"preprocessing.normalization.{k}", norm[k])
            try:
                norm = Normalization(**norm)
            except TypeError as exc:
                self.fail("preprocessing.normalization", str(exc).split("__init__() ")[-1])
        try:
            return Preprocessing(**val, normalization=norm)
        except TypeError as exc:
            self.fail("preprocessing", str(exc).split("__init__() ")[-1])

    def precond(self, val) -> dict | None:
        self.mapping("precond", val)
        if val is not None and "data_scale" in val:
            x = self.number("precond.data_scale", val["data_scale"])
            if not 0 < x <= 1e4:
                self.fail("precond.data_scale", f"{x} is outside (0, 10000]")
        for k in ("sigma_data", "time_scale"):
            if val is not None and k in val:
                self.number_in(f"precond.{k}", val[k], 0, 1e6, lo_open=True)
        return val

    def schedule(self, val) -> dict | None:
        if val is None:
            return None
        self.mapping("schedule", val)
        if "T" in val:
            self.int_in("schedule.T", val["T"], 1, 100_000)
        for k in ("beta_start", "beta_end"):
            if k in val and not 0 < self.number(f"schedule.{k}", val[k]) < 1:
                self.fail(f"schedule.{k}", f"{val[k]} is outside (0, 1)")
        return val
