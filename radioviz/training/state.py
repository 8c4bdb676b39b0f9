"""Resumable training state without pickle: named state dicts and Adam's moments in one
safetensors file, everything else (step counters, history) in a JSON file beside it.

Saved from the CPU and read onto the CPU (moments then moved to their parameter's device), so a
run started on a GPU resumes on a CPU and the other way round."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def save_state(
    path: Path, parts: dict[str, dict[str, torch.Tensor]], opt: torch.optim.Optimizer, meta: dict
) -> None:
    """Write ``parts`` (prefix -> state dict), the optimiser's Adam moments and ``meta``."""
    tensors = {
        f"{prefix}.{k}": v.detach().contiguous().cpu() for prefix, sd in parts.items() for k, v in sd.items()
    }
    steps = []
    for i, p in enumerate(p for g in opt.param_groups for p in g["params"]):
        st = opt.state.get(p, {})
        steps.append(float(st.get("step", 0)))
        for name in ("exp_avg", "exp_avg_sq"):
            if name in st:
                tensors[f"opt.{i}.{name}"] = st[name].contiguous().cpu()
    save_file(tensors, str(path))
    Path(path).with_suffix(".json").write_text(json.dumps({**meta, "opt_steps": steps}))


def load_state(path: Path, opt: torch.optim.Optimizer) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """Restore Adam's moments into ``opt`` (on each parameter's device); return (prefix -> state
    dict on the CPU, which ``load_state_dict`` copies to the model's device, meta)."""
    t = load_file(str(path))
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    for i, p in enumerate(p for g in opt.param_groups for p in g["params"]):
        if f"opt.{i}.exp_avg" in t:
            opt.state[p] = {
                "step": torch.tensor(meta["opt_steps"][i]),
                "exp_avg": t[f"opt.{i}.exp_avg"].to(p.device),
                "exp_avg_sq": t[f"opt.{i}.exp_avg_sq"].to(p.device),
            }
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for k, v in t.items():
        prefix, _, name = k.partition(".")
        if prefix != "opt":
            parts.setdefault(prefix, {})[name] = v
    return parts, meta


class SaveClock:
    """Wall-clock accounting and periodic saving shared by the training loops: ``tick(i)`` after
    step i saves every ``every`` steps (not the last, which ``finish`` saves)."""

    def __init__(self, save, every: int, total: int, wall: float = 0.0):
        self.save, self.every, self.total, self.wall = save, every, total, wall
        self._t0 = time.time()

    def _flush(self):
        now = time.time()
        self.wall, self._t0 = self.wall + now - self._t0, now
        self.save()

    def tick(self, i: int) -> None:
        if i % self.every == 0 and i < self.total:
            self._flush()

    def finish(self) -> None:
        self._flush()
