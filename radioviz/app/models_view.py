"""The Models view: every checkpoint's model card."""

from __future__ import annotations

import json

import panel as pn
import param

from ..models.quality import BAR_TEXT, quality_line
from . import resources


def card_summary(name: str, card: dict) -> str:
    m = card.get("metrics", {})
    cv = m.get("cv", {})
    lines = [
        f"### {name}",
        f"**{card.get('kind', '?')}** · architecture **{card.get('arch', '?')}** · {card.get('parameters', card.get('parameter_count', '?')):,} parameters",
    ]
    pre = card.get("preprocessing", {})
    if pre:
        norm = pre.get("normalization") or {}
        scale = (
            "asinh stretch in units of each band's clip level (empty sky = 0)"
            if norm.get("asinh_soft")
            else f"min-max {'per image' if norm.get('per_image') else 'over the data set'}"
            + (", log10(1+x)" if norm.get("log") else "")
        )
        lines.append(
            f"Input: {pre.get('cutout_size')}×{pre.get('cutout_size')} × {len(pre.get('bands', []))} bands ({pre.get('band_convention')} convention); {scale}"
        )
    tr = card.get("training", {})
    if tr and "iterations" in tr:
        lines.append(
            f"Training: {tr['iterations']:,} iterations, {tr.get('wall_seconds', '?')} s wall on {tr.get('torch_threads', '?')} thread(s); command `{tr.get('command')}`"
        )
        if card.get("conditions"):
            lines.append(
                f"Conditions: {', '.join(card['conditions'])}"
                + (f"; labels {', '.join(card.get('labels', []))}" if card.get("labels") else "")
            )
    elif tr:
        lines.append(
            f"Training: {tr.get('epochs_run', '?')} epochs, {tr.get('wall_seconds_this_run', '?')} s; command `{tr.get('command')}`"
        )
    if card.get("kind") in ("ddpm", "edm", "wgan"):
        lines.append(quality_line(card))
    gm = card.get("metrics", {}).get("generation")
    if gm:
        lines.append(
            "Generation metrics: "
            + ", ".join(f"{k} {v}" for k, v in gm.items() if not isinstance(v, (dict, list)))
        )
    data = card.get("data", {})
    if data:
        lines.append(
            f"Data hash `{str(data.get('hash', ''))[:16]}…`, {data.get('n_train_images', '?')} training / {data.get('n_val_images', '?')} validation images"
        )
    for level in ("per_source", "per_image"):
        if level in cv:
            s = cv[level]
            lines.append(
                f"CV {level.replace('_', ' ')} ({cv.get('k')}-fold × {len(cv.get('seeds', []))} seeds): accuracy {s['accuracy']['mean']:.3f} ± {s['accuracy']['std']:.3f}, F1 {s['f1']['mean']:.3f} ± {s['f1']['std']:.3f}, ROC AUC {s['roc_auc']['mean']:.3f} ± {s['roc_auc']['std']:.3f}"
            )
    return "\n\n".join(lines)


class ModelsView(pn.viewable.Viewer):
    """Lists the cards of the committed checkpoints, with the full JSON on demand."""

    refresh = param.Event()

    @param.depends("refresh")
    def cards(self):
        cards = resources.checkpoint_cards()
        if not cards:
            return pn.pane.Markdown("No checkpoints in `checkpoints/`.")
        items = []
        for name, card in cards.items():
            items.append(
                pn.Column(
                    pn.pane.Markdown(card_summary(name, card)),
                    pn.Card(
                        pn.pane.JSON(json.loads(json.dumps(card, default=str)), depth=2),
                        title="full model card",
                        collapsed=True,
                    ),
                    sizing_mode="stretch_width",
                )
            )
        return pn.Column(*items, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Column(
            pn.widgets.Button.from_param(self.param.refresh, name="Reload cards"),
            pn.pane.Markdown(f"Generators are marked *undertrained* / *memorises* against one {BAR_TEXT}."),
            self.cards,
            sizing_mode="stretch_width",
        )
