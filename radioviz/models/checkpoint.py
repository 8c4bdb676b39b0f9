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
    if not isinstance(card, dict):
        raise CheckpointError(cp, f"model card is a JSON {type(card).__name__}, not an object")
    for key in ("kind", "arch", "kwargs"):
        if key not in card:
            raise CheckpointError(cp, f"model card lacks '{key}'")
    for key, kind in (("kind", str), ("arch", str), ("kwargs", dict)):
        if not isinstance(card[key], kind):
            need = "an object" if kind is dict else "a string"
            raise CheckpointError(cp, f"model card field '{key}' must be {need}, not {card[key]!r:.60}")
    return card


def _weights_header(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{name: (shape, dtype)}`` from the safetensors header alone (no tensor is read)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            out = {}
            for k in f.keys():
                sl = f.get_slice(k)
                out[k] = (tuple(sl.get_shape()), str(sl.get_dtype()))
            return out
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({str(exc).splitlines()[0]})") from None


def _build(path: Path, card: dict, builder: Callable[..., torch.nn.Module], device: str | None = None):
    """The architecture of ``card``; a card whose arguments the builder rejects is the card's fault."""
    try:
        if device is None:
            return builder(**card["kwargs"])
        with torch.device(device):
            return builder(**card["kwargs"])
    except (
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        AttributeError,
        ZeroDivisionError,
        RuntimeError,
    ) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(
            card_path(path), f"model card kwargs do not build architecture {card['arch']} ({msg})"
        ) from None


def load_checkpoint(
    path: str | Path, builders: dict[str, Callable[..., torch.nn.Module]], kind: str | None = None
) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model its card describes and load the weights into it (eval mode).

    The card's architecture is first built on PyTorch's meta device (no memory) and its shapes
    compared with the safetensors header, so a card claiming a huge network is refused before
    anything is allocated; the weights must then be finite.
    """
    path = Path(path)
    card = read_card(path)
    if kind is not None and card["kind"] != kind:
        raise CheckpointError(path, f"is a {card['kind']} checkpoint, not a {kind}")
    if card["arch"] not in builders:
        raise CheckpointError(
            path, f"unknown architecture {card['arch']!r} (known: {', '.join(sorted(builders))})"
        )
    builder = builders[card["arch"]]
    stored = _weights_header(path)
    expected = {k: tuple(v.shape) for k, v in _build(path, card, builder, "meta").state_dict().items()}
    _compare(path, card, expected, {k: v[0] for k, v in stored.items()})
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


def _compare(path: Path, card: dict, expected: dict, stored: dict) -> None:
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if missing or extra:
        raise CheckpointError(
            path,
            f"weights do not match architecture {card['arch']}: missing {missing[:3]}, unexpected {extra[:3]}",
        )
    for k, shape in expected.items():
        if tuple(stored[k]) != tuple(shape):
            raise CheckpointError(
                path,
                f"weight {k} has shape {tuple(stored[k])}, architecture {card['arch']} needs {tuple(shape)}",
            )
