"""Where a network runs: one rule for every trainer, sampler and scorer (``--device auto|cpu|cuda``).

Checkpoints are always read on the CPU (safetensors, never unpickled) and then moved with
:func:`place`; inference code moves its inputs to :func:`model_device` and brings outputs back
with ``.cpu()`` before NumPy, so the same command runs unchanged on a machine with or without CUDA.
"""

from __future__ import annotations

import itertools

import torch

from ..errors import DeviceError
from ..validate import DEVICES

__all__ = ["DEVICES", "device_name", "model_device", "place", "resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto``: CUDA when this machine has it, else the CPU; ``cuda`` without CUDA is refused
    (a :class:`~radioviz.errors.DeviceError`: the CLI prints it as one line)."""
    if isinstance(device, torch.device):
        return resolve_device(device.type) if device.index is None else device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA device on this machine (use auto or cpu)")
    if device not in ("cpu", "cuda"):
        raise DeviceError(f"--device {device!r}: choose auto, cpu or cuda")
    return torch.device(device)


def device_name(device: str | torch.device) -> str:
    """What a card records: "cpu" or the GPU's name."""
    device = resolve_device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def place(model, device: str | torch.device = "cpu"):
    """``model`` (loaded on the CPU) moved to the resolved ``device``: the one line every loader
    uses.  Anything with ``.to(device)`` works (a network, a :class:`~radioviz.models.segmenter.Detector`)."""
    return model.to(resolve_device(device))


def model_device(model) -> torch.device:
    """Where a network's weights are, so its inputs can be moved there (the CPU for one without any)."""
    net = getattr(model, "net", model)  # a Detector holds its network
    if not isinstance(net, torch.nn.Module):  # a plain function as denoiser (tests, analytic models)
        return torch.device("cpu")
    first = next(itertools.chain(net.parameters(), net.buffers()), None)
    return torch.device("cpu") if first is None else first.device
