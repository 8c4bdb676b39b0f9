"""Checkpoints: weights as safetensors, everything else in a JSON model card beside them.

Loading never unpickles.  The card names the architecture and its constructor arguments; the
model is rebuilt from them and the weights must match its state dict key for key and shape for
shape, else a :class:`CheckpointError` says what differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import InputError

CARD_VERSION = 1


class CheckpointError(InputError):
    """A checkpoint or its card is missing, unreadable, or does not match its architecture."""


def card_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def save_checkpoint(model: torch.nn.Module, path: str | Path, card: dict[str, Any]) -> Path:
    """Write ``path`` (.safetensors) and its card (.json); the card must hold kind/arch/kwargs."""
    path = Path(path).with_suffix(".safetensors")
    for key in ("kind", "arch", "kwargs"):
        if key not in card:
            raise ValueError(f"model card needs '{key}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    full = {"card_version": CARD_VERSION, **card, "parameters": sum(v.numel() for v in state.values())}
    card_path(path).write_text(json.dumps(full, indent=2, sort_keys=True, default=str))
    return path


def read_card(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    cp = card_path(path)
    if not path.exists():
        raise CheckpointError(path, "checkpoint file does not exist")
    if not cp.exists():
        raise CheckpointError(path, f"model card {cp.name} is missing")
    try:
        card = json.loads(cp.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(cp, f"model card is not valid JSON ({exc})") from None
    for key in ("kind", "arch", "kwargs"):
        if key not in card:
            raise CheckpointError(cp, f"model card lacks '{key}'")
    return card


def load_checkpoint(
    path: str | Path, builders: dict[str, Callable[..., torch.nn.Module]], kind: str | None = None
) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model its card describes and load the weights into it (eval mode)."""
    path = Path(path)
    card = read_card(path)
    if kind is not None and card["kind"] != kind:
        raise CheckpointError(path, f"is a {card['kind']} checkpoint, not a {kind}")
    if card["arch"] not in builders:
        raise CheckpointError(
            path, f"unknown architecture {card['arch']!r} (known: {', '.join(sorted(builders))})"
        )
    model = builders[card["arch"]](**card["kwargs"])
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({str(exc).splitlines()[0]})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(
            path,
            f"weights do not match architecture {card['arch']}: missing {missing[:3]}, unexpected {extra[:3]}",
        )
    for k, v in expected.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise CheckpointError(
                path,
                f"weight {k} has shape {tuple(state[k].shape)}, architecture {card['arch']} needs {tuple(v.shape)}",
            )
    model.load_state_dict(state)
    model.eval()
    return model, card
