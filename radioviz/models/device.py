"""Where a network runs: one rule for every trainer, sampler and scorer (``--device auto|cpu|cuda``)."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA when this machine has it, else the CPU; ``cuda`` without CUDA is refused."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device on this machine (use auto or cpu)")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"--device {device!r}: choose auto, cpu or cuda")
    return torch.device(device)


def device_name(device: torch.device) -> str:
    """What a card records: "cpu" or the GPU's name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"
