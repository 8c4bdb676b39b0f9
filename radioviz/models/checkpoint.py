"""Checkpoints: weights as safetensors, everything else in a JSON model card beside them.

Loading never unpickles.  The card names the architecture and its constructor arguments; the
model is rebuilt from them and the weights must match its state dict key for key and shape for
shape, else a :class:`CheckpointError` says what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .card import CARD_VERSION, CheckpointError, ModelCard, ModelCardError, card_path

__all__ = [
    "CARD_VERSION",
    "CheckpointError",
    "ModelCard",
    "ModelCardError",
    "card_path",
    "load_checkpoint",
    "read_card",
    "save_checkpoint",
]


def save_checkpoint(model: torch.nn.Module, path: str | Path, card: ModelCard | dict[str, Any]) -> Path:
    """Write ``path`` (.safetensors) and its card (.json); the card must hold kind/arch/kwargs.

    The card is validated first (a trainer cannot write one that would be refused on loading).
    """
    path = Path(path).with_suffix(".safetensors")
    card = ModelCard.coerce(card, card_path(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    card.parameters = sum(v.numel() for v in state.values())
    card.write(path)
    return path


def read_card(path: str | Path) -> ModelCard:
    """The validated card of the checkpoint ``path`` (whose weights must exist)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "checkpoint file does not exist")
    return ModelCard.read(path)


def _weights_header(path: Path) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` from the safetensors header alone (no tensor is read)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({str(exc).splitlines()[0]})") from None


def _build(path: Path, card: ModelCard, builder: Callable[..., torch.nn.Module], device: str | None = None):
    """The card's architecture (on ``device``); arguments the builder refuses are the card's fault."""
    try:
        if device is None:
            return builder(**card.kwargs)
        with torch.device(device):
            return builder(**card.kwargs)
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, RuntimeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelCardError(card_path(path), "kwargs", msg) from None


def load_checkpoint(
    path: str | Path, builders: dict[str, Callable[..., torch.nn.Module]], kind: str | None = None
) -> tuple[torch.nn.Module, ModelCard]:
    """Rebuild the model its card describes and load the weights into it (eval mode).

    The card is validated (bounds included) before anything is built; the architecture is then
    built on PyTorch's meta device (no memory) and its shapes compared with the safetensors
    header, so weights that do not fit are refused before anything is allocated; the weights
    must be finite (a NaN or Inf tensor is refused naming the file and the tensor).
    """
    path = Path(path)
    card = read_card(path)
    if kind is not None and card.kind != kind:
        raise CheckpointError(path, f"is a {card.kind} checkpoint, not a {kind}")
    if card.arch not in builders:
        known = ", ".join(sorted(builders))
        raise CheckpointError(path, f"unknown architecture {card.arch!r} (known: {known})")
    builder = builders[card.arch]
    expected = {k: tuple(v.shape) for k, v in _build(path, card, builder, "meta").state_dict().items()}
    stored = _weights_header(path)
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if missing or extra:
        raise CheckpointError(
            path,
            f"weights do not match architecture {card.arch}: missing {missing[:3]}, unexpected {extra[:3]}",
        )
    for k, shape in expected.items():
        if stored[k] != shape:
            raise CheckpointError(
                path, f"weight {k} has shape {stored[k]}, architecture {card.arch} needs {shape}"
            )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({str(exc).splitlines()[0]})") from None
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(path, f"weight {k} has {bad} of {v.numel()} values NaN or infinite")
    model = _build(path, card, builder)
    model.load_state_dict(state)
    model.eval()
    return model, card
