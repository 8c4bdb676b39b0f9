"""The Models view: every checkpoint's model card."""

from __future__ import annotations

import json

import panel as pn
import param

from ..models.card import ModelCard
from ..models.quality import BAR_TEXT, quality_line
from . import resources


def kind_text(card: ModelCard) -> str:
    """What the model is, in words: the segmenter is filed under the classifier kind (it loads
    like one) but is a detector."""
    from ..models import registry

    return f"detector ({card.arch})" if registry.scores_fields(card) == registry.DENSE else card.kind


def data_line(data: dict) -> str:
    """The training data in one line, from whatever the card holds ("—" for what it lacks)."""
    digest = str(data.get("hash") or data.get("data_hash") or "")
    parts = [f"Data hash `{digest[:16]}…`" if digest else "Data hash —"]
    if "n_train_images" in data or "n_val_images" in data:
        parts.append(
            f"{data.get('n_train_images', '—')} training / {data.get('n_val_images', '—')} validation images"
        )
    elif "n_fields" in data:
        parts.append(f"{data['n_fields']} fields")
    else:
        parts.append("images —")
    split = data.get("split") or (data.get("config") or {}).get("split")
    if split:
        parts.append(f"split {split}")
    return ", ".join(parts)


def _list(values, d: int = 2) -> str:
    return ", ".join("—" if v is None else f"{v:.{d}f}" for v in values or [])


def structure_line(card: ModelCard) -> str:
    """A generator's spatial-structure yardsticks (issue #30) from ``quality.structure``, written
    by ``radioviz measure structure --write``; "not measured" without."""
    s = (card.to_dict().get("quality") or {}).get("structure")
    if not isinstance(s, dict):
        return "Structure: not measured (`radioviz measure structure --checkpoint … --write`)"
    parts = []
    if s.get("power_ratio_high") is not None:
        ideal = ""
        if s.get("power_ratio_high_ideal_p10") and s.get("power_ratio_high_ideal_p90"):
            lo = min(v for v in s["power_ratio_high_ideal_p10"] if v is not None)
            hi = max(v for v in s["power_ratio_high_ideal_p90"] if v is not None)
            ideal = f"; an ideal generator {lo:.2f}–{hi:.2f}"
        parts.append(
            f"power ratio at 0.2–0.5 cycles/px {_list(s['power_ratio_high'])} per band (1 = real{ideal})"
        )
    if s.get("peak_ratio") is not None:
        parts.append(f"peak ratio {_list(s['peak_ratio'])}")
    ts = s.get("two_sample")
    if isinstance(ts, dict) and ts.get("ci95"):
        parts.append(
            f"two-sample accuracy {ts['accuracy']:.2f} (95 % {ts['ci95'][0]:.2f}–{ts['ci95'][1]:.2f}; "
            "0.5 = a classifier cannot tell them apart)"
        )
    else:
        parts.append("two-sample test not run")
    how = ", ".join(
        str(x)
        for x in (
            s.get("sampler"),
            f"ω = {s['guidance']:g}" if isinstance(s.get("guidance"), (int, float)) else None,
            f"{s.get('n')} × {s.get('label')}" if s.get("n") else None,
            s.get("date"),
        )
        if x
    )
    return f"Structure ({how}): " + "; ".join(parts)


