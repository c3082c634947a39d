"""Evaluation: `metrics` (every gap and seam figure, pure numpy), `seams` (a whole file's seam,
level and texture figures), `methods` (what the benchmark compares), `benchmark` and `report`."""
