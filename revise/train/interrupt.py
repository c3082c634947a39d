"""Interrupt-safe training: SIGINT or SIGTERM ends the run after the current step, with a
checkpoint of that step, and `revise train` exits 130 or 143 (128 + the signal) instead of 0.

Lightning on its own answers SIGTERM by leaving `fit` as if the run were done (exit status 0)
and SIGINT with a KeyboardInterrupt; either way the steps since the last scheduled checkpoint
were lost. A second signal stops at once, without a checkpoint (Lightning exits with status 1).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import lightning as L

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """The run stopped on a signal after saving `checkpoint` at `step`; exit with `exit_code`."""

    def __init__(self, signum: int, step: int, checkpoint: Path):
        self.exit_code = 128 + signum
        super().__init__(
            f"training stopped by {signal.Signals(signum).name} at step {step}; saved {checkpoint}: "
            "run the same command to resume."
        )


class StopOnSignal(L.Callback):
    """While entered, SIGINT and SIGTERM ask the trainer to stop after the current training step.

    `signum` is the signal received (None if none). Outside the main thread (where Python cannot
    install handlers) it does nothing.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._handle) for signum in SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # the second signal: stop now
            raise KeyboardInterrupt
        self.signum = signum

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if self.signum is not None:
            trainer.should_stop = True