def _public(obj):
    """A card's JSON with every string passed through ``resources.public_message``."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return resources.public_message(obj) if isinstance(obj, str) else obj


def card_summary(name: str, card: ModelCard) -> str:
    cv = card.metric("cv")
    lines = [
        f"#### {name}",  # one step below the tab's own headings (walk 14: they read as titles)
        f"**{kind_text(card)}** · architecture **{card.arch}** · {card.parameters or 0:,} parameters",
    ]
    pre = card.preprocessing
    if pre:
        norm = pre.normalization
        scale = "per image" if norm and norm.per_image else "over the data set"
        log = ", log10(1+x)" if norm and norm.log else ""
        stretch = (
            "asinh stretch in units of each band's clip level (empty sky = 0)"
            if norm and getattr(norm, "asinh_soft", None)
            else f"min-max {scale}{log}"
        )
        nb = len(pre.bands)
        lines.append(
            f"Input: {pre.cutout_size}×{pre.cutout_size} × {nb} band{'s' if nb != 1 else ''} "
            f"({pre.band_convention} convention); {stretch}"
        )
    tr = card.training
    if tr.record:
        steps = f"{tr.steps:,}" if tr.steps is not None else "?"
        lines.append(
            f"Training: {steps} {tr.step_unit}s, "
            f"{tr.wall_seconds if tr.wall_seconds is not None else '?'} s wall on "
            f"{tr.torch_threads or '?'} thread(s); command `{tr.command}`"
        )
    if card.is_generator and card.conditions:
        labels = f"; labels {', '.join(card.labels)}" if card.labels else ""
        lines.append(f"Conditions: {', '.join(card.conditions)}{labels}")
    if card.is_generator:
        lines.append(quality_line(card))
        lines.append(structure_line(card))
    gm = card.metric("generation")
    if gm:
        lines.append(
            "Generation metrics: "
            + ", ".join(f"{k} {v}" for k, v in gm.items() if not isinstance(v, (dict, list)))
        )
    data = card.data
    if data:
        lines.append(data_line(data))
    for level in ("per_source", "per_image"):
        if level in cv:
            s = cv[level]
            lines.append(
                f"CV {level.replace('_', ' ')} ({cv.get('k')}-fold × {len(cv.get('seeds', []))} seeds): "
                + ", ".join(
                    f"{label} {s[key]['mean']:.3f} ± {s[key]['std']:.3f}"
                    for label, key in (("accuracy", "accuracy"), ("F1", "f1"), ("ROC AUC", "roc_auc"))
                )
            )
    return "\n\n".join(lines)


class ModelsView(pn.viewable.Viewer):
    """Lists the cards of the committed checkpoints, with the full JSON on demand."""

    refresh = param.Event()

    def __init__(self, **params):
        super().__init__(**params)
        self._entries: dict[str, tuple] = {}  # name -> (summary pane, JSON pane, its column)
        self.cards = pn.Column(sizing_mode="stretch_width")
        self._reload()

    @param.depends("refresh", watch=True)
    def _reload(self):
        """Update the panes in place: panes made anew from a callback lost the page's styling
        (walk: Reload cards turned titles into large headings)."""
        cards = resources.checkpoint_cards()
        if not cards:
            self.cards.objects = [pn.pane.Markdown("No checkpoints in `checkpoints/`.")]
            self._entries = {}
            return
        for name, card in cards.items():
            # no server path on the page (issue #29): cards record training roots and commands
            summary = resources.public_message(card_summary(name, card))
            full = _public(json.loads(card.to_json()))
            if name in self._entries:
                md, js, _ = self._entries[name]
                md.object, js.object = summary, full
            else:
                md, js = pn.pane.Markdown(summary), pn.pane.JSON(full, depth=2)
                col = pn.Column(
                    md,
                    pn.Card(js, title="full model card", collapsed=True),
                    sizing_mode="stretch_width",
                )
                self._entries[name] = (md, js, col)
        self._entries = {n: e for n, e in self._entries.items() if n in cards}
        self.cards.objects = [self._entries[n][2] for n in cards]

    def __panel__(self):
        return pn.Column(
            pn.widgets.Button.from_param(self.param.refresh, label="Reload cards"),
            pn.pane.Markdown(
                f"Generators are marked *undertrained* / *memorises* against one {BAR_TEXT}.  "
                "**Histogram error**: the mean relative difference between the generated and the real "
                "pixel-value histograms (0 = the same; lower is better).  With 18 real halo cut-outs it "
                "cannot reach 0: *an ideal generator* is what a perfect generator of those very images "
                "scores with the same number of samples — read a model's error against it "
                "(docs/journal/generators-2026-11.md, Session 10)."
            ),
            self.cards,
            sizing_mode="stretch_width",
        )
