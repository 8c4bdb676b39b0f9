"""One training run's bookkeeping, shared by the classifier, diffusion and WGAN trainers.

A :class:`Run` knows where the run writes (checkpoint, resumable state beside it), seeds torch
and NumPy, restores a saved state when resuming (and reseeds at ``seed + step`` so a resumed run
does not replay the first batches), keeps the save clock and the wall and CPU time across
resumptions, shows progress, and writes the card's common training entries.  The trainers keep
only their own loop and their own card entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..models.card import ModelCard
from ..models.checkpoint import read_card, save_checkpoint
from .generator_data import training_command
from .state import SaveClock, load_state, save_state


class Run:
    """Paths, seeding, resumption, save clock, progress and card of one training run.

    ``out=None`` is a run that saves nothing (e.g. one cross-validation fold).
    """

    def __init__(self, out: str | Path | None, seed: int, *, resume: bool = False, progress: bool = True):
        self.out = None if out is None else Path(out).with_suffix(".safetensors")
        self.seed, self.resume, self.progress = seed, resume, progress
        self.step = 0
        self.meta: dict[str, Any] = {}
        self._wall0, self._cpu0 = 0.0, 0.0
        self._t0, self._c0 = time.time(), time.process_time()
        self.clock: SaveClock | None = None
        self.device: torch.device | None = None  # where the trainer runs: recorded as ``ran_on``
        self._earlier: list[dict] = []  # the commands of the runs this one resumes
        self._started = {"command": training_command(), "from_step": 0, "date": time.strftime("%Y-%m-%d")}
        self.rng = self.reseed(0)

    # -- paths -----------------------------------------------------------------------------------

    @property
    def state_path(self) -> Path | None:
        """The resumable state beside the checkpoint (``<out>.train-state.safetensors``)."""
        return None if self.out is None else self.out.with_name(self.out.stem + ".train-state.safetensors")

    def side_path(self, suffix: str) -> Path:
        """A further state file beside the main one, e.g. ``-critic.safetensors``."""
        return self.state_path.with_name(self.state_path.stem + suffix)

    # -- seeding and resumption ------------------------------------------------------------------

    def reseed(self, offset: int = 0) -> np.random.Generator:
        """Seed torch and a fresh NumPy generator (``self.rng``) with ``seed + offset``."""
        torch.manual_seed(self.seed + offset)
        self.rng = np.random.default_rng(self.seed + offset)
        return self.rng

    def restore(
        self, opt: torch.optim.Optimizer, counter: str = "step", reseed: bool = True
    ) -> dict[str, dict[str, torch.Tensor]] | None:
        """When resuming from a saved state: Adam's moments into ``opt``, ``self.step`` from the
        state's ``counter`` entry, wall and CPU time carried on, and the saved parts (prefix →
        state dict) returned; None when starting afresh."""
        if not (self.resume and self.state_path is not None and self.state_path.exists()):
            return None
        parts, self.meta = load_state(self.state_path, opt)
        self.step = int(self.meta[counter])
        self._earlier = list(self.meta.get("commands", []))
        self._started["from_step"] = self.step
        self._wall0 = float(self.meta.get("wall_seconds", 0.0))
        self._cpu0 = float(self.meta.get("cpu_seconds", 0.0))
        self._t0, self._c0 = time.time(), time.process_time()
        if reseed:
            self.reseed(self.step)
        return parts

    def save_state(self, parts: dict[str, dict[str, torch.Tensor]], opt, **meta) -> None:
        """Write the resumable state, with the run's wall and CPU time."""
        if self.state_path is not None:
            meta = {
                **meta,
                "wall_seconds": self.wall_seconds,
                "cpu_seconds": self.cpu_seconds,
                "commands": self.commands(),
            }
            save_state(self.state_path, parts, opt, meta)

    # -- clock and progress ----------------------------------------------------------------------

    @property
    def wall_seconds(self) -> float:
        """Wall time of the run so far, over every resumption."""
        return self._wall0 + time.time() - self._t0

    @property
    def cpu_seconds(self) -> float:
        """CPU time of this process's threads so far, over every resumption."""
        return self._cpu0 + time.process_time() - self._c0

    def start_clock(self, save: Callable[[], None], every: int, total: int) -> SaveClock:
        """Save every ``every`` steps until ``total``; :meth:`tick` after each step, :meth:`finish` at
        the end (which always saves)."""
        self.clock = SaveClock(save, every, total, self._wall0)
        return self.clock

    def tick(self, step: int) -> None:
        self.step = step
        self.clock.tick(step)

    def finish(self) -> None:
        self.clock.finish()

    def bar(self, total: int, desc: str, **kw) -> tqdm:
        return tqdm(total=total, initial=self.step, desc=desc, disable=not self.progress, **kw)

    # -- card ------------------------------------------------------------------------------------

    def commands(self) -> list[dict]:
        """Every command of this run, the first and each resumption: {command, from_step, date}
        (a card's ``command`` alone names only the last one)."""
        return [*self._earlier, self._started]

    def training_record(self, cfg, **entries) -> dict[str, Any]:
        """The card's ``training`` entry: the config, the trainer's ``entries``, and what every
        run records (wall and CPU time, torch threads, the command line and every earlier one of a
        resumed run, and ``ran_on``: the device the trainer set, "cpu" or the GPU's name — the
        config's ``device`` is what was asked)."""
        from ..models.device import device_name

        return {
            **(asdict(cfg) if cfg is not None else {}),
            **entries,
            "wall_seconds": round(self.wall_seconds, 1),
            "cpu_hours": round(self.cpu_seconds / 3600, 5),
            "command": training_command(),
            "commands": self.commands(),
            "torch_threads": torch.get_num_threads(),
            **({"ran_on": device_name(self.device)} if self.device is not None else {}),
        }

    def write(self, model: torch.nn.Module, card: ModelCard | dict) -> Path:
        """The checkpoint and its (validated) card."""
        return save_checkpoint(model, self.out, card)

    def card(self) -> ModelCard:
        """The card as written."""
        return read_card(self.out)
