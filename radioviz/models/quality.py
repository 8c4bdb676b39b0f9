"""A generator's measured quality, read from its model card, and an honest "undertrained" flag.

The measurement is written into the card by ``radioviz measure quality`` (64 class-H samples
against the real TRAIN halo cut-outs, as ``radioviz compare --json`` reports them) under
``card["quality"]``; without it, the last point of the training learning curve (16 samples) is
used and marked as such.  One bar decides the flag, stated here and shown beside it:

- histogram error ≤ ``BAR["hist_err"]`` and |zero fraction − real| ≤ ``BAR["zero_fraction_gap"]``
  — else **undertrained**; both judged on their mean over seeds where the card has several (one
  seed's error moves by ±0.03–0.08: a lucky seed 0 had passed a model whose mean does not);
- the largest nearest-training-image SSIM < ``BAR["nn_ssim_max"]`` — else **memorises**.

Used by the Models tab, next to the model pickers, and to choose the default generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BAR = {"hist_err": 0.5, "zero_fraction_gap": 0.05, "nn_ssim_max": 0.95}
BAR_TEXT = (
    f"bar: histogram error ≤ {BAR['hist_err']}, |zero fraction − real| ≤ {BAR['zero_fraction_gap']}, "
    f"no sample with NN SSIM ≥ {BAR['nn_ssim_max']} (class H, vs real TRAIN halo cut-outs)"
)


@dataclass
class Quality:
    measured: bool  # False: nothing in the card to judge by
    source: str  # "quality" (full measurement) or "learning curve" (quick, few samples) or ""
    sampler: str | None = None
    n: int | None = None
    hist_err: float | None = None
    hist_err_floor: float | None = None  # an ideal generator's error against the same real images
    hist_err_seeds: tuple[int, float, float] | None = None  # (seeds, mean, sd) of the same setting
    seed: int | None = None  # the seed of the headline numbers
    zero_fraction_gen: float | None = None
    zero_fraction_real: float | None = None
    fid_domain: float | None = None
    nn_ssim_max: float | None = None
    guidance: float = 0.0  # the classifier-free guidance ω it was measured at
    date: str | None = None
    undertrained: bool = True
    memorises: bool = False
    # what the bar judged: the means over seeds where measured, else the one seed's numbers
    judged_hist_err: float | None = None
    judged_gap: float | None = None

    @property
    def zero_fraction_gap(self) -> float | None:
        if self.zero_fraction_gen is None or self.zero_fraction_real is None:
            return None
        return abs(self.zero_fraction_gen - self.zero_fraction_real)

    @property
    def status(self) -> str:
        if not self.measured:
            return "not measured"
        flags = [f for f, on in (("undertrained", self.undertrained), ("memorises", self.memorises)) if on]
        if flags:
            return ", ".join(flags)
        # the bar has three parts: say so when one of them was never measured
        return (
            "meets the bar" if self.nn_ssim_max is not None else "meets the bar (memorisation not measured)"
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "zero_fraction_gap": self.zero_fraction_gap, "status": self.status}


def _f(d: dict, *keys):
    for k in keys:
        v = d.get(k)
        if isinstance(v, (int, float)):
            return float(v)
    return None


def _over_seeds(q: dict) -> tuple[int, float, float] | None:
    s = q.get("over_seeds") or {}
    mean, sd = _f(s, "hist_err_mean"), _f(s, "hist_err_sd")
    return None if mean is None or sd is None else (len(s.get("seeds") or []), mean, sd)


def quality(card) -> Quality:
    """The card's measured quality (see the module docstring for where it comes from); ``card``
    is a card dict or a :class:`~radioviz.models.card.ModelCard`."""
    card = card.to_dict() if hasattr(card, "to_dict") else card
    # quality.structure (issue #30's yardsticks) alone is not a quality measurement
    q = card.get("quality")
    if isinstance(q, dict):
        q = {k: v for k, v in q.items() if k != "structure"}
    source = "quality"
    if not q:
        curve = [p for p in (card.get("training") or {}).get("learning_curve") or [] if "hist_err" in p]
        if not curve:
            return Quality(False, "")
        q, source = curve[-1], "learning curve"
    out = Quality(
        True,
        source,
        sampler=q.get("sampler"),
        n=q.get("n"),
        hist_err=_f(q, "hist_err", "hist_mean_abs_rel_err"),
        hist_err_floor=_f(q.get("hist_err_floor") or {}, "median"),
        hist_err_seeds=_over_seeds(q),
        seed=q.get("seed") if isinstance(q.get("seed"), int) else None,
        zero_fraction_gen=_f(q, "zero_fraction_gen"),
        zero_fraction_real=_f(q, "zero_fraction_real"),
        fid_domain=_f(q, "fid_domain"),
        nn_ssim_max=_f(q, "nn_ssim_max"),
        guidance=_f(q, "guidance") or 0.0,
        date=q.get("date") or card.get("quality_date"),
    )
    err = out.hist_err_seeds[1] if out.hist_err_seeds else out.hist_err
    seeds = (q.get("over_seeds") or {}).get("zero_fraction_gap") or []
    gaps = [g for g in seeds if isinstance(g, (int, float))]
    gap = sum(gaps) / len(gaps) if gaps else out.zero_fraction_gap
    out.judged_hist_err, out.judged_gap = err, gap
    out.undertrained = err is None or err > BAR["hist_err"] or gap is None or gap > BAR["zero_fraction_gap"]
    out.memorises = out.nn_ssim_max is not None and out.nn_ssim_max >= BAR["nn_ssim_max"]
    return out


def quality_line(card: dict) -> str:
    """One line for a card: the numbers, when and how measured, and the flag."""
    q = quality(card)
    if not q.measured:
        return "Quality: not measured — treat as undertrained"
    parts = [
        None if q.hist_err is None else f"histogram error {q.hist_err:.2f}" + _hist_context(q),
        f"zero fraction {q.zero_fraction_gen:.3f} (real {q.zero_fraction_real:.3f})"
        if q.zero_fraction_gap is not None
        else None,
        f"FID (A features) {q.fid_domain:.2f}" if q.fid_domain is not None else None,
        f"NN SSIM max {q.nn_ssim_max:.2f}" if q.nn_ssim_max is not None else None,
    ]
    how = (
        f"{q.sampler or '?'}"
        + (f", ω = {q.guidance:g}" if q.guidance else "")
        + f", {q.n or '?'} samples, {q.source}"
        + (f", {q.date}" if q.date else "")
    )
    return f"Quality ({how}): " + ", ".join(p for p in parts if p) + f" — **{q.status}**"


def _hist_context(q: Quality) -> str:
    """The error's noise, where measured: like "(seed 0; 3 seeds 0.45 ± 0.03; an ideal generator ≈ 0.32)"."""
    parts = []
    if q.hist_err_seeds:
        parts.append(f"seed {q.seed}" if q.seed is not None else "one seed")
        parts.append(f"{q.hist_err_seeds[0]} seeds {q.hist_err_seeds[1]:.2f} ± {q.hist_err_seeds[2]:.2f}")
    if q.hist_err_floor is not None:
        parts.append(f"an ideal generator ≈ {q.hist_err_floor:.2f}")
    return f" ({'; '.join(parts)})" if parts else ""


