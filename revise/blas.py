"""One BLAS thread for the small products of the networks and of Burg's recursion.

Both run thousands of small vector or matrix products in a Python loop. A second BLAS thread
costs more than it gives there, and far more when the other core is busy (OpenBLAS splits a dot
product of more than about 10 000 samples over threads, and a Burg fit on such segments took
9.5 s instead of 0.2 s beside another job; a GRU direction 9 ms instead of 1 ms). threadpoolctl
sets the limit for the duration of a block and restores it, for about 8 us. The limit is the
process's: with several threads filling at once (a Dask worker with --nthreads above 1) one may
restore another's setting, which costs speed, never correctness.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """A context in which the BLAS libraries use one thread."""
    return _controller().limit(limits=1, user_api="blas")
