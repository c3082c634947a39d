"""Training: `data` (tracks and excerpts), `examples` (gaps and hints), `losses`, `task` (the
LightningModule), `datamodule`, `checkpoints` (reading training checkpoints), `interrupt`
(stopping on a signal) and `run` (`revise train`). Lightning is imported only by `task`,
`datamodule`, `interrupt` and `run`."""