def default_guidance(card) -> float:
    """The guidance ω a class-conditioned run starts from: the one the card's quality was measured
    at, so the default setting is the measured one (0 when measured without guidance or not at all;
    only a model that takes guidance can have been measured with it)."""
    q = quality(card)
    return q.guidance if q.measured and q.source == "quality" else 0.0


def picker_label(name: str, card: dict) -> str:
    """A model picker's entry: the file name, marked when below the bar."""
    q = quality(card)
    if not q.measured:
        return f"{name} (not measured)"
    return name if q.status.startswith("meets the bar") else f"{name} ({q.status})"


def _ranking_error(q: Quality) -> float:
    """The histogram error a default is chosen by: the mean over seeds where measured (one seed's
    number moves by ±0.03–0.08 with the seed), else the one seed's: what the bar judged."""
    return q.judged_hist_err if q.judged_hist_err is not None else float("inf")


def beam_limited(card) -> bool:
    """Whether a generator's every image passes through the instrument's beam (``precond.beam``,
    models/beam.py)."""
    card = card.to_dict() if hasattr(card, "to_dict") else card
    return bool((card.get("precond") or {}).get("beam"))


def default_generator(cards: dict[str, dict], kinds=("edm", "ddpm", "wgan")) -> str | None:
    """The best measured generator among ``cards`` ({file name: card}): those meeting the bar
    first, then those with the instrument's beam built in, then the lowest histogram error (mean
    over seeds where measured); multi-band models before single-frequency ones.
    Models that need a drawn mask are never the default: a first Generate has none.

    Why the beam before the error (issue #30): a generator without it leaves structure finer than
    GLEAM's beam inside its sources, which a radio astronomer sees at a glance (2–6× the real
    power beyond the beam's cut-off), while the histogram error does not see space at all and
    moves by ±0.03–0.08 with the seed."""

    def key(item):
        name, card = item
        card = card.to_dict() if hasattr(card, "to_dict") else card
        q = quality(card)
        bands = len((card.get("preprocessing") or {}).get("bands") or [])
        return (
            bands < 2,
            not q.measured,
            q.undertrained or q.memorises,
            not beam_limited(card),
            _ranking_error(q),
            name,
        )

    def usable(card) -> bool:
        card = card.to_dict() if hasattr(card, "to_dict") else card
        return card.get("kind") in kinds and "mask" not in (card.get("conditions") or [])

    pool = [(n, c) for n, c in cards.items() if usable(c)]
    return min(pool, key=key)[0] if pool else None
