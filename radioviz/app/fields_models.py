"""Which scoring models the Fields and Survey tabs offer, how each is summarised in the picker
(from its card's cross-validated figures), and which is the default."""

from __future__ import annotations

import numpy as np

from ..models.card import ModelCard
from . import resources


def _cv_auc_block(card: ModelCard) -> tuple[dict | None, str]:
    """The card's stored cross-validated ROC AUC ({mean, std}) and how it was measured.  A
    classifier card keeps it under ``metrics.cv.per_source`` (or ``per_image``); the detector's
    card keeps the CV table of every model under ``metrics.cv.<model>``, its own as ``detector``."""
    cv = (card.metrics or {}).get("cv") or {}
    if isinstance(cv.get("detector"), dict):
        cv, scope = cv["detector"], "per source"
        auc = cv.get("roc_auc")
    else:
        scope = "per source" if cv.get("per_source") else "per image"
        auc = (cv.get("per_source") or cv.get("per_image") or {}).get("roc_auc") or cv.get("roc_auc")
    if not (isinstance(auc, dict) and "mean" in auc):
        return None, ""
    seeds = cv.get("seeds")
    runs = f"{cv.get('k', '?')}-fold" + (f" × {seeds} seeds" if isinstance(seeds, int) and seeds > 1 else "")
    return auc, f"{runs}, {scope}"


def model_summary(card: ModelCard) -> str:
    """Cross-validated figures of a model card, one line for the picker (read from the card)."""
    auc, how = _cv_auc_block(card)
    if auc is None:
        return "not cross-validated"
    return f"CV AUC {auc['mean']:.2f} ± {auc.get('std', float('nan')):.2f} ({how})"


def _cv_auc(card: ModelCard) -> float:
    auc, _ = _cv_auc_block(card)
    return float(auc["mean"]) if auc is not None else float("nan")


def default_model(cards: dict[str, ModelCard]) -> str | None:
    """The segmenter when shipped (a fully convolutional map in seconds); otherwise the
    classifier with the best cross-validated AUC.  A model without CV figures is never the
    default (classifier A: unvalidated, and 103–176 s a field)."""
    if "segmenter.safetensors" in cards:
        return "segmenter.safetensors"
    validated = {n: _cv_auc(c) for n, c in cards.items() if np.isfinite(_cv_auc(c))}
    if validated:
        return max(validated, key=lambda n: (validated[n], n))
    return sorted(cards)[0] if cards else None


def scoring_cards() -> dict[str, ModelCard]:
    cards = resources.classifier_cards()
    cards.update({n: c for n, c in resources.checkpoint_cards().items() if c.kind == "segmenter"})
    return cards
