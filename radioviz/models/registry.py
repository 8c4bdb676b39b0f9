"""Every architecture a checkpoint may name, in one table.

A card's ``kind`` and ``arch`` (:mod:`radioviz.models.card`), the networks a classifier checkpoint
is rebuilt with (:mod:`radioviz.models.classifiers`, :func:`radioviz.metrics.evaluate.load_classifier`),
the ``--arch`` choices of ``radioviz train classifier`` and ``radioviz cv`` and how a model scores
a field (:mod:`radioviz.scan.scorer`) are all read from :data:`ARCHITECTURES`.  A new architecture
is one :class:`Architecture` entry here (and, if its constructor takes new size-like arguments,
their bounds in :data:`radioviz.models.card.INT_BOUNDS`).

Builders are named ``"module:attribute"`` and imported only when a network is built, so reading a
card never imports torch models (and this module imports nothing of the package).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

#: How a model of an architecture scores fields: a window classifier of cut-outs, a fully
#: convolutional detector of whole fields, or not at all (a generator).
WINDOW, DENSE = "window", "dense"


@dataclass(frozen=True)
class Architecture:
    kind: str  # the card's ``kind``: classifier, ddpm, edm, wgan
    arch: str  # the card's ``arch``
    builder: str | Callable  # "module:attribute" (imported lazily) or the constructor itself
    scores: str | None = None  # WINDOW, DENSE or None (a generator)
    trainable: bool = False  # offered by ``train classifier`` / ``cv --arch``

    def build(self, **kwargs):
        return self.constructor()(**kwargs)

    def constructor(self) -> Callable:
        if callable(self.builder):
            return self.builder
        module, _, attr = self.builder.partition(":")
        return getattr(importlib.import_module(module), attr)


ARCHITECTURES: list[Architecture] = [
    Architecture("classifier", "L", "radioviz.models.classifiers:ClassifierL", WINDOW, trainable=True),
    Architecture("classifier", "A", "radioviz.models.classifiers:ClassifierA", WINDOW, trainable=True),
    Architecture("classifier", "D", "radioviz.models.classifiers:ClassifierD", WINDOW, trainable=True),
    Architecture("classifier", "segmenter", "radioviz.models.segmenter:SegmenterUNet", DENSE),
    Architecture("ddpm", "unet", "radioviz.models.unet:build_unet"),
    Architecture("edm", "unet", "radioviz.models.unet:build_unet"),
    Architecture("wgan", "wgan-generator", "radioviz.models.wgan:build_wgan_generator"),
]


def kinds() -> dict[str, frozenset[str]]:
    """kind → the architectures a card of that kind may name."""
    out: dict[str, set[str]] = {}
    for a in ARCHITECTURES:
        out.setdefault(a.kind, set()).add(a.arch)
    return {k: frozenset(v) for k, v in out.items()}


def generator_kinds() -> tuple[str, ...]:
    """The kinds whose models make images (they score nothing)."""
    return tuple(dict.fromkeys(a.kind for a in ARCHITECTURES if a.scores is None))


def find(kind: str, arch: str) -> Architecture | None:
    return next((a for a in ARCHITECTURES if a.kind == kind and a.arch == arch), None)


def builders(kind: str, scores: str | None = None) -> dict[str, Callable]:
    """arch → constructor of one kind (only those scoring ``scores``, when given), for
    :func:`radioviz.models.checkpoint.load_checkpoint`."""
    return {
        a.arch: a.constructor()
        for a in ARCHITECTURES
        if a.kind == kind and (scores is None or a.scores == scores)
    }


def generator_builders() -> dict[str, Callable]:
    """arch → constructor of every generator kind, for :func:`radioviz.sampling.generate.load_generator`."""
    return {a.arch: a.constructor() for a in ARCHITECTURES if a.scores is None}


def trainable_classifiers() -> list[str]:
    """The ``--arch`` choices of ``train classifier`` and ``cv``."""
    return [a.arch for a in ARCHITECTURES if a.kind == "classifier" and a.trainable]


def scores_fields(card) -> str | None:
    """WINDOW or DENSE for a card's architecture (None for a generator or an unknown one)."""
    a = find(card.kind, card.arch)
    return a.scores if a is not None else None
