""" "Retrain on my labels": the detector fine-tuned on the vetting labels, as a background job.

The work is :func:`radioviz.training.from_labels.finetune_on_labels` (what ``radioviz train
segmenter --labels`` runs); this module runs it as a :class:`~.jobs.Job` with progress and cancel, and
writes the new checkpoint among the users' models (:func:`resources.user_checkpoints`), never over
a committed one.  The Fields tab then picks the new model and scores the field again, so the list
is ranked by what the labels taught.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import param

from ..errors import InputError
from . import resources
from .jobs import Job, Outcome

#: Fine-tune steps of one retraining (``RADIOVIZ_RETRAIN_STEPS``; ≈ 30 s of one CPU core for 300).
DEFAULT_STEPS = 300


def retrain_steps() -> int:
    return max(1, int(os.environ.get("RADIOVIZ_RETRAIN_STEPS", DEFAULT_STEPS)))


def new_name(init: str) -> str:
    """``segmenter+labels-20261207-061502.safetensors``: the model it came from and when."""
    return f"{Path(init).stem.split('+')[0]}+labels-{time.strftime('%Y%m%d-%H%M%S')}.safetensors"


class Retrainer(param.Parameterized):
    """One session's retraining job: its state for the page, and the thread that does it."""

    running = param.Boolean(default=False, doc="A retraining is under way")
    progress = param.Integer(default=0, bounds=(0, 100))
    status = param.String(default="", doc="What the last retraining did, or why it did not")
    result = param.String(default="", doc="File name of the last retrained model")

    def __init__(self, **params):
        super().__init__(**params)
        self._job = Job("retrain")
        self._cancel = self._job.cancelled

    def start(self, folder: str, init: str, store, on_done: Callable[[str, dict], None]) -> None:
        """Fine-tune checkpoint ``init`` on ``store``'s labels of fields under ``folder`` (in a
        :class:`~.jobs.Job`); ``on_done(name, card)`` runs on the session's thread when the new
        model is written.  Refuses at once (``InputError``) when there is nothing to learn."""
        if self.running:
            self.status = "A retraining is already running — Stop it first."
            return
        card = resources.checkpoint_cards().get(init)
        if card is None or card.arch != "segmenter":
            raise InputError(init, "Retrain on my labels needs a detector (segmenter) model: pick one first")
        rows = [r for r in store.current() if r.label in ("halo", "not halo")]
        if not rows:
            raise InputError(store.name, "no 'halo' or 'not halo' label yet: label some candidates first")
        self.param.update(running=True, progress=0, status=f"Retraining {init} on {len(rows)} label(s)…")
        out = resources.user_checkpoints() / new_name(init)
        steps = retrain_steps()

        def work(job: Job):
            from ..training.from_labels import fields_for, finetune_on_labels

            def on_step(done: int, total: int) -> bool:
                job.report(int(100 * done / total))
                return job.cancelled.is_set()

            fs = fields_for(folder, {r.field for r in rows})
            return finetune_on_labels(
                folder,
                resources.checkpoint_path(init),
                store.path,
                out,
                steps=steps,
                labels=rows,
                fs=fs,
                on_step=on_step,
                device=resources.DEVICE,
                log=None,
                command=f"Fields tab: Retrain on my labels ({steps} steps)",
            )

        def ended(outcome: Outcome) -> None:
            from ..training.segmenter import TrainingCancelled

            err = outcome.error
            if isinstance(err, TrainingCancelled):
                self._finished(f"Retraining stopped ({err}); the model is unchanged.", "")
            elif isinstance(err, InputError):
                self._finished(f"Retraining refused — {resources.public_message(str(err))}", "")
            elif err is not None:  # shown on the page, never lost in the thread
                self._finished(f"Retraining failed — {type(err).__name__}: {err}", "")
            else:
                path, new, skipped = outcome.result
                for state in path.parent.glob(f"{path.stem}.train-state*"):  # a finished job is not resumed
                    state.unlink(missing_ok=True)
                rec = new["vetting_labels"]
                text = (
                    f"Retrained on {rec['n_used']} label(s) ({rec['halo']} halo, {rec['not_halo']} not "
                    f"halo) in {outcome.seconds:.0f} s → {path.name}"
                    + (f"; {len(skipped)} label(s) left out" if skipped else "")
                )
                self._finished(text, path.name)
                on_done(path.name, new)

        self._job.start(work, ended, lambda value: self.param.update(progress=value))

    def _finished(self, status: str, result: str) -> None:
        self.param.update(running=False, progress=100 if result else 0, status=status, result=result)

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.status = "Stopping the retraining…"
