""" "Retrain on my labels": the detector fine-tuned on the vetting labels, as a background job.

The work is :func:`radioviz.training.from_labels.finetune_on_labels` (what ``radioviz train
segmenter --labels`` runs); this module runs it on a worker thread with progress and cancel, and
writes the new checkpoint among the users' models (:func:`resources.user_checkpoints`), never over
a committed one.  The Fields tab then picks the new model and scores the field again, so the list
is ranked by what the labels taught.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import param

from ..errors import InputError
from . import resources

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
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(
        self,
        folder: str,
        init: str,
        store,
        hand_back: Callable[[Callable, tuple], None],
        on_done: Callable[[str, dict], None],
    ) -> None:
        """Fine-tune checkpoint ``init`` on ``store``'s labels of fields under ``folder``.

        ``hand_back(fn, args)`` runs ``fn(*args)`` on the session's thread (page changes may happen
        only there); ``on_done(name, card)`` is handed back when the new model is written.
        """
        if self.running:
            self.status = "A retraining is already running — Stop it first."
            return
        card = resources.checkpoint_cards().get(init)
        if card is None or card.arch != "segmenter":
            raise InputError(init, "Retrain on my labels needs a detector (segmenter) model: pick one first")
        rows = [r for r in store.current() if r.label in ("halo", "not halo")]
        if not rows:
            raise InputError(store.name, "no 'halo' or 'not halo' label yet: label some candidates first")
        self._cancel.clear()
        self.param.update(running=True, progress=0, status=f"Retraining {init} on {len(rows)} label(s)…")
        out = resources.user_checkpoints() / new_name(init)
        steps = retrain_steps()
        last = [0.0]

        def on_step(done: int, total: int) -> bool:
            if time.perf_counter() - last[0] > 0.25 or done == total:
                last[0] = time.perf_counter()
                hand_back(self.param.update, ({"progress": int(100 * done / total)},))
            return self._cancel.is_set()

        def work() -> None:
            from ..training.from_labels import fields_for, finetune_on_labels
            from ..training.segmenter import TrainingCancelled

            t0 = time.perf_counter()
            try:
                fs = fields_for(folder, {r.field for r in rows})
                path, new, skipped = finetune_on_labels(
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
            except TrainingCancelled as exc:
                hand_back(self._finished, (f"Retraining stopped ({exc}); the model is unchanged.", ""))
                return
            except InputError as exc:
                hand_back(self._finished, (f"Retraining refused — {resources.public_message(str(exc))}", ""))
                return
            except Exception as exc:  # shown on the page, never lost in the thread
                hand_back(self._finished, (f"Retraining failed — {type(exc).__name__}: {exc}", ""))
                return
            for state in path.parent.glob(f"{path.stem}.train-state*"):  # a finished job is not resumed
                state.unlink(missing_ok=True)
            rec = new["vetting_labels"]
            text = (
                f"Retrained on {rec['n_used']} label(s) ({rec['halo']} halo, {rec['not_halo']} not halo) in "
                f"{time.perf_counter() - t0:.0f} s → {path.name}"
                + (f"; {len(skipped)} label(s) left out" if skipped else "")
            )
            hand_back(self._finished, (text, path.name))
            hand_back(on_done, (path.name, new))

        self._thread = threading.Thread(target=work, daemon=True, name="retrain")
        self._thread.start()

    def _finished(self, status: str, result: str) -> None:
        self.param.update(running=False, progress=100 if result else 0, status=status, result=result)

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.status = "Stopping the retraining…"
