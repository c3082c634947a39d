"""A batch on a Dask distributed cluster (the optional extra `revise[distributed]`).

Each file is one task running `revise.batch.repair_job` on a worker; a worker loads the model once
(`revise.batch.loaded_model` is cached per process) and keeps it for every file it is given. The
workers read the inputs and write the outputs at the paths the jobs name, so the cluster needs
those paths on a shared filesystem, and revise installed in each worker's environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from revise.batch import FileResult, Job, Settings, repair_job

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10


def repair_on_dask(todo: Sequence[Job], settings: Settings, scheduler: str,
                   on_result: Callable[[FileResult], None]) -> None:
    """Repair `todo` on the Dask cluster whose scheduler is at `scheduler` (e.g. tcp://host:8786), calling
    `on_result` as each file finishes. On Ctrl-C the tasks not started are cancelled; a task running on a
    worker cannot be stopped and finishes there (its output is written whole, and a rerun skips it)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError("--scheduler needs Dask: pip install 'revise[distributed]'.") from None
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as error:  # TimeoutError is an OSError
        raise ValueError(f"could not reach the Dask scheduler at {scheduler} ({error}); check the address and that "
                         "the scheduler is running.") from None
    try:
        log.info("running %d file(s) on %s", len(todo), client.dashboard_link or scheduler)
        # pure=False: two runs of one job must both run (a rerun after --force), not share a cached result
        futures = client.map(repair_job, list(todo), settings=settings, pure=False)
        try:
            for future in as_completed(futures):
                on_result(future.result())
        finally:
            client.cancel(futures)
    finally:
        client.close()
