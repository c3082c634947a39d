"""What a training run shows: one progress bar over the run's steps, and Lightning's chatter folded.

Lightning's own bar counts batches per epoch and starts again at 0 on resume, with no total when
the dataset has no length and a rate measured from the wrong start; `StepBar` counts optimiser
steps against `max_steps`, names the epoch, and on resume starts at the step it resumed from.
`folded_lightning_output` silences its start-up lines (accelerators found, tips) and logs each of
its warnings as it comes, once per message, as one line without the file path.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lightning.pytorch.callbacks import TQDMProgressBar

log = logging.getLogger(__name__)

# Warnings Lightning and torch raise about themselves, not about the user's run: shown only with -v.
_ABOUT_THEMSELVES = (DeprecationWarning, FutureWarning)
_HARMLESS = ("smaller than the logging interval", "exists and is not empty", "callbacks used to create the checkpoint")


class StepBar(TQDMProgressBar):
    """The training bar as step/max_steps (epoch in its description), continued across resumes."""

    def on_train_start(self, trainer: Any, *args: Any) -> None:
        super().on_train_start(trainer, *args)
        bar = self.train_progress_bar  # a resumed run may start mid-epoch, with no epoch start
        bar.reset(total=trainer.max_steps)
        bar.initial = bar.n = trainer.global_step  # tqdm's rate counts from `initial`
        self.on_train_epoch_start(trainer)

    def on_train_epoch_start(self, trainer: Any, *_: Any) -> None:
        self.train_progress_bar.set_description(f"epoch {trainer.current_epoch}, step")
        self.train_progress_bar.refresh()

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        bar, step = self.train_progress_bar, trainer.global_step
        if bar is not None and self._should_update(step, bar.total):
            bar.n = step
            bar.set_postfix(self.get_metrics(trainer, pl_module))
            bar.refresh()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))


@contextmanager
def folded_lightning_output() -> Iterator[None]:
    """Run the block with Lightning's info lines silenced and each warning logged once, when raised."""
    lightning_log = logging.getLogger("lightning.pytorch")
    previous = lightning_log.level
    lightning_log.setLevel(logging.WARNING)
    seen: set[str] = set()

    def show(message, category, *_: Any, **__: Any) -> None:
        text = str(message).strip()
        if text not in seen:
            seen.add(text)
            quiet = issubclass(category, _ABOUT_THEMSELVES) or any(part in text for part in _HARMLESS)
            log.log(logging.DEBUG if quiet else logging.WARNING, "lightning: %s", text)

    with warnings.catch_warnings():  # restores warnings.showwarning on the way out
        warnings.simplefilter("default")
        warnings.showwarning = show
        try:
            yield
        finally:
            lightning_log.setLevel(previous)
