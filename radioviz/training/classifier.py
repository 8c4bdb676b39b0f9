"""Training a halo classifier on a built data set (Mishra et al. §4.2), resumably.

Class-balanced cross-entropy, Adam, early stopping on validation *balanced* accuracy (sources
held out by sky group; the validation set is mostly negatives, so plain accuracy would keep an
all-non-halo model).  After every epoch the current weights, the best weights and the optimiser state
are written, so ``resume=True`` continues an interrupted run where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.dataset import Dataset
from ..data.preprocess import Preprocessing, classifier_normalization
from ..metrics.classification import binary_metrics
from ..models.card import ModelCard
from ..models.classifiers import build_classifier, count_parameters
from ..models.classifiers import predict_halo_scores as predict_scores
from ..models.device import resolve_device
from .run import Run


@dataclass
class TrainConfig:
    arch: str = "A"
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    patience: int = 5
    seed: int = 0
    normalization: str = "image"  # "image" (min-max per image and band), "dataset" (the paper's) or "snr"
    images_per_epoch: int | None = None  # draw this many training images per epoch (None: all)
    generated_ratio: float = 0.0  # Ng/Nr: generated halos added per real training image (paper: 0.5)
    device: str = "auto"  # where the network trains: auto (CUDA when present), cpu or cuda


@dataclass
class FitResult:
    model: nn.Module
    normalization: object
    history: list
    wall_seconds: float


def fit_classifier(
    ds: Dataset,
    train: np.ndarray,
    val: np.ndarray,
    cfg: TrainConfig,
    run: Run | None = None,
    progress: bool = True,
    generated: np.ndarray | None = None,
) -> FitResult:
    """Train on the rows ``train``, early-stop on the accuracy over the rows ``val``.

    With a saving ``run`` the weights, the best weights and Adam's state are saved after every
    epoch, and a resuming run continues from them (on any device); without one nothing is saved.
    The model trains and is returned on ``cfg.device``; the batches are drawn on the CPU, so the
    same seed draws the same batches everywhere.
    """
    if cfg.normalization not in ("image", "dataset", "snr"):
        raise ValueError(f"normalization must be 'image', 'dataset' or 'snr', not {cfg.normalization!r}")
    run = run or Run(None, cfg.seed, progress=progress)
    device = run.device = resolve_device(cfg.device)
    rng = run.rng
    norm = classifier_normalization(
        ds.images[train], per_image=cfg.normalization == "image", snr=cfg.normalization == "snr"
    )
    x_tr, y_tr = norm.forward(ds.images[train]), ds.labels[train]
    if cfg.generated_ratio > 0:
        if generated is None or len(generated) == 0:
            raise ValueError("generated_ratio > 0 needs generated images")
        n_gen = int(round(cfg.generated_ratio * len(x_tr)))
        pick = rng.choice(len(generated), n_gen, replace=n_gen > len(generated))
        x_tr = np.concatenate([x_tr, norm.forward(generated[pick])])
        y_tr = np.concatenate([y_tr, np.ones(n_gen, dtype=y_tr.dtype)])
    x_va, y_va = norm.forward(ds.images[val]), ds.labels[val]
    model = build_classifier(cfg.arch).to(device)  # initialised on the CPU: the same weights everywhere
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    counts = np.bincount(y_tr, minlength=2).astype(np.float64)
    weights = torch.tensor(len(y_tr) / (2 * np.maximum(counts, 1)), dtype=torch.float32, device=device)
    loss_fn = nn.CrossEntropyLoss(weight=weights)

    best = {k: v.clone() for k, v in model.state_dict().items()}
    start, history, best_acc = 0, [], -1.0
    parts = run.restore(opt, counter="epoch", reseed=False)  # resumed epochs redraw from the seed
    if parts is not None:
        model.load_state_dict(parts["model"])
        best, history, best_acc = parts["best"], run.meta["history"], run.meta["best_acc"]
        start = run.step + 1
    t0 = time.time()
    stale = 0
    for h in reversed(history):  # epochs since the last improvement, when resuming
        if h["val_balanced_accuracy"] >= best_acc:
            break
        stale += 1
    for epoch in range(start, cfg.epochs):
        if stale >= cfg.patience:
            break
        model.train()
        order = rng.permutation(len(x_tr))[: cfg.images_per_epoch or len(x_tr)]
        losses = []
        for i in tqdm(
            range(0, len(order), cfg.batch_size),
            desc=f"{cfg.arch} epoch {epoch + 1}/{cfg.epochs}",
            disable=not run.progress,
            leave=False,
        ):
            idx = order[i : i + cfg.batch_size]
            xb, yb = torch.from_numpy(x_tr[idx]).to(device), torch.from_numpy(y_tr[idx]).long().to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        # balanced accuracy: the validation set is mostly negatives (off-centre cut-outs), where plain
        # accuracy would reward a model that calls everything non-halo
        acc = (
            binary_metrics(y_va, predict_scores(model, x_va))["balanced_accuracy"]
            if len(y_va)
            else float("nan")
        )
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_balanced_accuracy": acc})
        if run.progress:
            tqdm.write(
                f"{cfg.arch} epoch {epoch + 1}: loss {np.mean(losses):.4f}, val balanced accuracy {acc:.4f}"
            )
        if acc > best_acc:
            best_acc, stale = acc, 0
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        run.save_state(
            {"model": model.state_dict(), "best": best}, opt, epoch=epoch, history=history, best_acc=best_acc
        )
    model.load_state_dict(best)
    model.eval()
    return FitResult(model, norm, history, time.time() - t0)


def load_generated(paths: Path | list[Path], like: np.ndarray) -> np.ndarray:
    """The ``physical`` (Jy/beam) images of ``radioviz sample`` files, checked against the data set."""
    if isinstance(paths, (list, tuple)):
        return np.concatenate([load_generated(p, like) for p in paths])
    from ..errors import InputError

    path = paths

    try:
        with np.load(path, allow_pickle=False) as z:
            if "physical" not in z.files:
                raise InputError(
                    path, f"no 'physical' array (has {', '.join(z.files)}); expected a radioviz sample file"
                )
            images = np.asarray(z["physical"], dtype=np.float32)
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read as an .npz samples file ({exc})") from None
    if images.ndim != 4 or images.shape[1:] != like.shape[1:]:
        raise InputError(
            path, f"generated images have shape {images.shape[1:]}, the data set has {like.shape[1:]}"
        )
    return images


def train_classifier(
    ds: Dataset,
    cfg: TrainConfig,
    out: Path,
    resume: bool = False,
    progress: bool = True,
    extra_card: dict | None = None,
    generated: np.ndarray | None = None,
) -> tuple[nn.Module, ModelCard]:
    """Train on ``ds`` (its ``is_val`` rows validate) and write ``out`` (+ card); returns (model, card)."""
    run = Run(out, cfg.seed, resume=resume, progress=progress)
    train, val = ~ds.is_val, ds.is_val
    res = fit_classifier(ds, train, val, cfg, run, generated=generated)
    model, norm, history = res.model, res.normalization, res.history
    val_metrics = (
        binary_metrics(ds.labels[val], predict_scores(model, norm.forward(ds.images[val])))
        if val.any()
        else {}
    )
    pre = Preprocessing(
        cutout_size=ds.images.shape[-1],
        band_convention=ds.meta["config"]["band_convention"],
        nsigma=ds.meta["config"]["nsigma"],
        bands=ds.meta["bands"],
        normalization=norm,
    )
    card = {
        "kind": "classifier",
        "arch": cfg.arch,
        "kwargs": {},
        "parameter_count": count_parameters(model),
        "preprocessing": pre.to_dict(),
        "training": run.training_record(
            cfg, epochs_run=len(history), history=history, wall_seconds_this_run=round(res.wall_seconds, 1)
        ),
        "data": {
            "hash": ds.meta["data_hash"],
            "config": ds.meta["config"],
            "n_train_images": int(train.sum()),
            "n_val_images": int(val.sum()),
            "val_sources": sorted(set(ds.source_names[ds.source[val]].tolist())),
        },
        "metrics": {"validation_per_image": val_metrics},
        "labels": ["non-halo", "halo"],
    }
    card.update(extra_card or {})
    run.write(model, card)
    return model, run.card()
