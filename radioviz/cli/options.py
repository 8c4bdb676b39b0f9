"""Options shared by several subcommands, declared once as argparse parents.

Each function returns a fresh parent parser (``add_help=False``): argparse shares the parent's
action objects with every child, so one parent instance reused across subcommands would let one
subcommand's ``set_defaults`` change another's default.  Override a default in a subcommand
with ``parser.set_defaults(split="TEST")``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from .. import validate as V
from ..models import registry
from ..models.card import BUNDLED

REPO = Path(__file__).resolve().parents[2]
CHECKPOINTS = BUNDLED

CONVENTIONS = ("native", "coregistered")
GENERATOR_CONVENTIONS = (*CONVENTIONS, "single-frequency")
NORMALIZATIONS = ("image", "dataset", "snr")

# ``--checkpoint`` left out of ``sample``: resolved when the command runs, not at import
DEFAULT_GENERATOR = Path("<best measured generator>")


def default_generator_path(directory: Path = CHECKPOINTS) -> Path:
    """The committed generator the app also opens on (best measured quality, see models.quality)."""
    from ..errors import InputError
    from ..models.card import cards_in
    from ..models.quality import default_generator

    name = default_generator(cards_in(directory))
    if name is None:
        raise InputError(directory, "no generator checkpoint with a valid model card; pass --checkpoint")
    return Path(directory) / name


def config_from(cls, args: argparse.Namespace, **overrides):
    """A dataclass config from the parsed options named like its fields (``overrides`` win):
    the options keep the config's names, so a new field needs only its option."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{**{k: v for k, v in vars(args).items() if k in names}, **overrides})


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def dataset(
    conventions: tuple[str, ...] | None = CONVENTIONS, split: str = "TRAIN", help: str | None = None
) -> argparse.ArgumentParser:
    """``--data`` (a published-layout root, required), ``--split``, ``--convention`` and ``--cache-dir``.

    ``conventions=None`` leaves ``--convention`` out (commands that read the checkpoint's own).
    """
    p = _parent()
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help=help or "root of the published layout (<SPLIT>_DATA_<class>/)",
    )
    p.add_argument("--split", default=split, help=f"split name in the folder names (default {split})")
    if conventions:
        extra = (
            "; 'single-frequency': every FITS file under --data is one 1-channel image "
            "(Mishra et al.'s WGAN-vs-DDPM set)"
            if "single-frequency" in conventions
            else ""
        )
        p.add_argument(
            "--convention", choices=conventions, default="native", help="band convention (see README)" + extra
        )
    p.add_argument("--cache-dir", type=Path, help="where built data sets are cached")
    return p


def seed(help: str = "random seed (default 0)") -> argparse.ArgumentParser:
    """``--seed``, default 0."""
    p = _parent()
    p.add_argument("--seed", type=V.seed_int, default=0, help=help)
    return p


def device() -> argparse.ArgumentParser:
    """``--device auto|cpu|cuda`` (default auto): every command that runs a network takes it
    (tests/models/test_device.py checks each one lists it); ``cuda`` on a machine without CUDA is refused
    in one line before any work starts (:func:`radioviz.cli.main`)."""
    p = _parent()
    p.add_argument(
        "--device",
        choices=V.DEVICES,
        default="auto",
        help="where the network runs: auto (CUDA when present, else the CPU), cpu or cuda",
    )
    return p


def checkpoint(default: Path | None = None, help: str | None = None) -> argparse.ArgumentParser:
    """``--checkpoint`` (required unless a default is given)."""
    p = _parent()
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=default is None,
        default=default,
        help=help or "a .safetensors checkpoint (its model card is read from beside it)",
    )
    return p


def classifier_training(dense: bool = False) -> argparse.ArgumentParser:
    """What ``train classifier`` and ``cv`` share: architecture, schedule, normalisation, generated
    halos; ``dense``: the whole-field detectors are --arch choices too (``cv``)."""
    p = _parent()
    archs = registry.trainable_classifiers()
    if dense:
        archs += list(registry.builders("classifier", registry.DENSE))
    p.add_argument("--arch", choices=archs, default="A")
    p.add_argument(
        "--offcentre",
        type=V.int_range(0, 100),
        default=2,
        help="off-centre 'empty space' negatives per halo field",
    )
    p.add_argument("--epochs", type=V.int_range(1, V.MAX_TRAIN_STEPS), default=20)
    p.add_argument("--patience", type=V.int_range(1, V.MAX_TRAIN_STEPS), default=5)
    p.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        default="image",
        help="min-max per image and band, over the data set (the paper's), or asinh in noise units",
    )
    p.add_argument(
        "--images-per-epoch",
        type=V.positive_int,
        default=None,
        help="draw this many training images per epoch (default all)",
    )
    p.add_argument(
        "--generated",
        type=Path,
        nargs="+",
        help="'radioviz sample' .npz files of generated halos to add (diffusion-assisted training)",
    )
    p.add_argument(
        "--ratio",
        type=V.float_range(0.0, 100.0),
        default=0.5,
        help="Ng/Nr: generated halos per real training image (with --generated; paper 0.5)",
    )
    return p


def generator_training(save_every: int) -> argparse.ArgumentParser:
    """What every generator trainer takes besides its data: output, resumption, save clock, seed."""
    p = _parent()
    p.add_argument("--out", type=Path, required=True, help="checkpoint path (.safetensors; card beside it)")
    p.add_argument(
        "--resume", action="store_true", help="continue from the training state saved beside --out"
    )
    p.add_argument(
        "--save-every", type=V.positive_int, default=save_every, help="checkpoint every this many steps"
    )
    return p
